"""Faults, for real: a spool on a tiny filesystem that fills up or turns read-only, a mail server
(aiosmtpd) that is slow, hangs up in the middle of DATA or refuses recipients with 4xx and 5xx,
and kill -9 of gunicorn and of the deliverer during a stream of submissions.

What must hold under all of it (issue 5): the resident is never shown a confirmation for a
complaint that is not safely on disk; the request path never waits on SMTP; every acknowledged
complaint is delivered once the mail server recovers (or set aside with its reason); and no
complaint is delivered under two different Message-IDs.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from helpers import (
    VALID_COMPLAINT,
    Browser,
    Service,
    SMTPRecorder,
    gunicorn_service,
    hidden_inputs,
    make_app,
    multipart,
    post_form,
    send_form_fields,
    send_reviewed,
    submit,
)
from werkzeug.datastructures import FileStorage

from formserver import delivery, spool

REFERENCE = re.compile(r"\b(\d{8}-[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3})\b")
NOT_SAVED = "沒有保存任何資料"


# --- helpers ------------------------------------------------------------------------------------

def spool_dir(app) -> Path:
    return Path(app.config["SPOOL_DIR"])


def files_in(app, folder: str) -> list[str]:
    path = spool_dir(app) / folder
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


def waiting(app) -> list[str]:
    return sorted(p.stem for p in (spool_dir(app) / "new").glob("*.eml"))


def state_of(app, name: str) -> dict:
    return json.loads((spool_dir(app) / "new" / f"{name}.state").read_text())


def make_due(app) -> None:
    """Pretend the retry delay has passed."""
    for path in (spool_dir(app) / "new").glob("*.state"):
        state = json.loads(path.read_text())
        state["next_try"] = 0
        path.write_text(json.dumps(state))


def message_ids(handler) -> Counter:
    return Counter(str(m["Message-ID"]) for m in handler.parsed())


def noisy_jpeg(width: int = 480, height: int = 360, seed: int = 5) -> bytes:
    """A photo that JPEG cannot squeeze: random pixels, a few hundred KB."""
    from PIL import Image

    pixels = random.Random(seed).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(out, "JPEG", quality=95)
    return out.getvalue()


def upload(data: bytes, name: str = "lift.jpg", mimetype: str = "image/jpeg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=mimetype)


def confirmed_reference(client, response) -> str:
    """Follow the send step's redirect to the confirmation page; return its reference."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith("/complaint/sent")
    page = client.get("/complaint/sent").get_data(as_text=True)
    found = re.search(r'id="reference"[^>]*>\s*([^<\s]+)\s*<', page)
    assert found, page[:2000]
    return found.group(1)


def serve(smtp_server, handler) -> None:
    """Restart the test's SMTP server on its port with another handler."""
    smtp_server.stop()
    smtp_server.handler = handler
    smtp_server.start()


