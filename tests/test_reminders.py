"""Deadlines and supervision: the office's reminder after a missed due day, the committee's
notice ESCALATE_AFTER_DAYS working days later, the weekly digest, the purge. Each with a clock
passed in, and once with the real deliverer under libfaketime."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import VALID_COMPLAINT
from loop_helpers import (
    act,
    case_path,
    confirmation,
    deliver,
    deliver_at,
    follow_up,
    text_of,
    to,
)

from formserver import cases, handling, reminders
from formserver.cases import end_of
from formserver.reminders import escalation_day, run_timers
from formserver.workdays import written_date

OFFICE, COMMITTEE = "office@estate.test", "committee@estate.test"
PERSONAL = [VALID_COMPLAINT[key] for key in ("name", "unit", "phone", "email")] + [
    "陳大文", "9123", "chan.taiman", VALID_COMPLAINT["description"]]


def case_of(app, reference: str) -> cases.Case:
    with cases.store(Path(app.config["CASE_DB"])) as db:
        return cases.load(db, reference)


def new_messages(app, smtp_server, before: int) -> list:
    return deliver(app, smtp_server)[before:]


@pytest.fixture
def sent(app, client, smtp_server):
    """A delivered complaint: (reference, access code, its case)."""
    reference, code = confirmation(client)
    deliver(app, smtp_server)
    return reference, code, case_of(app, reference)


def test_the_office_is_reminded_once_after_the_due_day_ends_and_not_before(app, smtp_server,
                                                                           sent):
    reference, _, case = sent
    deadline = end_of(case.due, case.submitted_at.tzinfo)
    assert run_timers(app.config, deadline - timedelta(seconds=1)).reminded == []
    before = len(smtp_server.handler.messages)
    assert run_timers(app.config, deadline + timedelta(minutes=1)).reminded == [reference]
    assert run_timers(app.config, deadline + timedelta(hours=3)).reminded == []
    [reminder] = new_messages(app, smtp_server, before)
    assert reminder["To"] == OFFICE and reference in reminder["Subject"]
    assert reminder["In-Reply-To"] == f"<{reference}@estate.test>"
    body = text_of(reminder)
    assert written_date(case.due) in body and VALID_COMPLAINT["subject"] in body
    assert app.test_client().get(case_path(reminder)).status_code == 200
    assert "系統提醒" in app.test_client().get(case_path(reminder)).get_data(as_text=True)


def test_a_restarted_deliverer_does_not_remind_twice(app, smtp_server, sent, tmp_path,
                                                     built_site):
    from helpers import make_app

    _, _, case = sent
    later = end_of(case.due, case.submitted_at.tzinfo) + timedelta(hours=1)
    run_timers(app.config, later)
    restarted = make_app(tmp_path, smtp_server, built_site)  # same store, a new process's app
    assert run_timers(restarted.config, later + timedelta(minutes=5)).reminded == []


@pytest.mark.parametrize("action", ["acknowledge", "reply", "replied_directly"])
def test_a_first_action_stops_the_clock(app, client, smtp_server, sent, action):
    reference, _, case = sent
    [office] = to(smtp_server.handler.parsed(), OFFICE)
    assert act(client, case_path(office), action, "已安排維修。").status_code == 303
    much_later = end_of(escalation_day(case, app.config), case.submitted_at.tzinfo)
    result = run_timers(app.config, much_later + timedelta(days=1))
    assert result.reminded == [] and result.escalated == []


def test_the_committee_is_told_after_working_days_without_personal_data(app, smtp_server,
                                                                        sent):
    reference, _, case = sent
    escalation = end_of(escalation_day(case, app.config), case.submitted_at.tzinfo)
    assert (escalation_day(case, app.config) - case.due).days >= app.config["ESCALATE_AFTER_DAYS"]
    assert run_timers(app.config, escalation - timedelta(seconds=1)).escalated == []
    before = len(smtp_server.handler.messages)
    result = run_timers(app.config, escalation + timedelta(minutes=1))
    assert result.escalated == [reference]
    [notice] = [m for m in new_messages(app, smtp_server, before)
                if "通知業主委員會" in m["Subject"]]
    assert notice["To"] == COMMITTEE
    body = text_of(notice)
    for fact in (reference, "設備設施", VALID_COMPLAINT["subject"], "天前"):
        assert fact in body, fact
    for value in PERSONAL:
        assert value not in notice.as_string(), value
    opened = app.test_client().get(case_path(notice)).get_data(as_text=True)
    assert "通知業主委員會" in opened
    for value in PERSONAL:
        assert value not in opened, value


def test_the_subject_a_resident_signed_with_their_name_is_redacted_in_the_committee_notice(
        app, client, smtp_server):
    reference, _ = confirmation(client, subject="陳大文投訴：電話 9123 4567 升降機壞了")
    case = case_of(app, reference)
    assert "陳大文" not in case.subject and "9123" not in case.subject and "升降機" in case.subject
    later = end_of(escalation_day(case, app.config), case.submitted_at.tzinfo)
    run_timers(app.config, later + timedelta(hours=1))
    notices = [m for m in deliver(app, smtp_server) if "通知業主委員會" in m["Subject"]]
    assert notices and all("9123" not in text_of(m) for m in notices)


def test_a_reopened_case_gets_a_reminder_of_its_own(app, client, smtp_server, sent):
    reference, code, case = sent
    first = end_of(case.due, case.submitted_at.tzinfo) + timedelta(hours=1)
    assert run_timers(app.config, first).reminded == [reference]
    assert follow_up(client, reference, code).status_code == 303
    reopened = case_of(app, reference)
    assert reopened.status == "reopened" and reopened.cycle == 1
    later = end_of(reopened.due, reopened.submitted_at.tzinfo) + timedelta(hours=1)
    assert run_timers(app.config, max(later, first + timedelta(days=1))).reminded == [reference]


def test_the_weekly_digest_goes_to_the_committee_once_on_its_weekday(app, client, smtp_server,
                                                                     sent):
    reference, _, case = sent
    [office] = to(smtp_server.handler.parsed(), OFFICE)
    act(client, case_path(office), "reply", "已回覆。")
    confirmation(client, category="fees")  # a second one, left without an answer
    monday = case.submitted_at + timedelta(days=7 - case.submitted_at.weekday())
    monday = monday.replace(hour=9, minute=30)
    assert run_timers(app.config, monday - timedelta(hours=1)).digest is None  # 08:30
    assert run_timers(app.config, monday).digest is not None
    assert run_timers(app.config, monday + timedelta(hours=5)).digest is None
    assert run_timers(app.config, monday + timedelta(days=1)).digest is None  # a Tuesday
    [digest] = [m for m in deliver(app, smtp_server) if "每週摘要" in m["Subject"]]
    assert digest["To"] == COMMITTEE
    body = text_of(digest)
    assert "處理中的個案：2" in body and "本週已解決：0" in body
    assert "逾期未有首次處理：1" in body
    for value in PERSONAL:
        assert value not in digest.as_string(), value


def test_a_digest_missed_on_its_day_goes_at_the_next_round_and_only_once(app, smtp_server,
                                                                        sent):
    _, _, case = sent
    monday = case.submitted_at + timedelta(days=7 - case.submitted_at.weekday())
    monday = monday.replace(hour=9, minute=30)
    first = run_timers(app.config, monday).digest
    # The next Monday the deliverer is down all day; it comes back on Tuesday morning.
    tuesday = monday + timedelta(days=8, hours=-2)
    late = run_timers(app.config, tuesday).digest
    assert late is not None and late != first
    assert run_timers(app.config, tuesday + timedelta(days=1)).digest is None
    assert run_timers(app.config, tuesday + timedelta(days=5)).digest is None  # Sunday
    assert run_timers(app.config, monday + timedelta(days=14)).digest not in (None, first, late)
    digests = [m for m in deliver(app, smtp_server) if "每週摘要" in m["Subject"]]
    assert len(digests) == 3 and len({m["Message-ID"] for m in digests}) == 3


def test_the_first_digest_ever_waits_for_its_day(app, sent):
    _, _, case = sent
    monday = case.submitted_at + timedelta(days=7 - case.submitted_at.weekday())
    tuesday = monday.replace(hour=10) + timedelta(days=1)
    assert run_timers(app.config, tuesday).digest is None  # last Monday's was never due here
    assert run_timers(app.config, tuesday + timedelta(days=6)).digest is not None


def test_no_digest_when_the_weekday_is_empty(app, sent):
    app.config["DIGEST_WEEKDAY"] = ""
    _, _, case = sent
    assert all(run_timers(app.config, case.submitted_at + timedelta(days=d, hours=9)).digest
               is None for d in range(8))


def test_a_case_is_purged_after_its_keeping_time_and_leaves_only_its_statistics(
        app, client, smtp_server, sent, runner):
    reference, code, case = sent
    [office] = to(smtp_server.handler.parsed(), OFFICE)
    act(client, case_path(office), "reply", "已修妥。")
    last = case_of(app, reference).last_activity
    keep = timedelta(days=app.config["CASE_KEEP_DAYS"])
    assert run_timers(app.config, last + keep - timedelta(minutes=1)).purged == []
    assert run_timers(app.config, last + keep + timedelta(minutes=1)).purged == [reference]
    assert case_of(app, reference) is None
    assert follow_up(client, reference, code).status_code == 422
    assert app.test_client().get(case_path(office)).status_code == 404
    result = runner.invoke(args=["stats"])
    assert "設備設施" in result.output and "100%" in result.output


def test_the_purge_command_purges_old_cases(app, runner, sent):
    reference, _, _ = sent
    app.config["CASE_KEEP_DAYS"] = 1
    with cases.store(Path(app.config["CASE_DB"])) as db:  # a case last touched long ago
        db.execute("UPDATE cases SET last_activity = ?", ("2020-01-01T00:00:00+08:00",))
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "purged 1 case(s)" in result.output
    assert case_of(app, reference) is None


def test_the_delivery_to_the_office_is_on_the_timeline(app, sent):
    _, _, case = sent
    assert case.has("delivered")


def test_statistics_per_month_and_category_hold_no_personal_data(app, client, smtp_server,
                                                                 runner, tmp_path):
    submitted = []
    for category in ("facilities", "facilities", "fees"):
        submitted.append(confirmation(client, category=category))
    deliver(app, smtp_server)
    (fast, fast_code), (slow, _), (fees, _) = submitted
    fast_case, slow_case = case_of(app, fast), case_of(app, slow)
    handling.act(fast_case, "reply", "已處理。", "", fast_case.submitted_at
                 + timedelta(hours=2), app.config)
    handling.act(case_of(app, fast), "resolve", "已修妥。", "", fast_case.submitted_at
                 + timedelta(hours=4), app.config)
    late = end_of(slow_case.due, slow_case.submitted_at.tzinfo) + timedelta(hours=10)
    handling.act(slow_case, "replied_directly", "", "", late, app.config)
    assert follow_up(client, fast, fast_code, reason="not_satisfied").status_code == 303

    csv_path = tmp_path / "stats.csv"
    result = runner.invoke(args=["stats", "--csv", str(csv_path)])
    assert result.exit_code == 0, result.output
    import csv

    with (tmp_path / "stats-cases.csv").open(encoding="utf-8") as f:
        rows = {row["category"]: row for row in csv.DictReader(f)}
    facilities = rows["設備設施"]
    assert facilities["cases"] == "2" and facilities["replied_within_one_working_day"] == "50%"
    assert facilities["median_hours_to_resolution"] == "4.0"
    assert facilities["reopened"] == "50%" and facilities["not_satisfied"] == "1"
    assert rows["收費"]["cases"] == "1" and rows["收費"]["median_hours_to_first_reply"] == ""
    text = (tmp_path / "stats-cases.csv").read_text() + result.output
    for value in PERSONAL + [fast, slow, fees]:
        assert value not in text, value


# --- the real deliverer, days ahead under libfaketime ---------------------------------------

@pytest.mark.slow
def test_the_real_deliverer_days_later_sends_the_reminder_then_the_escalation_once(
        app, smtp_server, sent, built_site):
    reference, _, case = sent
    tz = case.submitted_at.tzinfo
    day_after = end_of(case.due, tz) + timedelta(hours=10)
    run = deliver_at(day_after, app, smtp_server, built_site)
    assert run.returncode == 0, run.stderr
    reminders_sent = [m for m in smtp_server.handler.parsed() if "提醒" in m["Subject"]]
    assert [m["To"] for m in reminders_sent] == [OFFICE]
    assert reference in reminders_sent[0]["Subject"]
    assert not [m for m in smtp_server.handler.parsed() if "通知業主委員會" in m["Subject"]]

    past_escalation = end_of(escalation_day(case, app.config), tz) + timedelta(hours=10)
    for _ in range(2):  # a second run sends nothing again
        run = deliver_at(past_escalation, app, smtp_server, built_site)
        assert run.returncode == 0, run.stderr
    subjects = [m["Subject"] for m in smtp_server.handler.parsed()]
    assert sum("提醒" in s for s in subjects) == 1
    assert sum("通知業主委員會" in s for s in subjects) == 1
    assert [r for r in reminders.run_timers(app.config, past_escalation).escalated] == []


def test_a_case_answered_after_it_was_found_expired_is_not_purged(app, sent):
    """The purge reads the expired cases, then deletes them: a step recorded in between (a
    clerk's reply, about CASE_KEEP_DAYS after the last activity) makes the case current again."""
    reference, _, case = sent
    keep_until = case.last_activity + timedelta(minutes=1)
    with cases.store(Path(app.config["CASE_DB"])) as db:
        [found] = cases.expired(db, keep_until)
        with cases.transaction(db):  # the clerk's reply, just after the purge looked
            cases.record(db, found, "reply", keep_until + timedelta(seconds=1))
        assert cases.delete(db, [reference], keep_until) == []
    assert case_of(app, reference) is not None
