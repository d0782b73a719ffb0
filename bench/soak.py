"""Soak: a few thousand complaints through gunicorn while the mail server comes and goes and the
deliverer (and, with --kill-server, gunicorn) is killed with SIGKILL at random moments.

    .venv/bin/python bench/soak.py                      # 2,000 submissions, 4 client threads
    .venv/bin/python bench/soak.py --count 500 --clients 2 --kill-server --seed 7

Everything runs on 127.0.0.1 in a temporary folder of its own: gunicorn with
deploy/gunicorn.conf.py, `flask --app formserver deliver --loop`, and an aiosmtpd server in this
process that counts what it receives. Each resident fills in the form, opens the review page and
presses send; a submission that fails anywhere starts again from the form (a new draft, a new
reference). At the end, with everything running again, the script waits for the spool to drain
and prints:

    sent          send steps attempted (each a distinct reference)
    acknowledged  references shown on the confirmation page
    delivered     distinct references whose office email the mail server accepted
    duplicates    extra copies of a Message-ID it had already accepted (allowed: the same message)
    lost          acknowledged but never delivered (must be 0)

Exit status: 0 when nothing acknowledged was lost, 1 when something was, 2 on any other error
(the spool did not drain, a reference under two Message-IDs, a client that gave up). Not part of
the test run (tests/test_faults.py runs a short version of this under pytest).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"\b(\d{8}-[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3})\b")
SHOWN = re.compile(r'id="reference"[^>]*>\s*([^<\s]+)\s*<')
HIDDEN = re.compile(r'<input id="(csrf_token|form_started)" name="\1" type="hidden" '
                    r'value="([^"]+)"')
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ANSWERS = {
    "name": "陳大文",
    "unit": "第3座 12樓 B室",
    "phone": "9123 4567",
    "recipient": "office",
    "category": "facilities",
    "description": "本月第3座兩部升降機經常停用，住戶要走樓梯。",
    "occurred_at": "2026-11-20T08:30",
    "location": "第3座大堂",
    "impact": "長者上落不便。",
    "expected_resolution": "一星期內修妥並公布維修時間。",
    "declaration": "y",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    """aiosmtpd on a fixed loopback port that can be stopped and started again."""

    def __init__(self, handler: Recorder):
        self.handler, self.port = handler, free_port()
        self.controller = None
        self.stops = 0

    @property
    def running(self) -> bool:
        return self.controller is not None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        for _ in range(50):  # the port may linger for a moment after a stop
            try:
                self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
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


# --- processes ------------------------------------------------------------------------------------

class Service:
    """A child process in its own session: SIGKILL reaches its whole group."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path, port: int | None = None):
        self.name, self.args, self.env, self.log, self.port = name, args, env, log, port
        self.popen: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        if self.port:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; "
                                       f"see {self.log}")
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    time.sleep(0.05)
            raise RuntimeError(f"{self.name} is not listening on {self.port}; see {self.log}")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, number: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, number)

    def kill(self) -> None:
        self.kills += 1
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=15)
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)


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
        self.tries = 0
        self.errors: list[str] = []

    def add(self, kind: str, value: str) -> None:
        with self.lock:
            getattr(self, kind).append(value)


def fetch(port: int, cookies: dict, method: str, path: str, body: bytes | None = None,
          content_type: str | None = None) -> tuple[int, str, str]:
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
    if content_type:
        headers["Content-Type"] = content_type
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        conn.close()
    for value in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return response.status, response.headers.get("Location", ""), text


def multipart(fields: dict) -> tuple[bytes, str]:
    boundary = f"----soak{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), \
        f"multipart/form-data; boundary={boundary}"