# --- a spool on a tiny filesystem --------------------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path, request) -> Path:
    """A 2 MB tmpfs, unmounted at the end."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs",
                                  str(mountpoint)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot mount a tmpfs for the full-disk tests: {error}")
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs for the full-disk tests (needs root or "
                    f"CAP_SYS_ADMIN): {mounted.stderr.strip()}")

    def unmount():
        if subprocess.run(["umount", str(mountpoint)], capture_output=True,
                          timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=30)

    request.addfinalizer(unmount)
    return mountpoint


@pytest.fixture
def tiny_app(tmp_path, smtp_server, built_site, tiny_disk):
    """The form server with its spool (only the spool) on the tiny filesystem."""
    return make_app(tmp_path, smtp_server, built_site, SPOOL_DIR=str(tiny_disk / "spool"))


def free_bytes(folder: Path) -> int:
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


def fill(disk: Path, leave: int = 0, name: str = "filler") -> Path:
    """Fill the filesystem up to `leave` free bytes (0: completely, until ENOSPC)."""
    path = disk / name
    with open(path, "ab", buffering=0) as f:
        chunk = 64 * 1024
        for _ in range(10_000):  # a 2 MB disk fills in far fewer rounds
            room = free_bytes(disk) - leave
            if room <= 0:
                break
            try:
                f.write(bytes(min(chunk, room)))
            except OSError:  # ENOSPC: full
                break
    assert free_bytes(disk) <= max(leave, 0) + 4096
    return path


def test_a_full_disk_refuses_with_503_saves_nothing_and_the_resident_can_send_later(
        tiny_app, tiny_disk, smtp_server):
    client = tiny_app.test_client()
    photo = noisy_jpeg()
    assert len(photo) > 200_000
    assert post_form(client, [upload(photo)]).status_code == 303  # the draft is elsewhere
    filler = fill(tiny_disk, leave=64 * 1024)  # room for small things, not for the photo

    refused = send_reviewed(client)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 503, page[:2000]
    assert NOT_SAVED in page
    assert 'id="reference"' not in page
    assert REFERENCE.search(page) is None, "a 503 page must not show a reference"
    assert files_in(tiny_app, "new") == [] and files_in(tiny_app, "tmp") == []
    no_confirmation = client.get("/complaint/sent")  # no false confirmation behind it either
    assert no_confirmation.status_code == 302
    assert no_confirmation.headers["Location"].endswith("/complaint")

    filler.unlink()
    reference = confirmed_reference(client, send_reviewed(client))  # the same draft, once more
    assert waiting(tiny_app) == [reference, f"{reference}.ack"]
    assert sorted(delivery.deliver_once(tiny_app.config).sent) == [reference,
                                                                   f"{reference}.ack"]
    assert message_ids(smtp_server.handler) == Counter({f"<{reference}@estate.test>": 1,
                                                        f"<{reference}.ack@estate.test>": 1})
    [office] = [m for m in smtp_server.handler.parsed() if m["X-Complaint-Reference"]]
    [photo_part] = [p for p in office.iter_attachments() if p.get_filename() == "evidence-1.jpg"]
    assert len(photo_part.get_content()) == len(photo)


def test_a_disk_that_fills_up_during_the_receipt_still_confirms_the_complaint(
        tiny_app, tiny_disk, smtp_server, monkeypatch, caplog):
    """The office's message is spooled first; if the disk fills up while the resident's receipt
    (the second message) is being written, the complaint is safe: confirm it, without
    promising a receipt, and leave no half-written receipt behind."""
    real_write = spool.write_durably
    filled = []

    def fill_up_first(path, data, tmp_dir):
        if path.name.endswith(".ack.eml") and not filled:  # the office's message is in new/
            filled.append(fill(tiny_disk))
        return real_write(path, data, tmp_dir)

    monkeypatch.setattr(spool, "write_durably", fill_up_first)
    client = tiny_app.test_client()
    response = submit(client)
    assert filled, "the receipt was never written"
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with client.session_transaction() as session:
        assert session["sent"]["acknowledged"] is False, "a receipt is promised, none was saved"
    page = client.get("/complaint/sent").get_data(as_text=True)
    assert "電郵給您" not in page, "the page promises a receipt that was not saved"
    reference = re.search(r'id="reference"[^>]*>\s*([^<\s]+)\s*<', page).group(1)
    assert waiting(tiny_app) == [reference]  # the office's message only
    assert files_in(tiny_app, "tmp") == []
    assert any(r.levelname == "ERROR" and reference in r.getMessage() for r in caplog.records)

    filled[0].unlink()
    assert delivery.deliver_once(tiny_app.config).sent == [reference]
    assert message_ids(smtp_server.handler) == Counter({f"<{reference}@estate.test>": 1})


def test_a_read_only_spool_refuses_with_503(tiny_app, tiny_disk, smtp_server):
    client = tiny_app.test_client()
    assert post_form(client).status_code == 303
    spool.folders(spool_dir(tiny_app))  # the folders exist; writing into them fails
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True, timeout=30)
    try:
        refused = send_reviewed(client)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True, timeout=30)
    assert refused.status_code == 503
    assert NOT_SAVED in refused.get_data(as_text=True)
    assert waiting(tiny_app) == []
    reference = confirmed_reference(client, send_reviewed(client))
    assert sorted(delivery.deliver_once(tiny_app.config).sent) == [reference,
                                                                   f"{reference}.ack"]


@pytest.mark.parametrize("reply", ["452 4.2.2 mailbox full", "550 5.1.1 no such user"])
def test_a_full_disk_does_not_stop_other_messages_from_leaving(tiny_app, tiny_disk, smtp_server,
                                                               reply):
    """With the disk full the deliverer can record neither a deferral nor a refusal; that one
    message must wait, not every message queued behind it."""
    serve(smtp_server, Refuses(refusals={"busy@example.com": reply}))
    client = tiny_app.test_client()
    reference = confirmed_reference(client, submit(client, email="busy@example.com"))
    assert waiting(tiny_app) == [reference, f"{reference}.ack"]  # the receipt is tried first
    filler = fill(tiny_disk)

    result = delivery.deliver_once(tiny_app.config)
    assert result.sent == [reference]
    assert result.deferred == [f"{reference}.ack"] and result.failed == []
    assert waiting(tiny_app) == [f"{reference}.ack"]
    assert files_in(tiny_app, "tmp") == [] and files_in(tiny_app, "failed") == []

    filler.unlink()  # room again: the outcome is recorded as usual
    result = delivery.deliver_once(tiny_app.config)
    if reply.startswith("4"):
        assert result.deferred == [f"{reference}.ack"]
        assert state_of(tiny_app, f"{reference}.ack")["last_error"].startswith("452")
    else:
        assert result.failed == [f"{reference}.ack"]
        assert files_in(tiny_app, "failed") == [f"{reference}.ack.eml", f"{reference}.ack.json"]
    assert message_ids(smtp_server.handler) == Counter({f"<{reference}@estate.test>": 1})


def test_a_half_written_message_left_by_a_killed_server_is_purged(app, client, smtp_server):
    """kill -9 in the middle of writing leaves a partial message in tmp/ (personal data); it is
    never delivered, and the deliverer deletes it once it is clearly abandoned."""
    reference = confirmed_reference(client, submit(client, email=""))
    tmp = spool_dir(app) / "tmp"
    abandoned = tmp / f"{reference}.eml.4242.0badc0de"
    abandoned.write_bytes(b"Subject: half a complaint\r\n\r\n\xe9\x99\xb3\xe5")
    two_days_ago = time.time() - 2 * 86400
    os.utime(abandoned, (two_days_ago, two_days_ago))
    being_written = tmp / "20261127-ABC-DEF.eml.4243.0badcafe"  # a writer still at it
    being_written.write_bytes(b"Subject: being written")

    assert delivery.deliver_once(app.config).sent == [reference]
    assert files_in(app, "tmp") == [being_written.name]
    assert message_ids(smtp_server.handler) == Counter({f"<{reference}@estate.test>": 1})


def test_a_draft_that_fills_the_disk_leaves_no_orphaned_evidence(tmp_path, smtp_server,
                                                                built_site, tiny_disk):
    """The drafts (only they) on the tiny filesystem, full before the photo fits: 503 and
    nothing left behind (a draft is written into a temporary folder and renamed); with room
    again the same answers go through."""
    drafts_dir = tiny_disk / "drafts"
    app = make_app(tmp_path, smtp_server, built_site, DRAFT_DIR=str(drafts_dir))
    client = app.test_client()
    photo = noisy_jpeg()
    filler = fill(tiny_disk, leave=len(photo) // 2)
    refused = post_form(client, [upload(photo)])
    assert refused.status_code == 503, refused.get_data(as_text=True)[:2000]
    assert NOT_SAVED in refused.get_data(as_text=True)
    assert list(drafts_dir.iterdir()) == [], "a failed write left files behind"

    filler.unlink()
    assert post_form(client, [upload(photo)]).status_code == 303
    assert len(list(drafts_dir.iterdir())) == 1


# --- a statistics database that is broken -----------------------------------------------------

def follow_up(client, reference: str, code: str):
    from helpers import hidden_fields

    return client.post("/follow-up", data={"reference": reference, "access_code": code,
                                           "reason": "no_reply", "details": "仍未有回覆。",
                                           **hidden_fields(client, "/follow-up")})


def confirmed_with_code(client, response) -> tuple[str, str]:
    """The reference and the access code the confirmation page shows (once)."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    page = client.get("/complaint/sent").get_data(as_text=True)
    return (re.search(r'id="reference"[^>]*>\s*([^<\s]+)\s*<', page).group(1),
            re.search(r'id="access-code">([^<]+)<', page).group(1))


