"""The case store (CASE_DB, SQLite): what happened to each complaint after it was sent.

A case holds the reference, category, recipient, the subject as the office received it with
personal data redacted, the status, whether the resident asked for de-identification, the time
of each step with the office's replies, keyed hashes of its credentials and, only when the
resident gave one, their email address sealed with a key derived from SECRET_KEY. Nothing else
about the resident. Only this module reads or writes the store.

Every change of a case bumps its version; a change made for a version that is no longer the
case's (a replayed form, a second click) raises Stale and changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .vocabulary import CATEGORIES, OPEN_STATUSES, RECIPIENTS, STATUSES

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    reference TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,          -- as the office received it, personal data redacted
    anonymized INTEGER NOT NULL,
    status TEXT NOT NULL,           -- a key of vocabulary.STATUSES
    access_hash TEXT NOT NULL,      -- keyed hash of the resident's access code
    email_sealed TEXT,              -- the resident's email, encrypted; NULL without one
    submitted_at TEXT NOT NULL,     -- ISO 8601 in the estate's time zone
    due TEXT NOT NULL,              -- the current round's due date for a first action
    cycle INTEGER NOT NULL,         -- 0, then one more for each reopening
    version INTEGER NOT NULL,
    last_activity TEXT NOT NULL,
    closed_at TEXT,
    edition TEXT NOT NULL DEFAULT 'hant'  -- the script the resident wrote in: hant or hans
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    handled_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_case ON events (reference, kind, cycle);
CREATE TABLE IF NOT EXISTS links (
    token_hash TEXT PRIMARY KEY,    -- keyed hash of the office's case link
    reference TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS digests (week TEXT PRIMARY KEY, sent_at TEXT NOT NULL);
"""

# The office's first action in a round stops its clock (策略六).
FIRST_ACTIONS = ("acknowledged", "replied", "replied_directly")
REPLIES = ("replied", "replied_directly")


class StoreUnavailable(Exception):
    """The store cannot be read or written (a broken file, a full disk)."""


class Stale(Exception):
    """The case changed since the page was shown: a replayed or repeated form."""


class NotAllowed(Exception):
    """The step does not fit the case's status; the message is for the page."""


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    at: datetime
    cycle: int
    message: str = ""
    handled_by: str = ""


@dataclass(frozen=True)
class Case:
    reference: str
    category: str
    recipient: str
    subject: str
    anonymized: bool
    status: str
    has_email: bool
    submitted_at: datetime
    due: date
    cycle: int
    version: int
    last_activity: datetime
    closed_at: datetime | None
    events: tuple[Event, ...]
    edition: str = "hant"  # the resident's script, for what is relayed to them

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def recipient_label(self) -> str:
        return RECIPIENTS.get(self.recipient, self.recipient)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def first(self, kinds: tuple[str, ...], cycle: int | None = None) -> Event | None:
        """The earliest event of these kinds (in one round, when given)."""
        return next((e for e in self.events if e.kind in kinds
                     and (cycle is None or e.cycle == cycle)), None)

    @property
    def answered(self) -> Event | None:
        """The office's first action in the current round, if any."""
        return self.first(FIRST_ACTIONS, self.cycle)

    def has(self, kind: str, cycle: int | None = None) -> bool:
        return self.first((kind,), cycle) is not None


