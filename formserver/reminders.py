"""The deliverer's timers, computed from the case store on every round (no timer lives in
memory, so a restart loses nothing): the office's reminder when a case has had no first action
(acknowledge, reply, replied directly) by the end of its due day; the committee's notice
ESCALATE_AFTER_DAYS working days later; the weekly digest on DIGEST_WEEKDAY; the purge of
cases CASE_KEEP_DAYS after their last activity.

Each notice is spooled and recorded in one transaction, so it is sent once; a crash between
the two sends it again with the same Message-ID, as the spool does. Times come from the system
clock in the estate's time zone (libfaketime moves them in the tests), or from `now`."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

from . import access, case_files, case_stats, cases, handling
from .case_messages import build_digest, build_escalation, build_reminder
from .config import WEEKDAYS
from .handling import NotSpooled, spool_to, store
from .spool import head_of
from .workdays import local_now, next_working_day

log = logging.getLogger(__name__)

DIGEST_HOUR = 9  # the digest leaves on the first round from 09:00 of DIGEST_WEEKDAY
ORPHANED_FILES_AGE = 86400  # seconds: a case is opened moments after its files are kept


@dataclass
class TimerRound:
    opened: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    digest: str | None = None
    purged: list[str] = field(default_factory=list)


def working_days_after(day: date, count: int, region: str) -> date:
    for _ in range(count):
        day = next_working_day(day, region)
    return day


def escalation_day(case: cases.Case, config) -> date:
    return working_days_after(case.due, config["ESCALATE_AFTER_DAYS"], config["REGION"])


def run_timers(config, now: datetime | None = None) -> TimerRound:
    """One round of every timer. A broken store or a full disk is logged; the next round
    tries again."""
    now = now or local_now(config["REGION"])
    result = TimerRound()
    for step in (open_waiting, remind, escalate, send_digest, purge):
        try:
            step(config, now, result)
        except cases.StoreUnavailable as error:
            log.warning("timers stopped: the case store cannot be used (%s)", error)
            break  # every other step would fail the same way
        except NotSpooled as error:
            log.warning("timers: %s stopped: %s not spooled", step.__name__, error)
    return result


def open_waiting(config, now: datetime, result: TimerRound) -> None:
    """Cases kept beside the spool while the store was broken, before any timer or purge
    (whose files-without-a-case would otherwise be theirs)."""
    result.opened.extend(handling.open_waiting(config, now))


def unanswered(db, now: datetime, kind: str, when) -> list[cases.Case]:
    """Open cases without a first action in this round, past `when(case)`, not yet given
    this kind of notice in this round."""
    return [case for case in cases.open_cases(db) if not case.answered
            and now >= cases.end_of(when(case), now.tzinfo) and not case.has(kind, case.cycle)]


def notify(db, case: cases.Case, kind: str, now: datetime, build, config) -> bool:
    """Spool and record one notice about a case, once: False if another deliverer has."""
    with cases.transaction(db):
        fresh = cases.load(db, case.reference)
        if fresh is None or fresh.answered or fresh.has(kind, fresh.cycle):
            return False
        link = access.issue_link(db, fresh.reference, config, now)
        spool_to(config, f"{fresh.reference}.{kind}-{fresh.cycle}", build(fresh, link.url))
        cases.note(db, fresh.reference, kind, now, fresh.cycle)
    log.info("case %s: %s sent", case.reference, kind)
    return True


def remind(config, now: datetime, result: TimerRound) -> None:
    with store(config) as db:
        for case in unanswered(db, now, "reminder", lambda case: case.due):
            if notify(db, case, "reminder", now,
                      lambda fresh, url: build_reminder(fresh, url, now, config), config):
                result.reminded.append(case.reference)


def escalate(config, now: datetime, result: TimerRound) -> None:
    with store(config) as db:
        for case in unanswered(db, now, "escalation", lambda case: escalation_day(case, config)):
            age = (now.date() - case.submitted_at.date()).days
            if notify(db, case, "escalation", now,
                      lambda fresh, url, age=age: build_escalation(fresh, url, now, age, config),
                      config):
                result.escalated.append(case.reference)


def digest_weekday(config) -> int | None:
    name = config["DIGEST_WEEKDAY"]
    return WEEKDAYS.index(name) if name else None


def digest_moment(config, now: datetime) -> datetime | None:
    """When the latest digest fell due: the last DIGEST_WEEKDAY at DIGEST_HOUR up to now."""
    weekday = digest_weekday(config)
    if weekday is None:
        return None
    moment = (now - timedelta(days=(now.weekday() - weekday) % 7)).replace(
        hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return moment if moment <= now else moment - timedelta(days=7)


def send_digest(config, now: datetime, result: TimerRound) -> None:
    moment = digest_moment(config, now)
    if moment is None:
        return
    year, week, _ = moment.isocalendar()
    key = f"{year}-W{week:02d}"
    with store(config) as db, cases.transaction(db):
        # A digest missed on its day (the deliverer was down) goes at the first round after,
        # until the next falls due; the first digest ever, only on its day.
        last = cases.last_digest(db)
        if cases.digest_sent(db, key) or (moment.date() != now.date()
                                          and (last is None or last > key)):
            return
        summary = case_stats.weekly_summary(cases.cases_where(db), now, config)
        first_day = now.date() - timedelta(days=7)
        spool_to(config, f"digest-{key}",
                 build_digest(summary, first_day, now.date() - timedelta(days=1), now, config))
        cases.mark_digest(db, key, now)
    log.info("weekly digest %s sent", key)
    result.digest = key


def purge(config, now: datetime, result: TimerRound) -> None:
    result.purged.extend(purge_cases(config, now))


def purge_cases(config, now: datetime) -> list[str]:
    """Delete cases CASE_KEEP_DAYS after their last activity, with their evidence files;
    their anonymous outcome stays in the statistics. Files left without a case (its store
    was broken when the complaint was sent) go a day later."""
    files_dir, keep_until = Path(config["CASE_FILES_DIR"]), now - timedelta(
        days=config["CASE_KEEP_DAYS"])
    gone = []
    with store(config) as db:
        old = cases.expired(db, keep_until)
        if old:
            try:
                case_stats.archive(Path(config["STATS_DB"]), old, config)
            except (sqlite3.Error, OSError) as error:  # retention comes first: delete anyway
                log.warning("could not keep the statistics of %d purged cases: %s", len(old),
                            type(error).__name__)
            gone = cases.delete(db, [case.reference for case in old], keep_until)
        known = cases.all_references(db)
    case_files.delete(files_dir, gone)
    orphans = case_files.purge_orphans(files_dir, known.__contains__, ORPHANED_FILES_AGE,
                                       now.timestamp())
    if gone or orphans:
        log.info("purged %d case(s), %d folder(s) of files without a case", len(gone),
                 len(orphans))
    return gone


def complaint_reference(message: bytes, kind: str = "complaint") -> list[str]:
    """[the reference] of an email of this X-Complaint-Kind: "complaint" (the office's, not a
    receipt, reply or notice) or "to-resident" (a reply relayed, the satisfaction question)."""
    head = head_of(message)
    headers = BytesParser(policy=policy.SMTP).parsebytes(head, headersonly=True)
    if headers.get("X-Complaint-Kind") != kind or not headers.get("X-Complaint-Reference"):
        return []
    return [str(headers["X-Complaint-Reference"])]


def note_deliveries(config, delivered: list[str], undelivered: list[str],
                    now: datetime | None = None) -> None:
    """What this round's emails did to their cases: the office's complaint delivered (noted
    once), an email to the resident set aside (noted each time: the office then knows its reply
    reaches them only on the status page)."""
    if not delivered and not undelivered:
        return
    now = now or local_now(config["REGION"])
    try:
        with store(config) as db:
            for reference in delivered:
                case = cases.load(db, reference)
                if case and not case.has("delivered"):
                    cases.note(db, reference, "delivered", now, case.cycle)
            for reference in undelivered:
                case = cases.load(db, reference)
                if case:
                    cases.note(db, reference, "resident_email_failed", now, case.cycle)
    except cases.StoreUnavailable as error:
        log.warning("could not record deliveries: %s", error)