def test_a_statistics_database_that_cannot_be_read_gives_503_before_anything_is_sent(
        tmp_path, smtp_server, built_site):
    broken = tmp_path / "stats.sqlite"
    broken.write_bytes(b"not a database, " * 512)
    app = make_app(tmp_path, smtp_server, built_site, STATS_DB=str(broken))
    client = app.test_client()
    reference, code = confirmed_with_code(client, submit(client, email=""))  # the complaint goes
    response = follow_up(client, reference, code)
    assert response.status_code == 503, response.get_data(as_text=True)[:2000]
    assert "暫時未能接收" in response.get_data(as_text=True)
    assert waiting(app) == [reference]  # no follow-up spooled


def test_a_follow_up_spooled_when_its_count_cannot_be_written_is_still_confirmed(
        app, client, smtp_server, caplog):
    import sqlite3

    reference, code = confirmed_with_code(client, submit(client, email=""))
    db = sqlite3.connect(app.config["STATS_DB"])  # counts can be read, not written
    db.executescript("DROP TABLE follow_ups; CREATE VIEW follow_ups (key, day) AS "
                     "SELECT key, day FROM references_seen WHERE 0;")
    db.close()
    response = follow_up(client, reference, code)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert len([name for name in waiting(app) if ".follow-up-" in name]) == 1
    assert "could not count follow-up 1" in caplog.text