def end_of(day: date, tzinfo) -> datetime:
    """The first moment after `day`: a due day lasts until midnight."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tzinfo)


# --- transitions ------------------------------------------------------------------------------

def next_status(case: Case, step: str) -> str:
    """The status after a step, or NotAllowed with a sentence for the page."""
    if step == "follow_up":
        return "reopened"
    if step == "satisfied":
        if case.status != "resolved":
            raise NotAllowed("這個投訴目前不是「已解決」，毋須確認。")
        return "closed"
    if not case.is_open:
        raise NotAllowed(f"這個個案{case.status_label}，不能再作這項操作。"
                         "如投訴人要求複查，個案會重開。")
    if step == "acknowledge":
        if case.status in ("acknowledged", "in_progress"):
            raise NotAllowed("這個個案已經受理。")
        return "acknowledged" if case.status == "submitted" else "in_progress"
    return {"reply": "replied", "replied_directly": "replied", "resolve": "resolved"}[step]


# --- the store --------------------------------------------------------------------------------

_ready: set[Path] = set()


def connect(path: Path) -> sqlite3.Connection:
    if path not in _ready:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            add_missing_columns(db)
        path.chmod(0o600)
        _ready.add(path)
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def add_missing_columns(db: sqlite3.Connection) -> None:
    """A store made before a column was added gets it (with its default)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(cases)")}
    if "edition" not in have:
        db.execute("ALTER TABLE cases ADD COLUMN edition TEXT NOT NULL DEFAULT 'hant'")


@contextmanager
def store(path: Path) -> Iterator[sqlite3.Connection]:
    """The open store; a failure of the database or its disk becomes StoreUnavailable."""
    try:
        db = connect(path)
    except (sqlite3.Error, OSError) as error:
        _ready.discard(path)
        raise StoreUnavailable(type(error).__name__) from None
    try:
        yield db
    except (sqlite3.Error, OSError) as error:
        _ready.discard(path)  # a store replaced or restored meanwhile gets its schema again
        raise StoreUnavailable(type(error).__name__) from None
    finally:
        db.close()


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (several deliverers never read the same state)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def open_case(db, *, reference: str, category: str, recipient: str, subject: str,
              anonymized: bool, access_hash: str, email_sealed: str | None,
              submitted_at: datetime, due: date, edition: str = "hant") -> None:
    """A new case, status 已提交. Call inside a transaction (with its first link)."""
    at = submitted_at.isoformat()
    db.execute("INSERT INTO cases VALUES "
               "(?, ?, ?, ?, ?, 'submitted', ?, ?, ?, ?, 0, 0, ?, NULL, ?)",
               (reference, category, recipient, subject, int(anonymized), access_hash,
                email_sealed, at, due.isoformat(), at, edition))
    note(db, reference, "submitted", submitted_at, 0)


COLUMNS = ("reference, category, recipient, subject, anonymized, status, email_sealed IS NOT NULL, "
           "submitted_at, due, cycle, version, last_activity, closed_at, edition")


def case_from(db, row) -> Case:
    events = tuple(Event(id_, kind, datetime.fromisoformat(at), cycle, message, handled_by)
                   for id_, kind, at, cycle, message, handled_by in db.execute(
                       "SELECT id, kind, at, cycle, message, handled_by FROM events "
                       "WHERE reference = ? ORDER BY id", (row[0],)))
    return Case(row[0], row[1], row[2], row[3], bool(row[4]), row[5], bool(row[6]),
                datetime.fromisoformat(row[7]), date.fromisoformat(row[8]), row[9], row[10],
                datetime.fromisoformat(row[11]),
                datetime.fromisoformat(row[12]) if row[12] else None, events, row[13])


def load(db, reference: str) -> Case | None:
    row = db.execute(f"SELECT {COLUMNS} FROM cases WHERE reference = ?", (reference,)).fetchone()
    return case_from(db, row) if row else None


def cases_where(db, condition: str = "1", params: tuple = ()) -> list[Case]:
    rows = db.execute(f"SELECT {COLUMNS} FROM cases WHERE {condition} ORDER BY submitted_at",
                      params).fetchall()
    return [case_from(db, row) for row in rows]


def open_cases(db) -> list[Case]:
    marks = ", ".join("?" * len(OPEN_STATUSES))
    return cases_where(db, f"status IN ({marks})", OPEN_STATUSES)


def secrets_of(db, reference: str) -> tuple[str, str | None] | None:
    """(access hash, sealed email) of a case; None when there is no such case."""
    return db.execute("SELECT access_hash, email_sealed FROM cases WHERE reference = ?",
                      (reference,)).fetchone()


