"""Soak: a few thousand complaints through gunicorn while the mail server comes and goes, gunicorn
workers and the deliverer (and, with --kill-server, gunicorn as a whole) are killed with SIGKILL
at random moments, some residents press "send" several times at once, and a quarter of them give
an internationalised address (an IDN domain, or non-ASCII before the @).

    .venv/bin/python bench/soak.py                      # 2,000 submissions, 4 client threads
    .venv/bin/python bench/soak.py --count 500 --clients 2 --kill-server --seed 7

Everything runs on 127.0.0.1 in a temporary folder of its own: gunicorn with
deploy/gunicorn.conf.py, `flask --app formserver deliver --loop`, and an aiosmtpd server (with
SMTPUTF8) in this process that counts what it receives. Each resident fills in the form, opens
the review page and presses send (one in five presses it three times at once, as one impatient
finger does); a submission that fails anywhere starts again from the form (a new draft, a new
reference). At the end, with everything running again, the script waits for the spool to drain
and prints what was sent, acknowledged and delivered, and what went wrong.

Exit status: 0 when every acknowledged complaint arrived under one Message-ID with its receipt,
no answer was a 500 and nothing was left in the spool; 1 when something acknowledged was lost;
2 on any other failure. Not part of the test run (tests/test_faults.py and tests/test_races.py
run short versions of this under pytest).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

from common import children

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from helpers import (  # noqa: E402  (the tests' helpers: bench/ uses them too)
    VALID_COMPLAINT,
    Browser,
    Service,
    free_port,
    gunicorn_service,
    hidden_inputs,
    send_form_fields,
)

REFERENCE = re.compile(r"\b(\d{8}-[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3})\b")
SHOWN = re.compile(r'id="reference"[^>]*>\s*([^<\s]+)\s*<')
ADDRESSES = ["resident{n}@example.com", "resident{n}@example.com", "resident{n}@example.com",
             "chan{n}@例子.廣告", "用戶{n}@例子.廣告", "chän{n}@example.com",
             "resident{n}@example.com", "resident{n}@example.com"]
CLICKS_AT_ONCE = 3  # for every fifth resident


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the mail server ------------------------------------------------------------------------------

class Recorder:
    """aiosmtpd handler: counts Message-IDs, and the Message-IDs each reference arrived under."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ids: Counter = Counter()
        self.by_reference: dict[str, set[str]] = {}

    async def handle_DATA(self, server, session, envelope):
        headers = BytesParser(policy=policy.default).parsebytes(envelope.content,
                                                                headersonly=True)
        message_id = str(headers["Message-ID"])
        reference = headers["X-Complaint-Reference"]
        with self.lock:
            self.ids[message_id] += 1
            if reference:
                self.by_reference.setdefault(str(reference), set()).add(message_id)
        return "250 2.0.0 OK"


class MailServer:
    """aiosmtpd (offering SMTPUTF8) on a fixed loopback port, stopped and started again."""

    def __init__(self, handler: Recorder):
        self.handler, self.host, self.port = handler, "127.0.0.1", free_port()
        self.controller = None
        self.stops = 0

    @property
    def running(self) -> bool:
        return self.controller is not None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        for _ in range(50):  # the port may linger for a moment after a stop
            try:
                self.controller = Controller(self.handler, hostname=self.host, port=self.port,
                                             enable_SMTPUTF8=True)
                self.controller.start()
                return
            except (OSError, RuntimeError):
                self.controller = None
                time.sleep(0.1)
        raise RuntimeError(f"cannot start the SMTP server on port {self.port}")

    def stop(self) -> None:
        if self.controller:
            self.stops += 1
            self.controller.stop()
            self.controller = None


# --- residents ------------------------------------------------------------------------------------

class Retry(Exception):
    pass


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent: list[str] = []
        self.acknowledged: list[str] = []
        self.unknown: list[str] = []
        self.refused: list[str] = []
        self.statuses: Counter = Counter()  # every answer's status, 500s included
        self.repeated_clicks = 0  # residents who pressed send several times at once
        self.tries = 0
        self.errors: list[str] = []

    def add(self, kind: str, value: str) -> None:
        with self.lock:
            getattr(self, kind).append(value)

    def seen(self, status: int) -> int:
        with self.lock:
            self.statuses[status] += 1
        return status


def request(tally: Tally, browser: Browser, method: str, path: str, fields: dict | None = None,
            hold: threading.Barrier | None = None) -> tuple[int, str, str]:
    if fields is None:
        status, headers, text = browser.request(method, path)
    else:
        status, headers, text = browser.post(path, fields, hold=hold)
    return tally.seen(status), headers.get("Location", ""), text