# --- a slow mail server --------------------------------------------------------------------------

@pytest.mark.slow
def test_a_slow_mail_server_defers_without_holding_up_anyone_and_delivers_once(
        app, client, smtp_server):
    app.config["SMTP_TIMEOUT"] = 1
    handler = smtp_server.handler
    handler.delay = 3  # the server sits on the message longer than the deliverer waits
    first = confirmed_reference(client, submit(client))

    rounds = []
    deliverer = threading.Thread(target=lambda: rounds.append(delivery.deliver_once(app.config)))
    deliverer.start()
    try:
        assert handler.data_started.wait(timeout=10), "the deliverer never reached DATA"
        # While the deliverer is stuck on the slow server, another resident sends.
        assert post_form(client).status_code == 303
        started = time.monotonic()
        sent = send_reviewed(client)
        took = time.monotonic() - started
    finally:
        deliverer.join(timeout=30)
    second = confirmed_reference(client, sent)
    assert took < 1.0, f"the send step took {took:.2f} s: it must not wait on SMTP"

    [result] = rounds
    assert result.sent == [] and sorted(result.deferred) == [first, f"{first}.ack"]
    assert "timed out" in state_of(app, first)["last_error"]
    assert handler.wait_idle()  # had the server kept the abandoned message, it is in now
    assert handler.messages == []

    handler.delay = 0
    make_due(app)
    assert sorted(delivery.deliver_once(app.config).sent) == sorted(
        [first, f"{first}.ack", second, f"{second}.ack"])
    assert waiting(app) == []
    ids = message_ids(handler)
    assert set(ids) == {f"<{ref}@estate.test>" for ref in
                        (first, f"{first}.ack", second, f"{second}.ack")}
    assert set(ids.values()) == {1}, f"delivered more than once: {ids}"


@pytest.mark.slow
def test_the_embedded_deliverer_never_makes_the_resident_wait(tmp_path, smtp_server, built_site):
    """`flask run`'s delivery thread talks to the slow server while residents send."""
    app = make_app(tmp_path, smtp_server, built_site, DELIVER_IN_PROCESS=True,
                   DELIVERY_INTERVAL=0.2, RETRY_DELAYS="1", SMTP_TIMEOUT=1)
    handler = smtp_server.handler
    handler.delay = 3
    client = app.test_client()
    try:
        references, took = [], []
        for _ in range(3):
            assert post_form(client, email="").status_code == 303
            started = time.monotonic()
            response = send_reviewed(client)
            took.append(time.monotonic() - started)
            references.append(confirmed_reference(client, response))
            if len(references) == 1:
                assert handler.data_started.wait(timeout=10), "the thread never reached DATA"
        assert max(took) < 1.0, f"send steps took {took} s while the mail server was slow"
        handler.delay = 0
        deadline = time.monotonic() + 20
        while waiting(app) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert waiting(app) == [], "not delivered within 20 s of the server recovering"
        assert handler.wait_idle()  # an abandoned slow DATA the server kept would be in now
        ids = message_ids(handler)
        assert set(ids) == {f"<{ref}@estate.test>" for ref in references}
        assert set(ids.values()) == {1}, f"delivered more than once: {ids}"
    finally:
        worker = app.extensions.get("delivery")
        if worker:
            worker["stop"].set()
            worker["wake"].set()
            worker["thread"].join(timeout=30)


