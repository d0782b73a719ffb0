"""Uploads: the peak memory of a gunicorn worker taking a 20 MB submission.

    .venv/bin/python bench/upload_memory.py [--size-mb 20] [--rounds 3]

One sync worker (gunicorn -w 1, otherwise deploy/gunicorn.conf.py), the size limits raised to
let a 20 MB file in (MAX_FILE_SIZE 25 MB, MAX_TOTAL_SIZE 26 MB, MAX_CONTENT_LENGTH 32 MB), all
paths in a temporary folder on disk. The evidence is an MP4 (an ftyp box and filler: accepted
without decoding anything). Before each request the worker's peak is reset (5 into
/proc/PID/clear_refs), then VmHWM is read from /proc/PID/status afterwards: the growth over
the RSS before the request is what the request cost. Both steps that hold the file are
measured: POST /complaint (receiving it: multipart parsing, checks, the draft on disk) and
POST /complaint/send (the email with the file base64-encoded, spooled).
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, free_port, median, print_machine, table, wait_for_port  # noqa: E402
from form_server import VENV_BIN, server_env, stop  # noqa: E402
from loadgen import ANSWERS, HIDDEN, SEND_TOKEN, Client, multipart  # noqa: E402
from media import make_mp4  # noqa: E402

MB = 1024 * 1024


def status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def worker_of(master: int) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(f"/proc/{master}/task/{master}/children") as f:
            found = f.read().split()
        if found:
            return int(found[0])
        time.sleep(0.05)
    raise RuntimeError("no gunicorn worker")


def measured(pid: int, action) -> tuple[int, int, float, object]:
    """(RSS before, peak during, seconds, result) of one request, in KiB."""
    before = status_kib(pid, "VmRSS")
    reset_peak(pid)
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    return before, status_kib(pid, "VmHWM"), seconds, result


def one_round(port: int, pid: int, files: list, size: int) -> list[list]:
    client = Client(port, 120)
    _, _, page, _ = client.request("GET", "/complaint")
    hidden = dict(HIDDEN.findall(page.decode()))
    body, ctype = multipart({**ANSWERS, **hidden}, files)
    before, peak, secs, response = measured(
        pid, lambda: client.request("POST", "/complaint", body, ctype))
    if response[0] != 303:
        raise RuntimeError(f"POST /complaint: {response[0]} {response[2][:300]!r}")
    rows = [["POST /complaint (receive)", before, peak, secs]]
    _, _, review, _ = client.request("GET", "/complaint/review")
    token = SEND_TOKEN.search(review.decode()).group(1)
    send = urlencode({"csrf_token": token}).encode()
    before, peak, secs, response = measured(
        pid, lambda: client.request("POST", "/complaint/send", send,
                                    "application/x-www-form-urlencoded"))
    if response[0] != 303:
        raise RuntimeError(f"POST /complaint/send: {response[0]} {response[2][:300]!r}")
    rows.append(["POST /complaint/send (email, spool)", before, peak, secs])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", type=Path, default=Path("/var/tmp"))
    args = parser.parse_args()
    print_machine()
    work = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=args.base))
    size = int(args.size_mb * MB)
    server = None
    try:
        video = make_mp4(work / "evidence.mp4", size)
        files = [("evidence", "evidence.mp4", "video/mp4", video.read_bytes())]
        env = server_env(work, None, {
            "FORMSERVER_SECRET_KEY": "bench-" + "0" * 40,
            "FORMSERVER_MAX_FILE_SIZE": str(25 * MB),
            "FORMSERVER_MAX_TOTAL_SIZE": str(26 * MB),
            "FORMSERVER_MAX_CONTENT_LENGTH": str(32 * MB),
        })
        port = free_port()
        log = work / "gunicorn.log"
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "-w", "1", "--timeout", "120",
             "formserver:create_app()"], cwd=ROOT, env=env, stdout=log.open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(port, timeout=30)
        pid = worker_of(server.pid)
        one_round(port, pid, [], 0)  # warm-up without a file: imports, templates
        print(f"worker {pid}: VmRSS {status_kib(pid, 'VmRSS') / 1024:.0f} MiB after a "
              f"submission without files", flush=True)
        collected: dict[str, list] = {}
        for round_ in range(args.rounds):
            for step, before, peak, secs in one_round(port, pid, files, size):
                collected.setdefault(step, []).append((before, peak, secs))
                print(f"  round {round_ + 1}: {step}: RSS before {before / 1024:.0f} MiB, "
                      f"peak {peak / 1024:.0f} MiB, {secs:.2f} s", flush=True)
        if re.search(r"\b(Worker|WORKER) (timeout|was sent)", log.read_text()):
            print("note: gunicorn restarted its worker (see its log)")
    finally:
        if server:
            stop(server, signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    upload = size / MB
    for step, values in collected.items():
        before = median(v[0] for v in values) / 1024
        peak = median(v[1] for v in values) / 1024
        growth = median(v[1] - v[0] for v in values) / 1024
        rows.append([step, len(values), f"{before:.0f}", f"{peak:.0f}", f"{growth:.0f}",
                     f"{growth / upload:.2f}×", f"{peak / upload:.2f}×",
                     f"{median(v[2] for v in values):.2f}"])
    table(["request", "rounds", "RSS before MiB", "peak MiB", "growth MiB",
           "growth ÷ upload", "peak ÷ upload", "s"], rows,
          f"One sync worker taking a {upload:.0f} MiB MP4")
    worst = max(median(v[1] - v[0] for v in values) / 1024 for values in collected.values())
    print(f"target: under 3× the upload ({3 * upload:.0f} MiB) of growth: worst step "
          f"{worst:.0f} MiB = {worst / upload:.2f}× -> {'met' if worst < 3 * upload else 'missed'}")
    print_machine()
    return 0


if __name__ == "__main__":
    sys.exit(main())