def press_send(port: int, tally: Tally, browser: Browser, fields: dict, clicks: int) -> list:
    """Press send `clicks` times at once; (status, location, cookies) of each press."""
    if clicks == 1:
        status, location, _ = request(tally, browser, "POST", "/complaint/send", fields)
        return [(status, location, browser.cookies)]
    barrier, results = threading.Barrier(clicks), []

    def click():
        tab = Browser(port, browser.cookies)
        try:
            status, location, _ = request(tally, tab, "POST", "/complaint/send", fields, barrier)
            results.append((status, location, tab.cookies))
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError):
            barrier.abort()
            results.append((0, "", tab.cookies))

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def one_submission(port: int, number: int, tally: Tally) -> None:
    """Form, review, send, confirmation; raises Retry when the resident must start again."""
    browser = Browser(port)
    try:
        status, _, html = request(tally, browser, "GET", "/complaint")
        if status != 200:
            raise Retry
        answers = {**VALID_COMPLAINT, **hidden_inputs(html),
                   "email": ADDRESSES[number % len(ADDRESSES)].format(n=number),
                   "subject": f"第{number}宗：升降機停用"}
        status, location, _ = request(tally, browser, "POST", "/complaint", answers)
        if status != 303 or not location.endswith("/complaint/review"):
            raise Retry
        status, _, review = request(tally, browser, "GET", "/complaint/review")
        reference = REFERENCE.search(review)
        if status != 200 or 'action="/complaint/send"' not in review or not reference:
            raise Retry
    except (OSError, http.client.HTTPException):
        raise Retry from None
    reference = reference.group(1)
    tally.add("sent", reference)
    clicks = CLICKS_AT_ONCE if number % 5 == 0 else 1
    if clicks > 1:
        with tally.lock:
            tally.repeated_clicks += 1
    try:
        presses = press_send(port, tally, browser, send_form_fields(review), clicks)
    except (OSError, http.client.HTTPException):
        presses = []
    confirmed = False
    for status, location, cookies in presses:
        if status == 503:
            tally.add("refused", reference)
        if status != 303 or not location.endswith("/complaint/sent"):
            continue
        try:
            status, _, page = request(tally, Browser(port, cookies), "GET", "/complaint/sent")
        except (OSError, http.client.HTTPException):
            continue
        shown = SHOWN.search(page)
        if status == 200 and shown:
            if shown.group(1) != reference:
                raise RuntimeError(f"confirmation shows {shown.group(1)}, review {reference}")
            confirmed = True
    if not confirmed:
        tally.add("unknown", reference)  # saved or not: nobody can tell
        raise Retry
    tally.add("acknowledged", reference)


def resident(port: int, numbers, tally: Tally, deadline: float) -> None:
    try:
        for number in numbers:
            for _ in range(300):
                if time.monotonic() > deadline:
                    tally.add("errors", f"deadline reached at submission {number}")
                    return
                with tally.lock:
                    tally.tries += 1
                try:
                    one_submission(port, number, tally)
                    break
                except Retry:
                    time.sleep(0.1)
            else:
                tally.add("errors", f"submission {number} never got through")
    except Exception as error:
        tally.add("errors", f"{type(error).__name__}: {error}")


class Numbers:
    """The submission numbers, shared by the client threads."""

    def __init__(self, count: int):
        self.lock, self.next, self.count = threading.Lock(), 0, count

    def __iter__(self):
        return self

    def __next__(self) -> int:
        with self.lock:
            if self.next >= self.count:
                raise StopIteration
            self.next += 1
            return self.next - 1


# --- chaos ----------------------------------------------------------------------------------------

