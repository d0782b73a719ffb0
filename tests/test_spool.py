"""The durable spool and the deliverer against a real SMTP server that misbehaves on purpose."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from helpers import submit

from formserver import delivery, spool


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


def test_a_message_failing_past_the_retry_period_is_set_aside(app, client, smtp_server):
    smtp_server.stop()
    submit(client, email="")
    app.config["RETRY_GIVE_UP_DAYS"] = 0
    [name] = waiting(app)
    assert delivery.deliver_once(app.config).failed == [name]
    reason = json.loads((spool_dir(app) / "failed" / f"{name}.json").read_text())["reason"]
    assert reason.startswith("gave up after 1 attempts")


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
    time.sleep(3.5)  # the killed connection's DATA may still be recorded: same Message-ID
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
