"""The end of a re-enrollment, on a phone and on a desktop: once the
secretariat has validated, the Réinscription tab shows next year's courses
and the answer to the wish not granted, instead of the steps."""

import pytest
from playwright.sync_api import Page, expect

from tests import factories

from .conftest import axe_violations, page_width, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [{"width": 360, "height": 740}, {"width": 1280, "height": 900}]


@pytest.fixture
def validated_portal(portal, combs):
    from extranet.models import User
    from reenrollment import workflow
    from reenrollment.models import ReenrollmentRequest, Wish
    from students.models import Course, Discipline

    family = User.objects.get(site=combs, username="demo").family
    data = factories.campaign(combs)
    courses = data["courses"]
    drama = Discipline.objects.create(site=combs, name="Théâtre", category="collective")
    Course.objects.create(
        site=combs,
        school_year=data["next_year"],
        discipline=drama,
        weekday=3,
        start_time=factories.time(15),
        end_time=factories.time(16),
    )
    hugo = factories.student(family, "Hugo", courses=[courses[1]], sex="M")
    request = ReenrollmentRequest.objects.create(
        campaign=data["campaign"], student=hugo, status=ReenrollmentRequest.Status.SUBMITTED
    )
    Wish.objects.create(request=request, choice=Wish.Choice.CONTINUE, discipline=data["piano"])
    wish = Wish.objects.create(request=request, choice=Wish.Choice.NEW, discipline=drama, rank=1)
    workflow.validate(
        request,
        [data["next"]["piano"], data["next"]["fm3"]],
        None,
        portal,
        answers={wish.pk: (Wish.Answer.REFUSED, "Plus de place en théâtre cette année.")},
    )
    return portal


def check(page, width):
    assert page_width(page) <= width
    assert axe_violations(page) == []


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_the_validated_request_shows_next_years_courses(page: Page, validated_portal, size):
    page.set_viewport_size(size)
    sign_in(page, validated_portal)
    page.goto(f"{validated_portal}/reinscription/")
    expect(page.get_by_text("La réinscription pour")).to_be_visible()
    expect(page.get_by_text("Cycle 1 – 3e année").first).to_be_visible()
    expect(page.get_by_text("Auditorium").first).to_be_visible()
    expect(page.get_by_text("Plus de place en théâtre cette année.")).to_be_visible()
    expect(page.get_by_role("heading", name="Rendez-vous parents-professeurs")).to_be_visible()
    expect(page.get_by_text("Étape suivante")).to_have_count(0)
    check(page, size["width"])
    page.get_by_role("link", name="Voir la demande d’Hugo").click()
    expect(page.get_by_role("heading", name="La réinscription est validée")).to_be_visible()
    expect(page.get_by_role("navigation", name="Étapes de la demande")).to_have_count(0)
    expect(page.get_by_text("Plus de place en théâtre cette année.")).to_be_visible()
    check(page, size["width"])
    # The steps lead back to this ending.
    page.goto(page.url.replace("envoyee/", "souhaits/"))
    expect(page.get_by_role("heading", name="La réinscription est validée")).to_be_visible()
