"""The estate's clock and calendar: local time in its region, and working days (holidays,
weekends, make-up working days) for due dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TIMEZONES = {"HK": "Asia/Hong_Kong", "MO": "Asia/Macau", "TW": "Asia/Taipei",
             "CN": "Asia/Shanghai"}


def local_now(region: str) -> datetime:
    return datetime.now(ZoneInfo(TIMEZONES[region])).replace(microsecond=0)


# The days an estate's office is closed. Hong Kong: the general holidays (General Holidays
# Ordinance, Cap. 149: Good Friday, Easter, Boxing Day ...), which the holidays package files
# as "optional", with the statutory ones ("public"). Macau: the public service holidays the
# Chief Executive announces each year (Christmas, All Souls' Day, rest days in lieu ...),
# filed as "government", with the statutory ones. Elsewhere the package's public holidays.
_CATEGORIES = {"HK": ("public", "optional"), "MO": ("public", "government")}


@lru_cache(maxsize=8)
def holiday_calendar(region: str, year: int) -> holidays.HolidayBase:
    """This year's and next year's holidays (building one takes about a millisecond)."""
    return holidays.country_holidays(region, years=(year, year + 1),
                                     categories=_CATEGORIES.get(region, ("public",)))


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


WEEKDAYS = "一二三四五六日"


def written_date(value: date | datetime | str | None, with_time: bool = False) -> str:
    """A date as people write it: 2026年12月3日（星期四）, with the time (08:30) when asked.
    Takes a date, a datetime or its ISO text (as a session keeps it)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    text = f"{value.year}年{value.month}月{value.day}日（星期{WEEKDAYS[value.weekday()]}）"
    if with_time and isinstance(value, datetime):
        text += f" {value:%H:%M}"
    return text


def written_time(value: datetime | str | None) -> str:
    return written_date(value, with_time=True)


def captured_time(value: str | None, region: str) -> str:
    """A file's capture time (2024-03-15 14:30:00, or with " UTC") as people write it, in the
    region's time: a photo's EXIF time has no zone and is the camera's own; a recording's is
    UTC. Text that is not such a time is given back as it is."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.removesuffix(" UTC"))
    except ValueError:
        return value
    if value.endswith(" UTC"):
        moment = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(TIMEZONES[region]))
    return written_time(moment)