def one_submission(port: int, number: int, tally: Tally) -> None:
    """Form, review, send, confirmation; raises Retry when the resident must start again."""
    cookies: dict[str, str] = {}
    try:
        status, _, html = fetch(port, cookies, "GET", "/complaint")
        hidden = dict(HIDDEN.findall(html))
        if status != 200 or len(hidden) != 2:
            raise Retry
        answers = {**ANSWERS, **hidden, "email": f"resident{number}@example.com",
                   "subject": f"第{number}宗：升降機停用"}
        status, location, _ = fetch(port, cookies, "POST", "/complaint", *multipart(answers))
        if status != 303 or not location.endswith("/complaint/review"):
            raise Retry
        status, _, review = fetch(port, cookies, "GET", "/complaint/review")
        token, reference = TOKEN.search(review), REFERENCE.search(review)
        if status != 200 or not token or not reference:
            raise Retry
    except (OSError, http.client.HTTPException):
        raise Retry from None
    reference = reference.group(1)
    tally.add("sent", reference)
    try:
        body = urllib.parse.urlencode({"csrf_token": token.group(1)}).encode()
        status, location, _ = fetch(port, cookies, "POST", "/complaint/send", body,
                                    "application/x-www-form-urlencoded")
        if status == 503:
            tally.add("refused", reference)
            raise Retry
        if status != 303 or not location.endswith("/complaint/sent"):
            raise OSError(f"send answered {status}")
        status, _, page = fetch(port, cookies, "GET", "/complaint/sent")
        shown = SHOWN.search(page)
        if status != 200 or not shown:
            raise OSError(f"confirmation answered {status}")
    except (OSError, http.client.HTTPException):
        tally.add("unknown", reference)  # saved or not: nobody can tell
        raise Retry from None
    if shown.group(1) != reference:
        raise RuntimeError(f"confirmation shows {shown.group(1)}, the review showed {reference}")
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

def chaos(rng: random.Random, mail: MailServer, deliverer: Service, server: Service | None,
          stop: threading.Event, errors: list[str]) -> None:
    """Stop and start the mail server; kill -9 the deliverer (and gunicorn) now and then."""
    now = time.monotonic()
    next_mail = now + rng.uniform(2, 8)
    next_deliverer = now + rng.uniform(0.5, 4)
    next_server = now + rng.uniform(5, 15)
    try:
        while not stop.wait(0.05):
            now = time.monotonic()
            if now >= next_mail:
                if mail.running:
                    mail.stop()
                    next_mail = now + rng.uniform(1, 5)  # down for a while
                else:
                    mail.start()
                    next_mail = now + rng.uniform(2, 8)
            if now >= next_deliverer:
                deliverer.kill()
                time.sleep(rng.uniform(0.1, 1.0))
                deliverer.start()
                next_deliverer = time.monotonic() + rng.uniform(0.5, 4)
            if server is not None and now >= next_server:
                server.kill()
                time.sleep(rng.uniform(0.2, 1.0))
                server.start()
                next_server = time.monotonic() + rng.uniform(5, 15)
    except Exception as error:
        errors.append(f"chaos: {type(error).__name__}: {error}")


# --- the run --------------------------------------------------------------------------------------