class Chaos:
    """Stop and start the mail server; kill -9 a gunicorn worker, the deliverer (and gunicorn
    as a whole) now and then, each at its own random pace."""

    def __init__(self, rng: random.Random, mail: MailServer, server: Service,
                 deliverer: Service, kill_server: bool):
        self.rng, self.mail, self.server, self.deliverer = rng, mail, server, deliverer
        self.kill_server = kill_server
        self.worker_kills = 0
        self.errors: list[str] = []

    def kill_a_worker(self) -> None:
        workers = children(self.server.popen.pid)
        if workers:
            try:
                os.kill(self.rng.choice(workers), signal.SIGKILL)  # the master starts another
                self.worker_kills += 1
            except ProcessLookupError:
                pass

    def run(self, stop: threading.Event) -> None:
        rng, now = self.rng, time.monotonic()
        due = {"mail": now + rng.uniform(2, 8), "deliverer": now + rng.uniform(0.5, 4),
               "worker": now + rng.uniform(2, 8), "server": now + rng.uniform(5, 15)}
        try:
            while not stop.wait(0.05):
                now = time.monotonic()
                if now >= due["mail"]:
                    if self.mail.running:
                        self.mail.stop()
                        due["mail"] = now + rng.uniform(1, 5)  # down for a while
                    else:
                        self.mail.start()
                        due["mail"] = now + rng.uniform(2, 8)
                if now >= due["deliverer"]:
                    self.deliverer.kill()
                    time.sleep(rng.uniform(0.1, 1.0))
                    self.deliverer.start()
                    due["deliverer"] = time.monotonic() + rng.uniform(0.5, 4)
                if now >= due["worker"]:
                    self.kill_a_worker()
                    due["worker"] = time.monotonic() + rng.uniform(2, 8)
                if self.kill_server and now >= due["server"]:
                    self.server.kill()
                    time.sleep(rng.uniform(0.2, 1.0))
                    self.server.start()
                    due["server"] = time.monotonic() + rng.uniform(5, 15)
        except Exception as error:
            self.errors.append(f"chaos: {type(error).__name__}: {error}")


# --- the run --------------------------------------------------------------------------------------

def waiting(spool: Path) -> int:
    return len(list((spool / "new").glob("*.eml")))


def run_stream(args, port: int, mail: MailServer, server: Service, deliverer: Service,
               spool: Path, tally: Tally, chaos: Chaos) -> float:
    """The residents and the chaos, until every resident is done; the stream's seconds."""
    started = time.monotonic()
    numbers = Numbers(args.count)
    deadline = time.monotonic() + args.max_seconds
    clients = [threading.Thread(target=resident, args=(port, numbers, tally, deadline),
                                name=f"resident-{n}") for n in range(args.clients)]
    stop = threading.Event()
    chaos_thread = threading.Thread(target=chaos.run, args=(stop,), name="chaos")
    for thread in clients:
        thread.start()
    chaos_thread.start()
    last_report = time.monotonic()
    while any(t.is_alive() for t in clients):
        time.sleep(0.5)
        if time.monotonic() - last_report >= 10:
            last_report = time.monotonic()
            say(f"  {len(tally.acknowledged)}/{args.count} acknowledged, "
                f"{waiting(spool)} waiting, SMTP {'up' if mail.running else 'down'}, "
                f"killed: {chaos.worker_kills} workers, deliverer {deliverer.kills}×, "
                f"gunicorn {server.kills}×")
    stop.set()
    chaos_thread.join(timeout=120)
    if chaos_thread.is_alive():
        chaos.errors.append("the chaos thread did not stop")
    return time.monotonic() - started


