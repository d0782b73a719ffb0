"""Delivery: 1,000 spooled complaints to a local aiosmtpd, against one smtplib connection.

    .venv/bin/python bench/delivery.py [--messages 1000] [--rounds 3]

Each round spools 1,000 real complaint emails (formserver.messages.build_message, through
formserver.spool.spool_message: fsynced, on disk) and times, each in a fresh child process:

    deliverer   formserver.delivery.deliver_once: what `flask --app formserver deliver` runs
                (one SMTP connection a round, statistics written once a round)
    reuse       spool.deliver_due with this script's own one-connection send() and no
                statistics: the spool's own cost, for comparison
    floor       a plain smtplib loop over one connection sending the same 1,000 messages,
                already in memory (no spool, no files)

Memory is the child's VmHWM (a single process each): after creating the app, and at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import PYTHON, ROOT, median, mib, print_machine, table  # noqa: E402
from helpers import app_config  # noqa: E402


def config_for(folder: Path, smtp_port: int) -> dict:
    return app_config(folder, smtp_port, folder, SMTP_TIMEOUT=30, SERVE_SITE=False)


def make_messages(n: int) -> list[tuple[str, bytes]]:
    from formserver import create_app
    from formserver.complaint import Complaint
    from formserver.messages import build_message
    from formserver.vocabulary import new_reference
    from formserver.workdays import local_now, next_working_day

    folder = Path(tempfile.mkdtemp())
    try:
        app = create_app(config_for(folder, 25))
        with app.app_context():
            now = local_now("HK")
            messages = []
            for i in range(n):
                complaint = Complaint(
                    reference=new_reference(now), submitted_at=now,
                    reply_due=next_working_day(now.date(), "HK"), recipient="office",
                    category="facilities", name="陳大文", unit="第3座 12樓 B室",
                    phone="9123 4567", email="chan.taiman@example.com",
                    subject=f"第3座升降機經常停用（{i}）",
                    description="本月第3座兩部升降機經常停用，住戶要走樓梯。" * 8,
                    occurred_at=now.replace(tzinfo=None, microsecond=0), location="第3座大堂",
                    impact="長者上落不便。", expected_resolution="一星期內修妥並公布維修時間。")
                messages.append((f"{complaint.reference}-{i:04d}",
                                 build_message(complaint, app.config).as_bytes()))
        return messages
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def status_kib(key: str) -> int:
    """From /proc/self/status; not ru_maxrss, which in a child started from a big parent
    holds the parent's peak (Linux records the old memory's high-water mark at exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def child(mode: str, folder: Path, port: int) -> None:
    """Run in a fresh process: deliver (or send) everything, print seconds and peak memory."""
    from formserver import create_app, spool
    from formserver.delivery import deliver_once
    from formserver.senders import envelope

    config = config_for(folder, port)
    app = create_app(config)
    config = app.config
    before = status_kib("VmHWM")
    if mode == "floor":
        messages = [p.read_bytes() for p in sorted((folder / "spool" / "new").glob("*.eml"))]
        for p in (folder / "spool" / "new").glob("*.eml"):
            p.unlink()
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for data in messages:
                sender, recipients = envelope(data)
                smtp.sendmail(sender, recipients, data)
        sent = len(messages)
    elif mode == "reuse":
        connection: list[smtplib.SMTP] = []

        def send(data: bytes) -> None:
            if not connection:
                connection.append(smtplib.SMTP("127.0.0.1", port, timeout=30))
            sender, recipients = envelope(data)
            connection[0].sendmail(sender, recipients, data)

        start = time.perf_counter()
        result = spool.deliver_due(Path(config["SPOOL_DIR"]), send,
                                   delays=config["RETRY_DELAYS"], give_up_after=86400)
        if connection:
            connection[0].quit()
        sent = len(result.sent)
    else:
        start = time.perf_counter()
        result = deliver_once(config)
        sent = len(result.sent)
    elapsed = time.perf_counter() - start
    peak = status_kib("VmHWM")
    print(json.dumps({"sent": sent, "seconds": elapsed, "max_rss": peak,
                      "max_rss_before": before}))


def run_child(mode: str, folder: Path, port: int) -> dict:
    done = subprocess.run([PYTHON, __file__, "--child", mode, "--folder", str(folder),
                           "--port", str(port)], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", type=Path, default=Path("/var/tmp"))
    parser.add_argument("--child", choices=["deliver", "reuse", "floor"])
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder, args.port)
        return 0

    from smtp_sink import start_sink

    from formserver import spool

    print_machine()
    messages = make_messages(args.messages)
    sizes = [len(m) for _, m in messages]
    print(f"{len(messages)} messages, {median(sizes) / 1024:.1f} KiB each (median)", flush=True)
    sink = start_sink()
    work = Path(tempfile.mkdtemp(prefix="bench-delivery-", dir=args.base))
    results: dict[str, list] = {"deliverer": [], "reuse": [], "floor": []}
    modes = {"deliverer": "deliver", "reuse": "reuse", "floor": "floor"}
    try:
        for round_ in range(args.rounds):
            names = list(results)
            names = names[round_ % 3:] + names[: round_ % 3]
            for name in names:
                folder = work / f"{name}-{round_}"
                t = time.perf_counter()
                for key, data in messages:
                    spool.spool_message(folder / "spool", key, data)
                spooling = time.perf_counter() - t
                before = sink.handler.messages
                r = run_child(modes[name], folder, sink.port)
                received = sink.handler.messages - before
                if r["sent"] != len(messages) or received != len(messages):
                    raise RuntimeError(f"{name}: sent {r['sent']}, received {received}")
                r["spooling"] = spooling
                results[name].append(r)
                print(f"  round {round_ + 1}: {name}: {r['seconds']:.2f} s "
                      f"({len(messages) / r['seconds']:.0f}/s), spooling took {spooling:.1f} s",
                      flush=True)
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)

    floor = median(r["seconds"] for r in results["floor"])
    rows = []
    for name, runs in results.items():
        secs = median(r["seconds"] for r in runs)
        rows.append([name, len(runs), f"{secs:.2f}", f"{len(messages) / secs:.0f}",
                     f"{secs / floor:.2f}", f"{mib(median(r['max_rss'] for r in runs)):.0f}",
                     f"{mib(median(r['max_rss_before'] for r in runs)):.0f}"])
    table(["sender", "rounds", "median s", "messages/s", "× floor", "peak RSS MiB",
           "peak before sending MiB"], rows,
          f"Delivery of {len(messages)} messages to a local aiosmtpd")
    spooled = median(r["spooling"] for runs in results.values() for r in runs)
    print(f"spooling {len(messages)} messages (fsync each): {spooled:.1f} s, "
          f"{len(messages) / spooled:.0f}/s (median)")
    ratio = median(r["seconds"] for r in results["deliverer"]) / floor
    print(f"target: deliverer within 1.5× of the floor: {ratio:.2f}× -> "
          f"{'met' if ratio <= 1.5 else 'missed'}")
    print_machine()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