# --- a mail server that hangs up in the middle of DATA -----------------------------------------

@dataclass
class HangsUp(SMTPRecorder):
    """Drops the connection instead of answering the first `drops` messages."""

    drops: int = 1

    async def handle_DATA(self, server, session, envelope):
        if self.drops > 0:
            self.drops -= 1
            self.data_started.set()
            server.transport.abort()  # no reply, no QUIT: the connection is simply gone
            await asyncio.sleep(30)  # aiosmtpd cancels this when it sees the connection lost
        return await super().handle_DATA(server, session, envelope)


class CutsDataShort(SMTP):
    """Reads a few KB of the message body, then hangs up (the handler's `drops` times)."""

    async def smtp_DATA(self, arg):
        handler = self.event_handler
        if handler.drops <= 0:
            return await super().smtp_DATA(arg)
        handler.drops -= 1
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.read(8192)
        handler.data_started.set()
        self.transport.abort()
        await asyncio.sleep(30)


class CutsDataShortController(Controller):
    def factory(self):
        return CutsDataShort(self.handler, **self.SMTP_kwargs)


@pytest.mark.parametrize("where", ["after the body", "in the middle of the body"])
def test_a_connection_dropped_mid_data_is_deferred_then_delivered_once(
        app, client, smtp_server, where, request):
    handler = HangsUp()
    if where == "after the body":
        serve(smtp_server, handler)
    else:
        smtp_server.stop()
        controller = CutsDataShortController(handler, hostname=smtp_server.host,
                                             port=smtp_server.port)
        controller.start()
        request.addfinalizer(controller.stop)
    reference = confirmed_reference(client, submit(client, [upload(noisy_jpeg())], email=""))

    result = delivery.deliver_once(app.config)
    assert handler.data_started.is_set()
    assert result.deferred == [reference] and result.sent == []
    assert state_of(app, reference)["attempts"] == 1
    assert handler.messages == []

    make_due(app)
    assert delivery.deliver_once(app.config).sent == [reference]
    assert waiting(app) == []
    assert message_ids(handler) == Counter({f"<{reference}@estate.test>": 1})
    [office] = handler.parsed()
    assert "evidence-1.jpg" in [p.get_filename() for p in office.iter_attachments()]


# --- 4xx and 5xx, per recipient and in turn ------------------------------------------------------

@dataclass
class Refuses(SMTPRecorder):
    """Refuses some recipients (RCPT TO) or the sender (MAIL FROM) with a given reply."""

    refusals: dict = field(default_factory=dict)  # address -> reply
    sender_reply: str | None = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.sender_reply:
            return self.sender_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


OFFICE, REPAIRS = "office@estate.test", "repairs@estate.test"


@pytest.mark.parametrize(("refusals", "outcome"), [
    ({REPAIRS: "550 5.1.1 no such user"}, "delivered"),
    ({REPAIRS: "450 4.2.1 mailbox busy"}, "delivered"),
    ({OFFICE: "550 5.1.1 no such user", REPAIRS: "553 5.1.3 bad address"}, "set aside"),
    ({OFFICE: "451 4.3.0 try later", REPAIRS: "452 4.2.2 mailbox full"}, "deferred"),
    ({OFFICE: "451 4.3.0 try later", REPAIRS: "550 5.1.1 no such user"}, "deferred"),
], ids=["one 5xx, one accepted", "one 4xx, one accepted", "all 5xx", "all 4xx",
        "4xx and 5xx"])