def waiting(spool: Path) -> int:
    return len(list((spool / "new").glob("*.eml")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="submissions (default 2000)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
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
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVER_")}
    env.update({
        "FORMSERVER_SECRET_KEY": "soak-secret",
        "FORMSERVER_SMTP_HOST": "127.0.0.1",
        "FORMSERVER_SMTP_PORT": str(mail.port),
        "FORMSERVER_SMTP_TIMEOUT": "5",
        "FORMSERVER_MAIL_FROM": "complaints@estate.test",
        "FORMSERVER_OFFICE_EMAIL": "office@estate.test",
        "FORMSERVER_COMMITTEE_EMAIL": "committee@estate.test",
        "FORMSERVER_SPOOL_DIR": str(spool),
        "FORMSERVER_STATS_DB": str(work / "stats.sqlite"),
        "FORMSERVER_DRAFT_DIR": str(work / "drafts"),
        "FORMSERVER_CASE_DB": str(work / "cases.sqlite"),
        "FORMSERVER_MAILDIR": str(work / "maildir"),
        "FORMSERVER_SERVE_SITE": "false",
        "FORMSERVER_DELIVER_IN_PROCESS": "false",
        "FORMSERVER_DELIVERY_INTERVAL": "0.5",
        "FORMSERVER_RETRY_DELAYS": "1,2,4",  # short, so that the spool drains in minutes
        "FORMSERVER_MIN_FILL_SECONDS": "0",
        "FORMSERVER_SUBMISSION_RATE_LIMIT": "1000000/hour",
        "FORMSERVER_ACKNOWLEDGEMENTS_PER_DAY": "1000000",
        "WEB_CONCURRENCY": str(args.workers),
    })
    server = Service("gunicorn", [sys.executable, "-m", "gunicorn", "-c",
                                  "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                  "--access-logfile", "/dev/null", "formserver:create_app()"],
                     env, work / "gunicorn.log", port)
    deliverer = Service("deliverer", [sys.executable, "-m", "flask", "--app", "formserver",
                                      "deliver", "--loop"], env, work / "deliverer.log")
    tally = Tally()
    errors: list[str] = []
    stop = threading.Event()
    drained = False
    try:
        mail.start()
        server.start()
        deliverer.start()
        say(f"soak: {args.count} submissions, {args.clients} clients, {args.workers} workers, "
            f"gunicorn on {port}, SMTP on {mail.port}, in {work}")
        numbers = Numbers(args.count)
        deadline = time.monotonic() + args.max_seconds
        clients = [threading.Thread(target=resident, args=(port, numbers, tally, deadline),
                                    name=f"resident-{n}") for n in range(args.clients)]
        chaos_thread = threading.Thread(
            target=chaos, name="chaos",
            args=(random.Random(args.seed), mail, deliverer,
                  server if args.kill_server else None, stop, errors))
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
                    f"deliverer killed {deliverer.kills}×, gunicorn killed {server.kills}×")
        stop.set()
        chaos_thread.join(timeout=120)
        if chaos_thread.is_alive():
            errors.append("the chaos thread did not stop")
        stream_seconds = time.monotonic() - started

        say("stream done; everything up again, waiting for the spool to drain")
        if not mail.running:
            mail.start()
        for service in (server, deliverer):
            if not service.alive():
                service.start()
        drain_deadline = time.monotonic() + args.drain_seconds
        while waiting(spool) and time.monotonic() < drain_deadline:
            time.sleep(0.5)
        drained = waiting(spool) == 0
        time.sleep(1)
    except KeyboardInterrupt:
        errors.append("interrupted")
        stream_seconds = time.monotonic() - started
    except Exception as error:
        errors.append(f"{type(error).__name__}: {error}")
        stream_seconds = time.monotonic() - started
    finally:
        stop.set()
        deliverer.stop()
        server.stop()
        mail.stop()
    duration = time.monotonic() - started

    with recorder.lock:
        ids = Counter(recorder.ids)
        by_reference = {ref: set(found) for ref, found in recorder.by_reference.items()}
    acknowledged = set(tally.acknowledged)
    delivered = {ref for ref, found in by_reference.items()
                 if f"<{ref}@estate.test>" in found}
    lost = sorted(acknowledged - delivered)
    receipts_lost = sorted(ref for ref in acknowledged if f"<{ref}.ack@estate.test>" not in ids)
    two_ids = sorted(ref for ref, found in by_reference.items() if len(found) > 1)
    strangers = sorted(set(by_reference) - set(tally.sent))
    unknown_delivered = len(set(tally.unknown) & delivered)
    failed = len(list((spool / "failed").glob("*.eml"))) if spool.is_dir() else 0
    left_in_tmp = len(list((spool / "tmp").iterdir())) if (spool / "tmp").is_dir() else 0

    rows = [
        ("sent (send step attempted)", len(set(tally.sent))),
        ("acknowledged (confirmation page)", len(acknowledged)),
        ("unknown (send without confirmation)", len(set(tally.unknown))),
        ("  of which delivered anyway", unknown_delivered),
        ("refused with 503 (nothing saved)", len(set(tally.refused))),
        ("delivered (distinct references)", len(delivered)),
        ("receipts delivered", sum(1 for m in ids if m.endswith(".ack@estate.test>"))),
        ("messages accepted by SMTP", sum(ids.values())),
        ("duplicates (same Message-ID again)", sum(n - 1 for n in ids.values())),
        ("lost (acknowledged, not delivered)", len(lost)),
        ("receipts lost (acknowledged)", len(receipts_lost)),
        ("a reference under two Message-IDs", len(two_ids)),
        ("set aside in failed/", failed),
        ("left half-written in tmp/", left_in_tmp),
        ("attempts by the clients", tally.tries),
        ("SMTP server stopped", mail.stops),
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

    errors += tally.errors
    if not drained:
        errors.append(f"the spool did not drain within {args.drain_seconds:g} s "
                      f"({waiting(spool)} waiting)")
    if two_ids:
        errors.append(f"delivered under two Message-IDs: {two_ids[:10]}")
    if strangers:
        errors.append(f"delivered but never sent: {strangers[:10]}")
    if receipts_lost:
        errors.append(f"receipts of acknowledged complaints not delivered: {receipts_lost[:10]}")
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
