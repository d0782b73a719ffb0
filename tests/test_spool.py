"""The durable spool and the deliverer against a real SMTP server that misbehaves on purpose."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import SMTPServer, make_app, office_message, server_env, submit

from formserver import delivery, spool
from formserver.senders import sender_for


def spool_dir(app) -> Path:
    return Path(app.config["SPOOL_DIR"])


def waiting(app) -> list[str]:
    return sorted(p.stem for p in (spool_dir(app) / "new").glob("*.eml"))


def make_due(app) -> None:
    """Pretend the retry delay has passed."""
    for state in (spool_dir(app) / "new").glob("*.state"):
        data = json.loads(state.read_text())
        data["next_try"] = 0
        state.write_text(json.dumps(data))


def message_ids(smtp_server) -> list[str]:
    return sorted(m["Message-ID"] for m in smtp_server.handler.parsed())


def test_a_message_is_on_disk_before_the_resident_sees_the_confirmation(app, client):
    response = submit(client, email="")
    assert response.status_code == 303
    [name] = waiting(app)
    data = (spool_dir(app) / "new" / f"{name}.eml").read_bytes()
    assert f"Message-ID: <{name}@estate.test>".encode() in data
    assert list((spool_dir(app) / "tmp").iterdir()) == []


def test_nothing_is_lost_while_the_mail_server_is_down(app, client, smtp_server):
    smtp_server.stop()
    submit(client, email="")
    result = delivery.deliver_once(app.config)
    assert result.deferred and not result.sent
    [name] = waiting(app)
    state = json.loads((spool_dir(app) / "new" / f"{name}.state").read_text())
    assert state["attempts"] == 1 and "Connection" in state["last_error"]
    assert state["next_try"] > time.time() + 30  # the first retry waits RETRY_DELAYS[0]

    assert delivery.deliver_once(app.config).sent == []  # not due yet: no attempt
    smtp_server.start()
    make_due(app)
    assert delivery.deliver_once(app.config).sent == [name]
    assert waiting(app) == [] and len(smtp_server.handler.messages) == 1


def test_a_server_that_cannot_be_reached_ends_the_round_after_one_try(app, client,
                                                                      smtp_server):
    smtp_server.stop()
    for _ in range(3):
        submit(client, email="")
    result = delivery.deliver_once(app.config)
    assert len(result.deferred) == 1 and not result.sent
    assert len(list((spool_dir(app) / "new").glob("*.state"))) == 1  # the others untouched
    smtp_server.start()
    make_due(app)
    assert len(delivery.deliver_once(app.config).sent) == 3


def test_retries_wait_longer_each_time(app, client, smtp_server):
    smtp_server.handler.reply = "451 4.3.0 please try later"
    app.config["RETRY_DELAYS"] = (10, 100, 1000)
    submit(client, email="")
    [name] = waiting(app)
    state_path = spool_dir(app) / "new" / f"{name}.state"
    delays = []
    for _ in range(4):
        before = time.time()
        delivery.deliver_once(app.config)
        delays.append(round(json.loads(state_path.read_text())["next_try"] - before, -1))
        make_due(app)
    assert delays == [10, 100, 1000, 1000]


def test_a_temporary_refusal_then_success_delivers_once(app, client, smtp_server):
    smtp_server.handler.reply = "421 4.7.0 busy"
    submit(client, email="")
    assert delivery.deliver_once(app.config).deferred
    smtp_server.handler.reply = None
    make_due(app)
    assert delivery.deliver_once(app.config).sent
    assert len(smtp_server.handler.messages) == 1


def test_a_permanent_refusal_is_set_aside_with_its_reason(app, client, smtp_server, runner):
    smtp_server.handler.reply = "554 5.7.1 message rejected"
    submit(client, email="")
    [name] = waiting(app)
    assert delivery.deliver_once(app.config).failed == [name]
    assert waiting(app) == []
    info = json.loads((spool_dir(app) / "failed" / f"{name}.json").read_text())
    assert info["reason"].startswith("554")
    output = runner.invoke(args=["spool"]).output
    assert name in output and "554" in output and "failed: 1" in output
    assert "陳大文" not in output and "9123" not in output


def test_a_message_failing_past_the_retry_period_and_attempts_is_set_aside(app, client,
                                                                           smtp_server):
    smtp_server.stop()
    submit(client, email="")
    app.config.update(RETRY_GIVE_UP_DAYS=0, RETRY_GIVE_UP_ATTEMPTS=2)
    [name] = waiting(app)
    assert delivery.deliver_once(app.config).deferred == [name]  # past the days, one attempt
    make_due(app)
    assert delivery.deliver_once(app.config).failed == [name]
    reason = json.loads((spool_dir(app) / "failed" / f"{name}.json").read_text())["reason"]
    assert reason.startswith("gave up after 2 attempts")


def test_a_deliverer_whose_clock_is_six_days_ahead_does_not_give_up_after_one_451(
        app, client, smtp_server, tmp_path, built_site):
    """The real `flask --app formserver deliver` under libfaketime, six days ahead: past
    RETRY_GIVE_UP_DAYS by its clock, but one 451 is one attempt, not five days of them. When
    the clock is right again, the retry it scheduled six days ahead is not waited for."""
    faketime = shutil.which("faketime")
    if not faketime:
        pytest.skip("faketime is not installed; scripts/test installs it with apt-get")
    smtp_server.handler.reply = "451 4.3.0 try again later"
    submit(client, email="")
    [name] = waiting(app)
    env = server_env(tmp_path, smtp_server, built_site, SECRET_KEY="test-secret")
    env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"  # only the wall clock: timed waits stay real
    ahead = subprocess.run([faketime, "-f", "+6d", sys.executable, "-m", "flask", "--app",
                            "formserver", "deliver"], env=env, capture_output=True, text=True,
                           timeout=60)
    assert ahead.returncode == 0, ahead.stderr
    # Six days on, the case's reminder and escalation are due and deferred too.
    assert "failed 0" in ahead.stdout and "sent 0" in ahead.stdout, ahead.stdout + ahead.stderr
    state = json.loads((spool_dir(app) / "new" / f"{name}.state").read_text())
    assert state["attempts"] == 1 and state["next_try"] > time.time() + 5 * 86400

    smtp_server.handler.reply = None
    assert name in delivery.deliver_once(app.config).sent


def test_an_unreadable_message_state_stops_neither_the_round_nor_the_purges(
        app, client, smtp_server, caplog):
    """Whatever one message raises (here its state file is a folder), the others are sent
    and the purges still run."""
    references = []
    for _ in range(3):
        submit(client, email="")
        references = waiting(app)
    first, *others = references
    (spool_dir(app) / "new" / f"{first}.state").mkdir()
    old_draft = Path(app.config["DRAFT_DIR"]) / secrets.token_urlsafe(16)
    old_draft.mkdir()  # a folder without a record, a day old
    (old_draft / "evidence-0-1").write_bytes(b"left behind")
    a_day_ago = time.time() - 86400
    os.utime(old_draft, (a_day_ago, a_day_ago))

    result = delivery.deliver_once(app.config)
    assert sorted(result.sent) == others
    assert waiting(app) == [first]
    assert not old_draft.exists(), "the purges did not run"
    assert any(first in r.getMessage() and "IsADirectoryError" in r.getMessage()
               for r in caplog.records)


def test_an_unexpected_error_while_sending_is_a_failed_attempt_logged_without_its_message(
        app, client, smtp_server, caplog):
    for _ in range(2):
        submit(client, email="")
    first, second = waiting(app)

    with sender_for(app.config) as smtp:
        def send(data: bytes) -> None:
            if first.encode() in data:
                raise ValueError("陳大文 9123 4567 chan.taiman@example.com")
            smtp(data)

        result = spool.deliver_due(spool_dir(app), send, delays=(60,), give_up_after=86400)
    assert result.sent == [second] and result.deferred == [first]
    state = json.loads((spool_dir(app) / "new" / f"{first}.state").read_text())
    assert state["attempts"] == 1 and state["last_error"] == "unexpected ValueError"
    assert "ValueError" in caplog.text
    for secret in ("陳大文", "9123", "chan.taiman"):
        assert secret not in caplog.text


@pytest.mark.parametrize("smtputf8", [True, False], ids=["SMTPUTF8 offered", "no SMTPUTF8"])
def test_an_international_address_never_stops_anyone_elses_mail(tmp_path, built_site,
                                                                 smtputf8):
    """A non-ASCII local part goes out with SMTPUTF8 where the server offers it, and is
    otherwise set aside with its reason; an international domain goes out in punycode; every
    other message of the round is delivered."""
    server = SMTPServer(smtputf8=smtputf8)
    server.start()
    try:
        app = make_app(tmp_path, server, built_site)
        client = app.test_client()
        residents = {"用戶@例子.廣告": "unicode", "chan@例子.廣告": "idn",
                     "chan.taiman@example.com": "ascii"}
        for address in residents:
            assert submit(client, email=address).status_code == 303
        result = delivery.deliver_once(app.config)
    finally:
        server.stop()
    envelopes = {tuple(m.rcpt_tos): m for m in server.handler.messages}
    assert ("chan@xn--fsqu00a.xn--4rr99v",) in envelopes
    assert ("chan.taiman@example.com",) in envelopes
    offices = [m for m in envelopes if m == ("office@estate.test",)]
    assert len([m for m in server.handler.messages if m.rcpt_tos == ["office@estate.test"]]) == 3
    assert offices
    unicode_receipt = ("用戶@xn--fsqu00a.xn--4rr99v",)
    if smtputf8:
        assert unicode_receipt in envelopes
        assert "SMTPUTF8" in envelopes[unicode_receipt].mail_options
        assert len(result.sent) == 6 and result.failed == []
    else:
        assert unicode_receipt not in envelopes
        [failed] = result.failed
        assert failed.endswith(".ack") and len(result.sent) == 5
        reason = json.loads((spool_dir(app) / "failed" / f"{failed}.json").read_text())["reason"]
        assert "SMTPUTF8" in reason and "用戶" not in reason
    assert waiting(app) == []


def test_failed_messages_are_purged_after_the_keeping_period(app, client, smtp_server, runner):
    smtp_server.handler.reply = "550 5.1.1 no such user"
    submit(client, email="")
    submit(client, email="")
    delivery.deliver_once(app.config)
    failed = spool_dir(app) / "failed"
    assert len(list(failed.glob("*.eml"))) == 2
    assert spool.purge_failed(spool_dir(app), keep_seconds=3600) == []
    assert len(spool.purge_failed(spool_dir(app), 3600, now=time.time() + 3601)) == 2
    assert list(failed.iterdir()) == []
    submit(client, email="")
    delivery.deliver_once(app.config)
    assert "purged 1" in runner.invoke(args=["purge", "--all"]).output


def test_a_connection_dropped_mid_data_is_retried(app, client, smtp_server):
    smtp_server.handler.reply = "421 4.4.2 connection dropped"  # aiosmtpd closes after 421
    submit(client, email="")
    assert delivery.deliver_once(app.config).deferred
    smtp_server.handler.reply = None
    make_due(app)
    assert delivery.deliver_once(app.config).sent


def test_two_deliverers_at_once_never_send_a_message_twice(app, client, smtp_server):
    for _ in range(6):
        submit(client, email="")
    smtp_server.handler.delay = 0.05  # keep each delivery open so the two overlap
    rounds = []
    threads = [threading.Thread(target=lambda: rounds.append(delivery.deliver_once(app.config)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    sent = [name for result in rounds for name in result.sent]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 6
    assert len(message_ids(smtp_server)) == 6 == len(set(message_ids(smtp_server)))


def test_the_office_can_reply_to_a_resident_with_an_international_domain(app, client,
                                                                         smtp_server):
    submit(client, email="Chan@例子.廣告")
    delivery.deliver_once(app.config)
    assert office_message(smtp_server)["Reply-To"] == "Chan@xn--fsqu00a.xn--4rr99v"


def deliverer_process(app) -> subprocess.Popen:
    env = {**os.environ, "FORMSERVER_SECRET_KEY": "test-secret",
           "FORMSERVER_SMTP_HOST": app.config["SMTP_HOST"],
           "FORMSERVER_SMTP_PORT": str(app.config["SMTP_PORT"]),
           "FORMSERVER_SPOOL_DIR": app.config["SPOOL_DIR"],
           "FORMSERVER_STATS_DB": app.config["STATS_DB"],
           "FORMSERVER_CASE_DB": app.config["CASE_DB"],
           "FORMSERVER_MAIL_FROM": app.config["MAIL_FROM"],
           "FORMSERVER_DELIVER_IN_PROCESS": "false"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "formserver", "deliver"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_a_deliverer_killed_mid_delivery_loses_nothing(app, client, smtp_server):
    submit(client, email="")
    [name] = waiting(app)
    smtp_server.handler.delay = 3  # the server sits on DATA while we kill the deliverer
    process = deliverer_process(app)
    assert smtp_server.handler.data_started.wait(timeout=20), "the deliverer never sent DATA"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert waiting(app) == [name], "a killed deliverer leaves the message in the spool"

    smtp_server.handler.delay = 0
    assert delivery.deliver_once(app.config).sent == [name]  # its lock died with it
    # The killed connection's DATA may still be recorded when its delay ends: the same
    # Message-ID. Wait for the server to be done with it rather than for a fixed time.
    assert smtp_server.handler.wait_idle()
    assert set(message_ids(smtp_server)) == {f"<{name}@estate.test>"}


def test_one_delivery_round_sends_everything_over_one_connection(app, client, smtp_server):
    for _ in range(6):
        submit(client, email="")
    assert len(delivery.deliver_once(app.config).sent) == 6
    assert len(smtp_server.handler.peers) == 6 and len(set(smtp_server.handler.peers)) == 1


def test_the_deliver_command_sends_what_is_waiting(app, client, smtp_server, runner):
    submit(client, email="")
    assert "sent 1" in runner.invoke(args=["deliver"]).output
    assert len(smtp_server.handler.messages) == 1