def test_recipients_refused(app, client, smtp_server, refusals, outcome, caplog):
    """Some recipients accepted: delivered (a warning names the codes, for a person to look
    at). All refused: a temporary refusal among them means try again; all permanent, set
    aside with the reason."""
    handler = Refuses(refusals=refusals)
    serve(smtp_server, handler)
    app.config["ROUTES"] = {"office": {"default": (OFFICE, REPAIRS)}}
    reference = confirmed_reference(client, submit(client, email=""))

    result = delivery.deliver_once(app.config)
    if outcome == "delivered":
        assert result.sent == [reference]
        [envelope] = handler.messages
        assert envelope.rcpt_tos == [OFFICE]
        code = refusals[REPAIRS][:3]
        assert "1 recipient(s) refused" in caplog.text and code in caplog.text
        assert waiting(app) == [] and files_in(app, "failed") == []
    elif outcome == "set aside":
        assert result.failed == [reference]
        info = json.loads((spool_dir(app) / "failed" / f"{reference}.json").read_text())
        assert info["reason"].startswith("550") and "all recipients refused" in info["reason"]
        assert waiting(app) == [] and handler.messages == []
    else:
        assert result.deferred == [reference]
        assert state_of(app, reference)["last_error"].startswith("451")
        assert handler.messages == []


@pytest.mark.parametrize(("later", "outcome"), [
    ("550 5.1.1 no such user", "set aside"),
    (None, "delivered"),
])
def test_a_temporary_refusal_then_a_permanent_one_or_success(app, client, smtp_server, later,
                                                               outcome):
    handler = Refuses(refusals={OFFICE: "451 4.3.0 try later"})
    serve(smtp_server, handler)
    reference = confirmed_reference(client, submit(client, email=""))
    for attempt in (1, 2):
        assert delivery.deliver_once(app.config).deferred == [reference]
        assert state_of(app, reference)["attempts"] == attempt
        make_due(app)

    handler.refusals = {OFFICE: later} if later else {}
    result = delivery.deliver_once(app.config)
    if outcome == "set aside":
        assert result.failed == [reference]
        info = json.loads((spool_dir(app) / "failed" / f"{reference}.json").read_text())
        assert info["reason"].startswith("550") and info["attempts"] == 3
        assert handler.messages == []
    else:
        assert result.sent == [reference]
        assert message_ids(handler) == Counter({f"<{reference}@estate.test>": 1})
    assert waiting(app) == []


@pytest.mark.parametrize(("reply", "outcome"), [
    ("451 4.3.0 sender check failed, try later", "deferred"),
    ("553 5.7.1 sender not allowed", "set aside"),
])
def test_the_sender_refused(app, client, smtp_server, reply, outcome):
    serve(smtp_server, Refuses(sender_reply=reply))
    reference = confirmed_reference(client, submit(client, email=""))
    result = delivery.deliver_once(app.config)
    if outcome == "deferred":
        assert result.deferred == [reference]
        assert state_of(app, reference)["last_error"].startswith("451")
    else:
        assert result.failed == [reference]
        info = json.loads((spool_dir(app) / "failed" / f"{reference}.json").read_text())
        assert info["reason"].startswith("553")


@dataclass
class RefusesAfterData(SMTPRecorder):
    """Refuses a message at the end of DATA with a reply that names its recipient, as
    Postfix and others do."""

    refuse: str = ""

    async def handle_DATA(self, server, session, envelope):
        if self.refuse in envelope.rcpt_tos:
            return f"554 5.7.1 <{self.refuse}>: message refused for {self.refuse}"
        return await super().handle_DATA(server, session, envelope)


def test_a_refused_receipt_is_kept_and_logged_without_the_residents_address(
        app, client, smtp_server, runner, caplog):
    resident = "chan.taiman@example.com"
    serve(smtp_server, RefusesAfterData(refuse=resident))
    reference = confirmed_reference(client, submit(client, email=resident))
    result = delivery.deliver_once(app.config)
    assert result.sent == [reference] and result.failed == [f"{reference}.ack"]
    record = (spool_dir(app) / "failed" / f"{reference}.ack.json").read_text()
    assert json.loads(record)["reason"].startswith("554 5.7.1")
    listing = runner.invoke(args=["spool"]).output
    for where, text in (("the failed record", record), ("the log", caplog.text),
                        ("flask spool", listing)):
        assert "chan.taiman" not in text, where


