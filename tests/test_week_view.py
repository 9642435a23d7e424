"""« La semaine de la famille »: the week's dates, its closures, other weeks,
and the calendar link offered as webcal://, with a copy button."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from students.models import CalendarFeed, ClosurePeriod, Enrollment

from . import clock, factories

WEEK = reverse("students:timetable")

pytestmark = pytest.mark.django_db


@pytest.fixture
def year(combs):
    return factories.school_year(combs)


@pytest.fixture
def lea(parent, year):
    courses = factories.structure(parent.site, year)["courses"]
    factories.student(parent.family, "Hugo", courses=[courses[1], courses[0]])
    return factories.student(parent.family, "Léa", courses=[courses[0], courses[2]])


def french(day, fmt="l j F"):
    with translation.override("fr"):
        return formats.date_format(day, fmt)


def monday(day):
    return day - timedelta(days=day.weekday())


def test_each_day_shows_its_date(during_lessons, parent_client, lea):
    page = parent_client.get(WEEK).text
    this_monday = monday(during_lessons)
    wednesday, saturday = this_monday + timedelta(days=2), this_monday + timedelta(days=5)
    assert french(wednesday).capitalize() in page
    assert french(saturday).capitalize() in page
    assert page.index(french(wednesday).capitalize()) < page.index("17:00–18:00")
    sunday = this_monday + timedelta(days=6)
    assert f"Semaine du {french(this_monday, 'j F')} au {french(sunday, 'j F Y')}" in page


def test_a_week_of_holidays_shows_the_closure(parent_client, lea, year):
    closed_from, closed_to = clock.autumn_break(clock.THIS_YEAR)
    week = monday(closed_from + timedelta(days=3))
    page = parent_client.get(WEEK, {"semaine": week.isoformat()}).text
    assert "Fermetures cette semaine\u00a0:" in page
    assert "Toussaint\u00a0: pas de cours du" in page
    assert "Pas de cours\u00a0: Toussaint." in page
    assert "17:00–18:00" not in page  # Wednesday is a holiday.
    assert 'href="/eleves/emploi-du-temps/"' in page  # Back to this week.


def test_other_weeks_and_a_wrong_week(parent_client, lea):
    this_monday = monday(clock.TODAY)
    page = parent_client.get(WEEK).text
    assert f'href="?semaine={(this_monday + timedelta(days=7)).isoformat()}"' in page
    assert f'href="?semaine={(this_monday - timedelta(days=7)).isoformat()}"' in page
    wrong = parent_client.get(WEEK, {"semaine": "2026-13-45"})
    assert wrong.status_code == 200
    assert wrong.context["week"].monday == this_monday
    after = parent_client.get(WEEK, {"semaine": (clock.TODAY + timedelta(days=400)).isoformat()})
    assert "Pas de cours\u00a0: en dehors de l’année scolaire." in after.text


def test_the_calendar_link_is_offered_as_webcal_with_help(parent_client, parent, lea):
    parent_client.post(reverse("students:calendar_renew"))
    feed = CalendarFeed.objects.get(family=parent.family)
    page = parent_client.get(WEEK).text
    assert f'href="webcal://testserver/calendrier/{feed.token}.ics"' in page
    assert f'value="http://testserver/calendrier/{feed.token}.ics"' in page
    assert 'data-copy="feed-url"' in page and "/static/js/copy.js" in page
    for name in ["Google Agenda", "Apple Calendrier", "Outlook"]:
        assert f"<summary>{name}" in page


def test_the_week_needs_a_family(client):
    response = client.get(WEEK)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_week_is_only_the_familys(parent_client, lea, other_parent):
    stranger = Client()
    stranger.force_login(other_parent)
    factories.student(other_parent.family, "Inconnu")
    assert "Léa" not in stranger.get(WEEK).text
    assert "Inconnu" not in parent_client.get(WEEK).text


def test_the_week_is_valid_html(parent_client, lea, tmp_path):
    from .test_html_valid import validate

    parent_client.post(reverse("students:calendar_renew"))
    closed_from, _ = clock.autumn_break(clock.THIS_YEAR)
    pages = {
        "week": parent_client.get(WEEK).text,
        "holidays": parent_client.get(WEEK, {"semaine": closed_from.isoformat()}).text,
    }
    assert validate(pages, tmp_path) == []


# The week read is kept until a change it shows or the next day.


def test_a_renewed_calendar_link_shows_at_once(parent_client, parent, lea):
    CalendarFeed.objects.create(family=parent.family)
    old = CalendarFeed.objects.get().token
    assert old in parent_client.get(WEEK).text
    assert parent_client.post(reverse("students:calendar_renew")).status_code == 302
    new = CalendarFeed.objects.get().token
    page = parent_client.get(WEEK).text
    assert new in page and old not in page


def test_a_closure_and_a_course_left_show_at_once(during_lessons, parent_client, lea, year):
    page = parent_client.get(WEEK).text
    assert "17:00–18:00" in page and "Journée pédagogique" not in page
    this_monday = monday(during_lessons)
    ClosurePeriod.objects.create(
        school_year=year,
        name="Journée pédagogique",
        start_date=this_monday,
        end_date=this_monday + timedelta(days=6),
    )
    assert "Pas de cours\u00a0: Journée pédagogique." in parent_client.get(WEEK).text
    ClosurePeriod.objects.all().delete()
    # As an import writes: a queryset's delete, no model's delete().
    Enrollment.objects.filter(student__family=lea.family).delete()
    page = parent_client.get(WEEK).text
    assert "17:00–18:00" not in page and "Journée pédagogique" not in page
