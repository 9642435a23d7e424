"""The suite's "today", and school years computed from it.

Every test runs with the clock frozen at NOW (tests/conftest.py), ticking from there so that
durations still elapse. Nothing in the tests may depend on which day NOW is: a test needing
a year or a date computes it from here. To check that, run the suite at another instant:

    TESTS_NOW=2028-07-14T10:00 .venv/bin/python -m pytest -m "not browser"
"""

import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

NOW = datetime.fromisoformat(os.environ.get("TESTS_NOW", "2026-12-01T10:00")).replace(tzinfo=PARIS)
TODAY = NOW.date()


def first_day(start_year):
    """The first day of lessons of the school year starting in `start_year`: the Monday
    between 10 and 16 September (e.g. 14/09/2026 for 2026-2027)."""
    day = date(start_year, 9, 10)
    return day + timedelta(days=-day.weekday() % 7)


def last_day(start_year):
    """Its last day of lessons: the last Sunday of June (e.g. 27/06/2027)."""
    day = date(start_year + 1, 6, 30)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def autumn_break(start_year):
    """The Toussaint holidays: the two weeks up to the first Sunday of November (17/10 to
    01/11 in 2026)."""
    end = date(start_year, 11, 1)
    end += timedelta(days=(6 - end.weekday()) % 7)
    return end - timedelta(days=15), end


def start_year_of(day):
    """The year in which the school year of `day` starts; in summer, once the lessons are
    over, the coming one (as SchoolYear.objects.current does)."""
    return day.year - 1 if day <= last_day(day.year - 1) else day.year


def year_name(start_year):
    return f"{start_year}-{start_year + 1}"


def school_year_of(day):
    """E.g. "2026-2027" for any day from 28/06/2026 to 27/06/2027."""
    return year_name(start_year_of(day))


THIS_YEAR = start_year_of(TODAY)


def _lesson_time():
    """NOW when this week has lessons; else (summer, Toussaint) 10:00 on the Tuesday of the
    second week of lessons of THIS_YEAR, for the tests about "this week's" lessons."""
    closed_from, closed_to = autumn_break(THIS_YEAR)
    if first_day(THIS_YEAR) <= TODAY <= last_day(THIS_YEAR) and not (
        closed_from - timedelta(days=6) <= TODAY <= closed_to
    ):
        return NOW
    day = first_day(THIS_YEAR) + timedelta(days=8)
    return datetime(day.year, day.month, day.day, 10, tzinfo=PARIS)


LESSON_TIME = _lesson_time()
LESSON_DAY = LESSON_TIME.date()