# --- kill -9 during a stream of submissions ------------------------------------------------------

class Retry(Exception):
    """This submission failed somewhere; start it again from the form."""


@dataclass
class Stream:
    """A resident after another, each through form, review and send; what each one saw."""

    port: int
    count: int
    deadline: float
    started: int = 0  # submissions begun (for the killer's timing)
    tries: int = 0
    attempted: list = field(default_factory=list)  # references seen on a review page
    acknowledged: list = field(default_factory=list)  # references on a confirmation page
    unknown: list = field(default_factory=list)  # send step without a confirmation
    refused: list = field(default_factory=list)  # a 503: nothing saved
    errors: list = field(default_factory=list)

    def run(self) -> None:
        try:
            for number in range(self.count):
                self.started = number + 1
                for _ in range(100):
                    if time.monotonic() > self.deadline:
                        self.errors.append(f"deadline reached at submission {number}")
                        return
                    self.tries += 1
                    try:
                        self.acknowledged.append(self.one(number))
                        break
                    except Retry:
                        time.sleep(0.1)
                else:
                    self.errors.append(f"submission {number} never got through")
        except Exception as error:  # reported by the test, not lost in a thread
            self.errors.append(f"{type(error).__name__}: {error}")

    def one(self, number: int) -> str:
        browser = Browser(self.port)
        try:
            status, _, html = browser.request("GET", "/complaint")
            hidden = hidden_inputs(html)
            if status != 200 or len(hidden) != 2:
                raise Retry
            answers = {**VALID_COMPLAINT, **hidden, "email": f"resident{number}@example.com",
                       "subject": f"第{number}宗：升降機停用"}
            status, headers, _ = browser.request("POST", "/complaint", *multipart(answers))
            if status != 303 or not headers["Location"].endswith("/complaint/review"):
                raise Retry
            status, _, review = browser.request("GET", "/complaint/review")
            reference = REFERENCE.search(review)
            if status != 200 or 'action="/complaint/send"' not in review or not reference:
                raise Retry
            send = send_form_fields(review)
        except (OSError, http.client.HTTPException):
            raise Retry from None
        reference = reference.group(1)
        self.attempted.append(reference)
        try:
            body = urllib.parse.urlencode(send).encode()
            status, headers, _ = browser.request("POST", "/complaint/send", body,
                                                 "application/x-www-form-urlencoded")
        except (OSError, http.client.HTTPException):
            self.unknown.append(reference)  # no answer: saved or not, nobody can tell
            raise Retry from None
        if status == 503:
            self.refused.append(reference)
            raise Retry
        if status != 303 or not headers["Location"].endswith("/complaint/sent"):
            self.unknown.append(reference)
            raise Retry
        try:
            status, _, page = browser.request("GET", "/complaint/sent")
        except (OSError, http.client.HTTPException):
            self.unknown.append(reference)
            raise Retry from None
        shown = re.search(r'id="reference"[^>]*>\s*([^<\s]+)\s*<', page)
        if status != 200 or not shown:
            self.unknown.append(reference)
            raise Retry
        assert shown.group(1) == reference, (shown.group(1), reference)
        return reference


