"""Anonymous statistics of how complaints were handled (策略四, 策略六): per month and category,
the share of first replies within one working day, the median time to the first reply and to
resolution, the share reopened, and the residents' answers to 問題是否已解決？.

Live cases are counted from the case store; a purged case leaves its outcome in STATS_DB
(table case_outcomes), keyed like stats.py by a keyed hash of the reference: a month, a
category, durations and yes/no, nothing that identifies anyone. A first reply is a reply
or a recorded direct reply (acknowledging alone is not one)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from . import stats
from .cases import REPLIES, Case, end_of
from .vocabulary import CATEGORIES
from .workdays import local_now, next_working_day

SCHEMA = """
CREATE TABLE IF NOT EXISTS case_outcomes (
    key TEXT PRIMARY KEY,           -- keyed hash of the reference
    month TEXT NOT NULL,            -- YYYY-MM submitted
    category TEXT NOT NULL,
    first_reply_seconds INTEGER,    -- NULL: never replied
    replied_in_time INTEGER,        -- within one working day: 1, 0, or NULL while not yet due
    resolution_seconds INTEGER,
    reopened INTEGER NOT NULL,
    satisfaction TEXT               -- yes, no, or NULL: not asked or not answered
);
"""


def seconds_between(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else max(0, round((end - start).total_seconds()))


def outcome(case: Case, config, now: datetime) -> tuple:
    """The anonymous outcome of a case: (month, category, first reply s, in time, resolution s,
    reopened, satisfaction)."""
    first_reply = case.first(REPLIES, 0)
    due = next_working_day(case.submitted_at.date(), config["REGION"])  # the first round's
    deadline = end_of(due, case.submitted_at.tzinfo)
    if first_reply:
        in_time = int(first_reply.at < deadline)
    elif now >= deadline:
        in_time = 0
    else:
        in_time = None  # not yet due
    resolved = case.first(("resolved",))
    answers = [e.kind for e in case.events if e.kind in ("satisfied", "not_satisfied")]
    satisfaction = {"satisfied": "yes", "not_satisfied": "no"}[answers[-1]] if answers else None
    return (f"{case.submitted_at:%Y-%m}", case.category,
            seconds_between(case.submitted_at, first_reply.at if first_reply else None), in_time,
            seconds_between(case.submitted_at, resolved.at if resolved else None),
            int(case.has("follow_up")), satisfaction)


def connect(path: Path):
    db = stats.connect(path)
    db.executescript(SCHEMA)
    return db


def archive(stats_db: Path, purged: list[Case], config) -> None:
    """Keep the outcomes of cases about to be purged (again for the same case: replaced)."""
    now = local_now(config["REGION"])
    rows = [(stats.reference_key(case.reference, config["SECRET_KEY"]), *outcome(case, config, now))
            for case in purged]
    with closing(connect(stats_db)) as db:
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO case_outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")


def hours(values: list[int]) -> float | str:
    return round(statistics.median(values) / 3600, 1) if values else ""


def share(flags: list[int]) -> str:
    return f"{round(100 * sum(flags) / len(flags))}%" if flags else ""


def monthly(stats_db: Path, live: list[Case], config) -> list[dict]:
    """One row per month and category, purged cases and live ones together."""
    now = local_now(config["REGION"])
    with closing(connect(stats_db)) as db:
        rows = {row[0]: row[1:] for row in db.execute("SELECT * FROM case_outcomes")}
    secret = config["SECRET_KEY"]
    rows.update({stats.reference_key(case.reference, secret): outcome(case, config, now)
                 for case in live})
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for row in rows.values():
        groups[(row[0], row[1])].append(row)
    table = []
    for (month, category), items in sorted(groups.items()):
        table.append({
            "month": month,
            "category": CATEGORIES.get(category, category),
            "cases": len(items),
            "replied_within_one_working_day": share([r[3] for r in items if r[3] is not None]),
            "median_hours_to_first_reply": hours([r[2] for r in items if r[2] is not None]),
            "median_hours_to_resolution": hours([r[4] for r in items if r[4] is not None]),
            "reopened": share([r[5] for r in items]),
            "satisfied": sum(r[6] == "yes" for r in items),
            "not_satisfied": sum(r[6] == "no" for r in items),
        })
    return table


COLUMNS = {  # column -> heading
    "month": "月份", "category": "類別", "cases": "個案",
    "replied_within_one_working_day": "一個工作日內首次回覆",
    "median_hours_to_first_reply": "首次回覆小時中位數",
    "median_hours_to_resolution": "解決小時中位數", "reopened": "重開",
    "satisfied": "表示已解決", "not_satisfied": "表示未解決",
}


def weekly_summary(all_cases: list[Case], now: datetime, config) -> dict:
    """The committee's week: open, overdue, resolved, median time to first reply, reopened."""
    since = now - timedelta(days=7)

    def in_week(kinds: tuple[str, ...]) -> int:
        return sum(1 for case in all_cases for e in case.events
                   if e.kind in kinds and since <= e.at < now)

    overdue = [case for case in all_cases if case.is_open and not case.answered
               and now.date() > case.due]
    first_replies = []
    for case in all_cases:
        first = case.first(REPLIES, 0)
        if first and since <= first.at < now:
            first_replies.append(seconds_between(case.submitted_at, first.at))
    return {
        "open": sum(case.is_open for case in all_cases),
        "overdue": len(overdue),
        "resolved": in_week(("resolved",)),
        "median_hours_to_first_reply": hours(first_replies),
        "reopened": in_week(("follow_up",)),
        "overdue_cases": [{"reference": case.reference, "category": case.category_label,
                           "due": case.due} for case in overdue],
    }