def report(args, recorder: Recorder, tally: Tally, chaos: Chaos, spool: Path,
           stream_seconds: float, duration: float, server: Service,
           deliverer: Service, mail: MailServer) -> tuple[list[str], list[str]]:
    """Print the table; (lost references, other errors)."""
    with recorder.lock:
        ids = Counter(recorder.ids)
        by_reference = {ref: set(found) for ref, found in recorder.by_reference.items()}
    acknowledged = set(tally.acknowledged)
    delivered = {ref for ref, found in by_reference.items() if f"<{ref}@estate.test>" in found}
    lost = sorted(acknowledged - delivered)
    receipts_lost = sorted(ref for ref in acknowledged if f"<{ref}.ack@estate.test>" not in ids)
    two_ids = sorted(ref for ref, found in by_reference.items() if len(found) > 1)
    strangers = sorted(set(by_reference) - set(tally.sent))
    failed = len(list((spool / "failed").glob("*.eml"))) if spool.is_dir() else 0
    left_in_tmp = len(list((spool / "tmp").iterdir())) if (spool / "tmp").is_dir() else 0
    rows = [
        ("sent (send step attempted)", len(set(tally.sent))),
        ("  of which sent with 3 clicks at once", tally.repeated_clicks),
        ("acknowledged (confirmation page)", len(acknowledged)),
        ("unknown (send without confirmation)", len(set(tally.unknown))),
        ("  of which delivered anyway", len(set(tally.unknown) & delivered)),
        ("refused with 503 (nothing saved)", len(set(tally.refused))),
        ("answers with status 500", tally.statuses[500]),
        ("delivered (distinct references)", len(delivered)),
        ("receipts delivered", sum(1 for m in ids if m.endswith(".ack@estate.test>"))),
        ("messages accepted by SMTP", sum(ids.values())),
        ("duplicates (same Message-ID again)", sum(n - 1 for n in ids.values())),
        ("lost (acknowledged, not delivered)", len(lost)),
        ("receipts lost (acknowledged)", len(receipts_lost)),
        ("a reference under two Message-IDs", len(two_ids)),
        ("set aside in failed/", failed),
        ("left in new/ (stuck)", waiting(spool)),
        ("left half-written in tmp/", left_in_tmp),
        ("attempts by the clients", tally.tries),
        ("SMTP server stopped", mail.stops),
        ("gunicorn workers killed -9", chaos.worker_kills),
        ("deliverer killed -9", deliverer.kills),
        ("gunicorn killed -9", server.kills),
        ("stream seconds", round(stream_seconds, 1)),
        ("total seconds", round(duration, 1)),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"\nsoak: {args.count} submissions, {args.clients} clients, {args.workers} workers, "
          f"seed {args.seed}{', gunicorn killed too' if args.kill_server else ''}")
    for label, value in rows:
        print(f"  {label:<{width}}  {value:>8}")
    print(f"  statuses: {dict(sorted(tally.statuses.items()))}")
    errors = tally.errors + chaos.errors
    if tally.statuses[500]:
        errors.append(f"{tally.statuses[500]} answers with status 500")
    if waiting(spool) or failed:
        errors.append(f"{waiting(spool)} messages stuck in new/, {failed} set aside")
    if two_ids:
        errors.append(f"delivered under two Message-IDs: {two_ids[:10]}")
    if strangers:
        errors.append(f"delivered but never sent: {strangers[:10]}")
    if receipts_lost:
        errors.append(f"receipts of acknowledged complaints not delivered: {receipts_lost[:10]}")
    return lost, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="submissions (default 2000)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--kill-server", action="store_true",
                        help="also kill -9 gunicorn (master and workers) now and then")
    parser.add_argument("--seed", type=int, default=5, help="random seed for the chaos")
    parser.add_argument("--max-seconds", type=float, default=3600,
                        help="give up on the stream after this long (default 3600)")
    parser.add_argument("--drain-seconds", type=float, default=300,
                        help="wait at most this long for the spool to drain (default 300)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="estate-soak-"))
    spool = work / "spool"
    recorder = Recorder()
    mail = MailServer(recorder)
    server = gunicorn_service(work, mail, ROOT / "site", args.workers, "--access-logfile",
                              "/dev/null", SECRET_KEY="soak-secret", SERVE_SITE="false",
                              DELIVERY_INTERVAL=0.5, RETRY_DELAYS="1,2,4",  # drains in minutes
                              SUBMISSION_RATE_LIMIT="1000000/hour",
                              ACKNOWLEDGEMENTS_PER_DAY=1000000)
    port, env = server.port, server.env
    deliverer = Service("deliverer", [sys.executable, "-m", "flask", "--app", "formserver",
                                      "deliver", "--loop"], env, work / "deliverer.log")
    tally = Tally()
    chaos = Chaos(random.Random(args.seed), mail, server, deliverer, args.kill_server)
    stream_seconds = 0.0
    try:
        mail.start()
        server.start()
        deliverer.start()
        say(f"soak: {args.count} submissions, {args.clients} clients, {args.workers} workers, "
            f"gunicorn on {port}, SMTP on {mail.port}, in {work}")
        stream_seconds = run_stream(args, port, mail, server, deliverer, spool, tally, chaos)
        say("stream done; everything up again, waiting for the spool to drain")
        if not mail.running:
            mail.start()
        for service in (server, deliverer):
            if service.popen.poll() is not None:
                service.start()
        drain_deadline = time.monotonic() + args.drain_seconds
        while waiting(spool) and time.monotonic() < drain_deadline:
            time.sleep(0.5)
        time.sleep(1)
    except KeyboardInterrupt:
        chaos.errors.append("interrupted")
    except Exception as error:
        chaos.errors.append(f"{type(error).__name__}: {error}")
    finally:
        deliverer.stop()
        server.stop()
        mail.stop()
    lost, errors = report(args, recorder, tally, chaos, spool, stream_seconds,
                          time.monotonic() - started, server, deliverer, mail)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if lost:
        print(f"LOST: {lost[:20]}", file=sys.stderr)
    if args.keep or lost or errors:
        print(f"kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if lost else 2 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