@pytest.mark.slow
def test_kill_9_of_server_and_deliverer_during_a_stream_loses_no_acknowledged_complaint(
        tmp_path, smtp_server, built_site):
    """gunicorn (deploy/gunicorn.conf.py) and `flask deliver --loop` as separate process groups,
    40 residents one after another, kill -9 of gunicorn twice and of the deliverer three times
    at seeded random moments, each restarted shortly after. Every reference shown on a
    confirmation page must arrive (office message and receipt), each under its one Message-ID;
    the same Message-ID twice (sent just before a kill, sent again) is allowed and counted."""
    started_at = time.monotonic()
    rng = random.Random(20261127)
    spooled = tmp_path / "spool"
    server = gunicorn_service(tmp_path, smtp_server, built_site, 2, DELIVERY_INTERVAL=0.2,
                              RETRY_DELAYS=1, SUBMISSION_RATE_LIMIT="100000/hour",
                              ACKNOWLEDGEMENTS_PER_DAY=100000)
    port = server.port
    deliverer = Service("deliverer", [sys.executable, "-m", "flask", "--app", "formserver",
                                      "deliver", "--loop"], server.env, tmp_path / "deliverer.log")
    smtp_server.handler.delay = 0.05  # each delivery takes a moment: kills can land in it
    stream = Stream(port, count=40, deadline=time.monotonic() + 40)
    # When to strike: after a number of submissions has begun, then a random moment later.
    plan = sorted([(rng.randint(4, 34), server) for _ in range(2)]
                  + [(rng.randint(2, 38), deliverer) for _ in range(3)], key=lambda p: p[0])
    killer_errors = []

    def killer():
        try:
            for at, service in plan:
                while stream.started < at and residents.is_alive():
                    time.sleep(0.02)
                time.sleep(rng.uniform(0, 0.4))
                service.kill()
                time.sleep(rng.uniform(0.1, 0.6))
                service.start()
        except Exception as error:
            killer_errors.append(f"{type(error).__name__}: {error}")

    try:
        server.start()
        deliverer.start()
        residents = threading.Thread(target=stream.run, name="residents")
        chaos = threading.Thread(target=killer, name="kill -9")
        residents.start()
        chaos.start()
        residents.join(timeout=50)
        chaos.join(timeout=30)
        assert not residents.is_alive() and not chaos.is_alive(), "the stream did not finish"
        assert not killer_errors, killer_errors
        assert not stream.errors, (stream.errors, server.output(), deliverer.output())

        for service in (server, deliverer):  # everything running again at the end
            if service.popen.poll() is not None:
                service.start()
        deadline = time.monotonic() + 30
        while list((spooled / "new").glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sorted(p.name for p in (spooled / "new").glob("*.eml"))
        assert left == [], f"still in the spool after 30 s: {left}\n{deliverer.output()}"
    finally:
        deliverer.stop()
        server.stop()

    ids = message_ids(smtp_server.handler)
    delivered = set(ids)
    by_reference: dict[str, set] = {}
    for message in smtp_server.handler.parsed():
        found = REFERENCE.search(str(message["Subject"]))
        assert found, message["Subject"]
        kind = "ack" if str(message["Message-ID"]).startswith(f"<{found.group(1)}.ack@") \
            else "office"
        by_reference.setdefault((found.group(1), kind), set()).add(str(message["Message-ID"]))
    acknowledged = set(stream.acknowledged)
    lost = sorted(ref for ref in acknowledged if f"<{ref}@estate.test>" not in delivered)
    lost_receipts = sorted(ref for ref in acknowledged
                           if f"<{ref}.ack@estate.test>" not in delivered)
    two_ids = {key: found for key, found in by_reference.items() if len(found) > 1}
    strangers = sorted({ref for ref, _ in by_reference} - set(stream.attempted))
    duplicates = sum(n - 1 for n in ids.values())
    summary = (f"{len(stream.attempted)} sent, {len(acknowledged)} acknowledged, "
               f"{len(stream.unknown)} unknown, {len({r for r, _ in by_reference})} delivered "
               f"({len(ids)} Message-IDs, {duplicates} duplicate copies), "
               f"kills: gunicorn {server.kills}, deliverer {deliverer.kills}; "
               f"{len(list((spooled / 'tmp').iterdir()))} left in tmp/; "
               f"{time.monotonic() - started_at:.1f} s")
    print(summary)

    assert len(acknowledged) == stream.count, summary
    assert server.kills >= 1 and deliverer.kills >= 2, summary
    assert not lost, f"acknowledged but never delivered: {lost}; {summary}"
    assert not lost_receipts, f"receipts never delivered: {lost_receipts}; {summary}"
    assert not two_ids, f"delivered under two Message-IDs: {two_ids}"
    assert not strangers, f"delivered but never sent: {strangers}"
    assert not stream.refused, f"503 without a full disk: {stream.refused}"
    assert list((spooled / "failed").iterdir()) == [], "something was set aside"