def record(db, case: Case, kind: str, now: datetime, *, status: str | None = None,
           message: str = "", handled_by: str = "", due: date | None = None,
           new_cycle: bool = False) -> Event:
    """Add an event to a case still at the version it was read at (else Stale), and set its
    status. Call inside a transaction."""
    cycle = case.cycle + 1 if new_cycle else case.cycle
    status = status or case.status
    closed = now.isoformat() if status == "closed" else None
    changed = db.execute(
        "UPDATE cases SET status = ?, version = version + 1, last_activity = ?, cycle = ?, "
        "due = ?, closed_at = ? WHERE reference = ? AND version = ?",
        (status, now.isoformat(), cycle, (due or case.due).isoformat(), closed, case.reference,
         case.version)).rowcount
    if not changed:
        raise Stale(case.reference)
    id_ = db.execute("INSERT INTO events (reference, kind, at, cycle, message, handled_by) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (case.reference, kind, now.isoformat(), cycle, message, handled_by)).lastrowid
    return Event(id_, kind, now, cycle, message, handled_by)


def note(db, reference: str, kind: str, now: datetime, cycle: int) -> None:
    """An event that changes nothing else (delivered, reminded): no version, no activity."""
    db.execute("INSERT INTO events (reference, kind, at, cycle) VALUES (?, ?, ?, ?)",
               (reference, kind, now.isoformat(), cycle))


# --- the office's links -------------------------------------------------------------------------

def add_link(db, reference: str, token_hash: str, expires_at: datetime) -> None:
    db.execute("INSERT INTO links VALUES (?, ?, ?, 0)",
               (token_hash, reference, expires_at.isoformat()))


def case_for_link(db, token_hash: str, now: datetime) -> Case | None:
    """The case a link opens; None for a wrong, expired or revoked one alike."""
    row = db.execute("SELECT reference, expires_at, revoked FROM links WHERE token_hash = ?",
                     (token_hash,)).fetchone()
    if not row or row[2] or datetime.fromisoformat(row[1]) <= now:
        return None
    return load(db, row[0])


def revoke_links(db, reference: str) -> int:
    return db.execute("UPDATE links SET revoked = 1 WHERE reference = ? AND revoked = 0",
                      (reference,)).rowcount


# --- digests and retention ----------------------------------------------------------------------

def digest_sent(db, week: str) -> bool:
    return db.execute("SELECT 1 FROM digests WHERE week = ?", (week,)).fetchone() is not None


def last_digest(db) -> str | None:
    """The latest week a digest was sent for (weeks are 2026-W49: they sort as text)."""
    return db.execute("SELECT max(week) FROM digests").fetchone()[0]


def mark_digest(db, week: str, now: datetime) -> None:
    db.execute("INSERT INTO digests VALUES (?, ?)", (week, now.isoformat()))


def expired(db, keep_until: datetime) -> list[Case]:
    """Cases whose last activity (their closing, for a closed one) came before keep_until."""
    old = [reference for reference, last in db.execute(
        "SELECT reference, last_activity FROM cases") if datetime.fromisoformat(last) < keep_until]
    return [load(db, reference) for reference in old]


def all_references(db) -> set[str]:
    return {reference for (reference,) in db.execute("SELECT reference FROM cases")}


def delete(db, references: list[str], keep_until: datetime) -> list[str]:
    """Delete these cases, but not one whose activity since (a step recorded after they were
    found expired) made it current again; return those deleted."""
    deleted = []
    with transaction(db):
        for reference in references:
            row = db.execute("SELECT last_activity FROM cases WHERE reference = ?",
                             (reference,)).fetchone()
            if row and datetime.fromisoformat(row[0]) >= keep_until:
                continue
            for table in ("events", "links", "cases"):
                db.execute(f"DELETE FROM {table} WHERE reference = ?", (reference,))
            deleted.append(reference)
    return deleted
