"""Anonymous statistics (策略四: 整理分類): what kinds of complaint come in and how delivery went.

Rows hold only the day, category, recipient, whether de-identified, the number of files, the
outcome and the time to delivery: nothing that identifies anyone. Follow-up limits need to know
which references exist; they are kept only as keyed hashes (HMAC with the app's secret)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from .spool import head_of
from .vocabulary import CATEGORIES

SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    day TEXT NOT NULL,             -- YYYY-MM-DD the complaint was submitted
    kind TEXT NOT NULL,            -- complaint or follow-up
    category TEXT NOT NULL,
    recipient TEXT NOT NULL,
    anonymized INTEGER NOT NULL,
    files INTEGER NOT NULL,
    outcome TEXT NOT NULL,         -- delivered or failed
    seconds_to_outcome INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS references_seen (key TEXT PRIMARY KEY, day TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS follow_ups (key TEXT NOT NULL, day TEXT NOT NULL);
"""


_ready: set[Path] = set()  # databases this process has already given the schema


def connect(path: Path) -> sqlite3.Connection:
    if path not in _ready:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")  # kept in the file: set once
            db.executescript(SCHEMA)
        _ready.add(path)
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA synchronous=NORMAL")  # with WAL: safe against crashes, not power loss
    return db


def reference_key(reference: str, secret: str) -> str:
    return hmac.new(secret.encode(), reference.encode(), hashlib.sha256).hexdigest()


def outcome_row(message: bytes, outcome: str, now: float) -> tuple | None:
    """The anonymous row for an office message delivered or set aside; None for a receipt."""
    head = head_of(message)  # the headers are all it needs
    headers = BytesParser(policy=policy.SMTP).parsebytes(head, headersonly=True)
    category = headers.get("X-Complaint-Category")
    if not category:
        return None
    submitted = parsedate_to_datetime(str(headers["Date"]))
    return (submitted.date().isoformat(), str(headers.get("X-Complaint-Kind", "complaint")),
            str(category), str(headers.get("X-Complaint-Recipient", "")),
            int(headers.get("X-Complaint-Anonymized") == "yes"),
            int(str(headers.get("X-Complaint-Files", "0"))), outcome,
            max(0, round(now - submitted.timestamp())))


def record_outcomes(db_path: Path, rows: list[tuple]) -> None:
    """A delivery round's outcomes, in one transaction."""
    if rows:
        with closing(connect(db_path)) as db:
            db.execute("BEGIN")
            db.executemany("INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")


def remember_reference(db_path: Path, reference: str, secret: str, day: str) -> None:
    with closing(connect(db_path)) as db:
        db.execute("INSERT OR IGNORE INTO references_seen VALUES (?, ?)",
                   (reference_key(reference, secret), day))


def reference_exists(db_path: Path, reference: str, secret: str) -> bool:
    with closing(connect(db_path)) as db:
        row = db.execute("SELECT 1 FROM references_seen WHERE key = ?",
                         (reference_key(reference, secret),)).fetchone()
    return row is not None


def count_follow_ups(db_path: Path, reference: str, secret: str, day: str | None = None) -> int:
    query = "SELECT COUNT(*) FROM follow_ups WHERE key = ?"
    params = [reference_key(reference, secret)]
    if day:
        query += " AND day = ?"
        params.append(day)
    with closing(connect(db_path)) as db:
        return db.execute(query, params).fetchone()[0]


@contextmanager
def follow_up_slot(db_path: Path, reference: str, secret: str, day: str, per_day: int,
                   total: int) -> Iterator[int | None]:
    """The number the next follow-up of this reference gets, or None when its limits are
    reached. Counted and checked in one transaction that holds the database's write lock
    (BEGIN IMMEDIATE), so that concurrent follow-ups wait for each other; the follow-up is
    counted only when the block ends without an error (once it is spooled)."""
    key = reference_key(reference, secret)
    with closing(connect(db_path)) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            so_far, today = db.execute("SELECT COUNT(*), COALESCE(SUM(day = ?), 0) FROM "
                                       "follow_ups WHERE key = ?", (day, key)).fetchone()
            if today >= per_day or so_far >= total:
                yield None
                return
            yield so_far + 1
            db.execute("INSERT INTO follow_ups VALUES (?, ?)", (key, day))
            db.execute("COMMIT")
        finally:
            if db.in_transaction:
                with suppress(sqlite3.Error):
                    db.execute("ROLLBACK")


def monthly(db_path: Path) -> list[dict]:
    """One row per month: counts by category and outcome, and the median time to delivery."""
    with closing(connect(db_path)) as db:
        rows = db.execute("SELECT day, kind, category, anonymized, files, outcome, "
                          "seconds_to_outcome FROM outcomes ORDER BY day").fetchall()
    months: dict[str, list] = defaultdict(list)
    for row in rows:
        months[row[0][:7]].append(row)
    table = []
    for month, items in sorted(months.items()):
        delivered = [r[6] for r in items if r[5] == "delivered"]
        entry = {"month": month, "complaints": sum(r[1] == "complaint" for r in items),
                 "follow_ups": sum(r[1] == "follow-up" for r in items)}
        entry.update({category: sum(r[2] == category for r in items) for category in CATEGORIES})
        entry.update({
            "anonymized": sum(r[3] for r in items),
            "files": sum(r[4] for r in items),
            "delivered": len(delivered),
            "failed": sum(r[5] == "failed" for r in items),
            "median_minutes_to_delivery": (round(statistics.median(delivered) / 60, 1)
                                           if delivered else ""),
        })
        table.append(entry)
    return table


def write_csv(table: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]) if table else ["month"])
        writer.writeheader()
        writer.writerows(table)
