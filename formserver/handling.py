"""What each step of a case does, beyond recording it: a complaint opens its case; the
office's reply is relayed to the resident and its resolution asks them whether the problem
is solved; a follow-up reopens the case. A message and the step it belongs to are written in
one transaction of the store, the message spooled before the commit: never sent unrecorded."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from . import access, cases, spool
from .case_messages import build_relay, build_satisfaction
from .complaint import Complaint
from .crypto import seal, unseal
from .privacy.text import redact_text
from .workdays import next_working_day

log = logging.getLogger(__name__)

ACTION_EVENTS = {"acknowledge": "acknowledged", "reply": "replied",
                 "replied_directly": "replied_directly", "resolve": "resolved"}


WAITING = "cases"  # in SPOOL_DIR: cases their store could not take when they were sent


class NotSpooled(Exception):
    """A message of the step could not be put in the spool (disk full): nothing was recorded."""


def store(config):
    return cases.store(Path(config["CASE_DB"]))


def spool_to(config, name: str, message) -> None:
    try:
        spool.spool_message(Path(config["SPOOL_DIR"]), name, message.as_bytes())
    except OSError as error:
        log.error("could not spool %s: %s", name, error.strerror)
        raise NotSpooled(name) from None


def case_subject(complaint: Complaint, region: str) -> str:
    """The subject as the office received it, with personal data redacted even when the
    resident did not ask: the store keeps nothing about them."""
    own = None if complaint.anonymized else {"name": complaint.name, "unit": complaint.unit,
                                             "phone": complaint.phone, "email": complaint.email}
    return redact_text(complaint.subject, region=region, own=own)


def open_case(complaint: Complaint, *, access_code: str, resident_email: str,
              link: access.Link, config, edition: str = "hant") -> bool:
    """After the complaint is spooled: its case, with the link the office's email carries.
    A broken store is logged (without personal data) and tolerated: the complaint is safe,
    and its case waits beside the spool (only what the store would hold) for the deliverer
    to open once the store works again, so that the code and the link still come to work."""
    secret = config["SECRET_KEY"]
    record = {"reference": complaint.reference, "category": complaint.category,
              "recipient": complaint.recipient,
              "subject": case_subject(complaint, config["REGION"]),
              "anonymized": complaint.anonymized,
              "access_hash": access.access_hash(complaint.reference, access_code, secret),
              "email_sealed": seal(resident_email, secret) if resident_email else None,
              "submitted_at": complaint.submitted_at.isoformat(),
              "due": complaint.reply_due.isoformat(), "edition": edition,
              "link_hash": link.hash, "link_expires_at": link.expires_at.isoformat()}
    try:
        with store(config) as db, cases.transaction(db):
            open_from(db, record)
    except cases.StoreUnavailable as error:
        log.error("could not open the case of %s: %s; it waits beside the spool",
                  complaint.reference, error)
        keep_for_later(record, config)
        return False
    return True


def open_from(db, record: dict) -> None:
    fields = {key: value for key, value in record.items() if not key.startswith("link_")}
    cases.open_case(db, **{**fields, "submitted_at": datetime.fromisoformat(record["submitted_at"]),
                           "due": date.fromisoformat(record["due"])})
    cases.add_link(db, record["reference"], record["link_hash"],
                   datetime.fromisoformat(record["link_expires_at"]))


def waiting_folder(config) -> Path:
    return Path(config["SPOOL_DIR"]) / WAITING


def keep_for_later(record: dict, config) -> None:
    tmp, _, _ = spool.folders(Path(config["SPOOL_DIR"]))
    folder = waiting_folder(config)
    try:
        folder.mkdir(exist_ok=True, mode=0o700)
        spool.write_durably(folder / f"{record['reference']}.json", json.dumps(record).encode(),
                            tmp)
    except OSError as error:
        log.error("could not keep the case of %s for later: %s", record["reference"],
                  error.strerror)


def open_waiting(config, now: datetime) -> list[str]:
    """Open the cases kept for later (the deliverer's every round); raises StoreUnavailable
    while the store still fails. Several deliverers open each case once; one kept longer
    than CASE_KEEP_DAYS (the store never came back) is deleted, as its case would be."""
    folder = waiting_folder(config)
    opened = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_bytes())
            kept_since = datetime.fromisoformat(record["submitted_at"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.error("a case kept for later cannot be read: %s", type(error).__name__)
            continue
        if now - kept_since > timedelta(days=config["CASE_KEEP_DAYS"]):
            path.unlink(missing_ok=True)
            continue
        with store(config) as db, cases.transaction(db):
            if cases.load(db, record["reference"]) is None:
                open_from(db, record)
                opened.append(record["reference"])
        path.unlink(missing_ok=True)
    if opened:
        log.info("opened %d case(s) kept while the store was broken", len(opened))
    return opened


def resident_email(db, case: cases.Case, config) -> str | None:
    stored = cases.secrets_of(db, case.reference)
    if not stored or not stored[1]:
        return None
    email = unseal(stored[1], config["SECRET_KEY"])
    if email is None:
        log.warning("the email of %s cannot be opened (SECRET_KEY changed?)", case.reference)
    return email


def answer_urls(reference: str, config, edition: str = "hant") -> dict[str, str]:
    token = access.grant(reference, config["SECRET_KEY"])
    base = f"{access.status_url(config, edition)}/answer?token={token}&answer="
    return {"yes": base + "yes", "no": base + "no"}


def already_done(case: cases.Case, action: str, message: str, handled_by: str) -> bool:
    """Whether the case already holds this very action (a second click, a replayed form),
    as opposed to a case another step changed meanwhile."""
    return any(event.kind == ACTION_EVENTS[action] and event.message == message
               and event.handled_by == handled_by for event in case.events)


def act(case: cases.Case, action: str, message: str, handled_by: str, now: datetime,
        config) -> cases.Event:
    """The office's action on the case as it was shown. A reply goes to the resident, a
    resolution asks them whether it is solved (when they gave an email). Raises NotAllowed,
    Stale, NotSpooled or StoreUnavailable, each with nothing changed."""
    status = cases.next_status(case, action)
    with store(config) as db, cases.transaction(db):
        event = cases.record(db, case, ACTION_EVENTS[action], now, status=status,
                             message=message, handled_by=handled_by)
        to = resident_email(db, case, config) if action in ("reply", "resolve") else None
        if to and action == "reply":
            spool_to(config, f"{case.reference}.reply-{event.id}",
                     build_relay(case, event, to, access.status_url(config, case.edition), config))
        elif to:
            urls = answer_urls(case.reference, config, case.edition)
            spool_to(config, f"{case.reference}.resolved-{event.id}",
                     build_satisfaction(case, event, to, urls,
                                        access.status_url(config, case.edition), config))
    log.info("case %s: %s", case.reference, ACTION_EVENTS[action])
    return event


def confirm_solved(case: cases.Case, now: datetime, config) -> None:
    """The resident says the problem is solved: the case is closed (已結束)."""
    status = cases.next_status(case, "satisfied")
    with store(config) as db, cases.transaction(db):
        cases.record(db, case, "satisfied", now, status=status)
    log.info("case %s: closed, the resident is satisfied", case.reference)


@dataclass(frozen=True)
class FollowUp:
    case: cases.Case
    link: access.Link
    details: str  # as the office receives it: de-identified when the complaint was


def prepare_follow_up(reference: str, access_code: str, details: str, now: datetime,
                      config, keep: tuple[str, ...] = ()) -> FollowUp | None:
    """A follow-up the access code allows, or None; raises StoreUnavailable. keep: the
    estate's published numbers, which de-identification leaves in."""
    with store(config) as db:
        case = access.case_for_code(db, reference, access_code, config)
    if case is None:
        return None
    if case.anonymized:  # the follow-up inherits the complaint's choice
        details = redact_text(details, region=config["REGION"], keep=keep)
    return FollowUp(case, access.new_link(config, now), details)


def reopen(follow_up: FollowUp, number: int, reason: str, now: datetime, config) -> None:
    """After the follow-up is spooled: the case reopens (已重開) with a new due date, and
    remembers the follow-up's link. A 複查 of a resolved case records "not solved"."""
    reference = follow_up.case.reference
    try:
        with store(config) as db, cases.transaction(db):
            case = cases.load(db, reference)
            if case.status == "resolved" and reason == "not_satisfied":
                cases.record(db, case, "not_satisfied", now)
                case = cases.load(db, reference)
            cases.record(db, case, "follow_up", now, status="reopened", new_cycle=True,
                         message=f"第 {number} 次", due=next_working_day(now.date(),
                                                                       config["REGION"]))
            cases.add_link(db, reference, follow_up.link.hash, follow_up.link.expires_at)
    except cases.StoreUnavailable as error:
        log.error("could not reopen the case of %s: %s", reference, error)

