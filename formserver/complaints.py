"""A complaint as the server holds it between the form and the spool, and its reference."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from .evidence import Evidence
from .forms import CATEGORIES, RECIPIENTS

# Easy to read aloud over the phone: no 0/O or 1/I/L to confuse.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TIMEZONES = {"HK": "Asia/Hong_Kong", "MO": "Asia/Macau", "TW": "Asia/Taipei",
             "CN": "Asia/Shanghai"}


@dataclass(frozen=True)
class Complaint:
    reference: str
    submitted_at: datetime  # aware, in the estate's time zone
    reply_due: date
    recipient: str  # office or committee
    category: str
    name: str
    unit: str
    phone: str
    email: str
    subject: str
    description: str
    occurred_at: datetime | None
    location: str
    impact: str
    expected_resolution: str
    follow_up_ref: str = ""
    anonymized: bool = False
    evidence: tuple[Evidence, ...] = field(default=())

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category]

    @property
    def recipient_label(self) -> str:
        return RECIPIENTS[self.recipient]

    @property
    def has_media(self) -> bool:
        """Video or audio: metadata the server cannot strip."""
        return any(item.family in ("video", "audio") for item in self.evidence)


def new_reference(now: datetime) -> str:
    """Unique without a shared counter: the date plus 6 random characters (31⁶ ≈ 9×10⁸ a day)."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{now:%Y%m%d}-{code[:3]}-{code[3:]}"


def local_now(region: str) -> datetime:
    return datetime.now(ZoneInfo(TIMEZONES[region])).replace(microsecond=0)


@lru_cache(maxsize=8)
def holiday_calendar(region: str, year: int) -> holidays.HolidayBase:
    """This year's and next year's public holidays (building one takes about a millisecond)."""
    return holidays.country_holidays(region, years=(year, year + 1))


def next_working_day(day: date, region: str) -> date:
    """The first working day after `day`: weekends and public holidays skipped, make-up
    working days (調休) counted where the calendar knows them."""
    calendar = holiday_calendar(region, day.year)
    make_up_days = getattr(calendar, "weekend_workdays", set())

    def is_working(candidate: date) -> bool:
        weekday = candidate.weekday() < 5 or candidate in make_up_days
        return weekday and calendar.is_working_day(candidate)

    day += timedelta(days=1)
    while not is_working(day):
        day += timedelta(days=1)
    return day


def to_record(complaint: Complaint) -> dict:
    """The complaint as JSON-ready data, files reduced to what describes them."""
    record = {name: getattr(complaint, name) for name in Complaint.__dataclass_fields__}
    record["submitted_at"] = complaint.submitted_at.isoformat()
    record["reply_due"] = complaint.reply_due.isoformat()
    record["occurred_at"] = complaint.occurred_at.isoformat() if complaint.occurred_at else None
    record["evidence"] = [{k: v for k, v in vars(item).items() if k != "data"}
                          for item in complaint.evidence]
    return record


def from_record(record: dict) -> Complaint:
    """The inverse of to_record, with empty files: enough to show or print the complaint."""
    values = dict(record)
    values["submitted_at"] = datetime.fromisoformat(values["submitted_at"])
    values["reply_due"] = date.fromisoformat(values["reply_due"])
    if values["occurred_at"]:
        values["occurred_at"] = datetime.fromisoformat(values["occurred_at"])
    values["evidence"] = tuple(Evidence(data=b"", **item) for item in values["evidence"])
    return Complaint(**values)
