"""Uploads: a worker's peak memory and time for a 100 MB phone video, at every step.

    .venv/bin/python bench/upload_memory.py [--size-mb 100] [--rounds 3]

One sync gunicorn worker (-w 1 --timeout 120, otherwise deploy/gunicorn.conf.py) with the
default limits (100 MB a file), an aiosmtpd sink on 127.0.0.1, every path in a temporary folder
on disk. The evidence is a real H.264 + AAC MP4 made by FFmpeg through PyAV
(tests/crafted.phone_video: 60 s at 30 pictures a second, with a title, a time and a location),
with a small voice note beside it; the form remuxes both. Before each step the process's peak
is reset (5 into /proc/PID/clear_refs), then VmHWM is read: its growth over the RSS before the
step is what the step cost. The steps:

    receive    POST /complaint: multipart into anonymous files, checks, remux, sealed draft
    review     GET /complaint/review
    send       POST /complaint/send: every file sealed into the case, the email spooled
               (the voice note attached, the video linked)
    deliver    deliver_once() in a process of its own, as `flask --app formserver deliver` runs
    download   GET /case/file?token=T&n=1, the whole video
    range      the same with a Range of 1 MB from the middle (a clerk scrubbing)

and, for the largest email the office gets, send and deliver of three 2.1 MiB clips, all
attached (8.6 MB encoded, just under MAIL_MAX_BYTES).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, free_port, median, print_machine, table, wait_for_port  # noqa: E402
from crafted import clip, phone_video  # noqa: E402
from form_server import VENV_BIN, bench_env, stop  # noqa: E402
from helpers import multipart, send_form_fields  # noqa: E402
from loadgen import ANSWERS, HIDDEN, Client  # noqa: E402
from smtp_sink import start_sink  # noqa: E402

MB = 1024 * 1024


def status_kib(pid: int | str, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def worker_of(master: int) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(f"/proc/{master}/task/{master}/children") as f:
            found = f.read().split()
        if found:
            return int(found[0])
        time.sleep(0.05)
    raise RuntimeError("no gunicorn worker")


def measured(pid: int | str, action) -> tuple[int, int, float, object]:
    """(RSS before, peak during, seconds, result) of one step, in KiB."""
    before = status_kib(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    return before, status_kib(pid, "VmHWM"), seconds, result


def expect(status: int, response, step: str):
    if response[0] != status:
        errors = re.findall(rb'class="error-message"[^>]*>(?:<span[^>]*>[^<]*</span>)?([^<]+)',
                            response[2])
        raise RuntimeError(f"{step}: {response[0]} {[e.decode() for e in errors]}")
    return response


def deliver_in_child(env: dict) -> tuple[int, int, float]:
    """deliver_once() in a fresh process: (RSS before, peak, seconds) of that call."""
    result = subprocess.run([sys.executable, __file__, "--deliver"], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return tuple(json.loads(result.stdout.strip().splitlines()[-1]))


def deliver_child() -> None:
    from formserver import create_app, delivery

    app = create_app()
    before, peak, seconds, outcome = measured("self", lambda: delivery.deliver_once(app.config))
    if not outcome.sent:
        raise SystemExit(f"nothing delivered: {outcome}")
    print(json.dumps([before, peak, seconds]))


def case_file_path(env: dict, reference: str) -> str:
    """A fresh case link from the CLI (as `flask --app formserver cases link REF` prints)."""
    result = subprocess.run([str(VENV_BIN / "flask"), "--app", "formserver", "cases", "link",
                             reference], env=env, cwd=ROOT, capture_output=True, text=True,
                            check=True)
    url = urlsplit(re.search(r"https?://\S+", result.stdout).group(0))
    return f"/case/file?{url.query}&n=1"


def one_round(port: int, pid: int, env: dict, files: list) -> list[list]:
    """Every step of one complaint with these files: [step, RSS before, peak, seconds]."""
    client = Client(port, 300)
    page = expect(200, client.request("GET", "/complaint"), "GET /complaint")[2].decode()
    body, ctype = multipart({**ANSWERS, **dict(HIDDEN.findall(page)), "email": ""}, files)
    rows = []

    def step(name, action, status, worker=pid):
        before, peak, secs, response = measured(worker, action)
        rows.append([name, before, peak, secs])
        return expect(status, response, name)

    step("receive: POST /complaint", lambda: client.request("POST", "/complaint", body, ctype),
         303)
    review = step("review: GET /complaint/review",
                  lambda: client.request("GET", "/complaint/review"), 200)[2].decode()
    send = "&".join(f"{k}={v}" for k, v in send_form_fields(review).items()).encode()
    step("send: POST /complaint/send", lambda: client.request(
        "POST", "/complaint/send", send, "application/x-www-form-urlencoded"), 303)
    sent = expect(200, client.request("GET", "/complaint/sent"), "GET /complaint/sent")[2]
    reference = re.search(rb'id="reference">([^<]+)<', sent).group(1).decode().strip()
    before, peak, secs = deliver_in_child(env)
    rows.append(["deliver: deliver_once() (own process)", before, peak, secs])
    path = case_file_path(env, reference)
    whole = step("download: GET /case/file (whole)",
                 lambda: Client(port, 300).request("GET", path), 200)[2]
    print(f"  downloaded {len(whole) / MB:.1f} MiB", flush=True)
    middle = len(whole) // 2
    step("range: GET /case/file, 1 MB from the middle",
         lambda: range_request(port, path, middle, min(len(whole), middle + MB) - 1), 206)
    return rows


def range_request(port: int, path: str, first: int, last: int):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("GET", path, headers={"Range": f"bytes={first}-{last}"})
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read(), 0.0
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=100)  # MiB: MAX_FILE_SIZE itself
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", type=Path, default=Path("/var/tmp"))
    parser.add_argument("--deliver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.deliver:
        deliver_child()
        return 0
    print_machine()
    work = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=args.base))
    server = sink = None
    try:
        started = time.perf_counter()
        video = phone_video(work / "IMG_0042.MP4", int(args.size_mb * MB), seconds=60)
        voice = clip(work, "m4a", seconds=20)
        print(f"made a {video.stat().st_size / MB:.1f} MiB video in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        files = [("evidence", "IMG_0042.MP4", "video/mp4", video.read_bytes()),
                 ("evidence", "voice.m4a", "audio/mp4", voice.read_bytes())]
        # The largest email: three 2.1 MiB clips, all attached (8.6 MB, under MAIL_MAX_BYTES).
        short = phone_video(work / "short.mp4", int(2.1 * MB), seconds=5).read_bytes()
        full_email = [("evidence", f"clip-{n}.mp4", "video/mp4", short) for n in (1, 2, 3)]
        sink = start_sink()
        env = bench_env(work, sink.port)
        port = free_port()
        log = work / "gunicorn.log"
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "-w", "1", "--timeout", "120",
             "formserver:create_app()"], cwd=ROOT, env=env, stdout=log.open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(port, timeout=30)
        pid = worker_of(server.pid)
        one_round(port, pid, env, files[1:])  # warm-up with the voice note: imports, templates
        print(f"worker {pid}: VmRSS {status_kib(pid, 'VmRSS') / 1024:.0f} MiB after a "
              f"warm-up complaint", flush=True)
        collected: dict[str, list] = {}
        for round_ in range(args.rounds):
            for label, chosen in (("", files), (" [3 clips attached]", full_email)):
                for name, before, peak, secs in one_round(port, pid, env, chosen):
                    if label and not name.startswith(("send", "deliver")):
                        continue
                    collected.setdefault(name + label, []).append((before, peak, secs))
                    print(f"  round {round_ + 1}: {name}{label}: RSS before "
                          f"{before / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, {secs:.2f} s",
                          flush=True)
        if re.search(r"\b(Worker|WORKER) (timeout|was sent)", log.read_text()):
            print("note: gunicorn restarted its worker (see its log)")
    finally:
        if server:
            stop(server, signal.SIGTERM)
        if sink:
            sink.stop()
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    for name, values in collected.items():
        growth = median(v[1] - v[0] for v in values) / 1024
        rows.append([name, len(values), f"{median(v[0] for v in values) / 1024:.0f}",
                     f"{median(v[1] for v in values) / 1024:.0f}", f"{growth:.1f}",
                     f"{median(v[2] for v in values):.2f}"])
    table(["step", "rounds", "RSS before MiB", "peak MiB", "growth MiB", "s"], rows,
          f"A {args.size_mb:.0f} MiB video and a voice note (and, marked, the largest email: "
          "three 2.1 MiB clips attached), one sync worker")
    worst = max(median(v[1] - v[0] for v in values) / 1024 for values in collected.values())
    print(f"target: under 32 MiB of growth at every step: worst {worst:.1f} MiB -> "
          f"{'met' if worst < 32 else 'missed'}")
    print_machine()
    return 0


if __name__ == "__main__":
    sys.exit(main())
