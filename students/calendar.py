"""The family's courses as an iCalendar feed (RFC 5545): one weekly event per
enrollment over the school year, the closure periods left out."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from icalendar import Calendar, Event

PRODID = "-//Extranet//Cours des élèves//FR"


def first_occurrence(year, weekday):
    return year.start_date + timedelta(days=(weekday - year.start_date.weekday()) % 7)


def occurrences(course, year):
    day = first_occurrence(year, course.weekday)
    while day <= year.end_date:
        yield day
        day += timedelta(days=7)


def build_calendar(site, students, year, domain="extranet"):
    zone = ZoneInfo(settings.TIME_ZONE)
    closures = list(year.closures.all()) if year else []
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{site.name} – cours")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    if year is None:
        return calendar
    for student in students:
        for enrollment in student.current_enrollments:
            course = enrollment.course
            start_day = first_occurrence(year, course.weekday)
            event = Event()
            event.add("uid", f"enrollment-{enrollment.pk}@{domain}")
            event.add("summary", f"{student.first_name} – {course.discipline}")
            event.add("dtstart", datetime.combine(start_day, course.start_time, zone))
            event.add("dtend", datetime.combine(start_day, course.end_time, zone))
            until = datetime.combine(year.end_date, time(23, 59, 59), zone)
            event.add("rrule", {"freq": "weekly", "until": until.astimezone(ZoneInfo("UTC"))})
            closed = [
                datetime.combine(day, course.start_time, zone)
                for day in occurrences(course, year)
                if any(c.start_date <= day <= c.end_date for c in closures)
            ]
            if closed:
                event.add("exdate", closed)
            if course.room:
                event.add("location", f"{course.room} – {site.name}")
            details = [str(part) for part in (course.level, course.teacher) if part]
            if details:
                event.add("description", " – ".join(details))
            event.add("dtstamp", datetime.now(ZoneInfo("UTC")))
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar
