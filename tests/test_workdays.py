"""Dates as residents and clerks read them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from formserver.workdays import captured_time, next_working_day, written_date, written_time


@pytest.mark.parametrize(("value", "written"), [
    (date(2026, 12, 3), "2026年12月3日（星期四）"),
    ("2026-12-06", "2026年12月6日（星期日）"),
    (datetime(2026, 11, 20, 8, 30), "2026年11月20日（星期五）"),
    (None, ""),
])
def test_dates_are_written_with_the_day_of_the_week_not_in_iso(value, written):
    assert written_date(value) == written


def test_a_time_follows_the_date_when_asked():
    assert written_time(datetime(2026, 11, 20, 8, 30)) == "2026年11月20日（星期五） 08:30"
    assert written_time("2026-12-01T21:05:00+08:00") == "2026年12月1日（星期二） 21:05"


@pytest.mark.parametrize(("captured", "region", "written"), [
    ("2024-03-15 14:30:00", "HK", "2024年3月15日（星期五） 14:30"),  # a photo: the camera's time
    ("2024-03-15 14:30:00 UTC", "HK", "2024年3月15日（星期五） 22:30"),  # a recording: UTC
    ("2024-03-15 20:00:00 UTC", "TW", "2024年3月16日（星期六） 04:00"),
    ("not a time", "HK", "not a time"),
    (None, "HK", ""),
])
def test_a_files_capture_time_is_written_as_people_write_it_in_local_time(captured, region,
                                                                           written):
    assert captured_time(captured, region) == written


@pytest.mark.parametrize(("region", "day", "next_one"), [
    ("HK", date(2026, 4, 2), date(2026, 4, 8)),  # Good Friday to the day after Easter Monday
    ("HK", date(2026, 12, 24), date(2026, 12, 28)),  # Christmas and Boxing Day
    ("MO", date(2026, 12, 23), date(2026, 12, 28)),  # Christmas Eve and Christmas
    ("MO", date(2026, 10, 30), date(2026, 11, 3)),  # All Souls' Day
    ("CN", date(2026, 9, 30), date(2026, 10, 8)),  # the National Day week
    ("TW", date(2026, 2, 13), date(2026, 2, 23)),  # the Lunar New Year
])
def test_the_next_working_day_skips_the_days_offices_are_closed(region, day, next_one):
    assert next_working_day(day, region) == next_one
