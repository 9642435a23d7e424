"""A re-enrollment campaign with this year's and next year's courses."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from documents.models import DocumentKind
from reenrollment.models import ReenrollmentCampaign, SchoolRules
from students.models import Course, Room, SchoolYear

from . import students_data

PARIS = ZoneInfo("Europe/Paris")


def campaign(site, opens_at=None, closes_at=None, rules_text="Article 1 – Respect des horaires."):
    """This year (2026-2027) with its structure (students_data.structure),
    next year (2027-2028) with courses continuing it, and a campaign open
    around now unless told otherwise."""
    now = timezone.now()
    this_year = students_data.school_year(site)
    structure = students_data.structure(site, this_year)
    next_year = SchoolYear.objects.create(site=site, name="2027-2028",
                                          start_date=date(2027, 9, 13), end_date=date(2028, 6, 25))
    teacher = structure["courses"][0].teacher
    room = Room.objects.create(site=site, name="Auditorium")
    fm, piano, dance = structure["fm"], structure["piano"], structure["dance"]
    next_courses = {
        "fm2": Course.objects.create(site=site, school_year=next_year, discipline=fm, weekday=2,
                                     start_time=time(17), end_time=time(18), level="Cycle 1 – 2e année",
                                     teacher=teacher, room=room, methods="Dandelot, volume 2"),
        "fm3": Course.objects.create(site=site, school_year=next_year, discipline=fm, weekday=3,
                                     start_time=time(18), end_time=time(19), level="Cycle 1 – 3e année",
                                     teacher=teacher, room=room, methods="Dandelot, volume 3"),
        "piano": Course.objects.create(site=site, school_year=next_year, discipline=piano,
                                       weekday=2, start_time=time(14), end_time=time(14, 30),
                                       teacher=teacher, room=room, is_collective=False,
                                       parent_meeting=datetime(2027, 9, 8, 18, tzinfo=PARIS)),
        "dance": Course.objects.create(site=site, school_year=next_year, discipline=dance,
                                       weekday=5, start_time=time(10), end_time=time(11, 30),
                                       room=room, level="Initiation 2"),
    }
    proof = DocumentKind.objects.create(
        site=site, name="Justificatif de domicile", required=True, proves_address=True,
        validity=DocumentKind.Validity.MONTHS, validity_months=3, position=1)
    insurance = DocumentKind.objects.create(
        site=site, name="Attestation de responsabilité civile", position=2,
        validity=DocumentKind.Validity.SCHOOL_YEAR)
    rules = SchoolRules.objects.create(site=site, version="2027", text=rules_text)
    created = ReenrollmentCampaign.objects.create(
        site=site, school_year=next_year, rules=rules,
        opens_at=opens_at or now - timedelta(days=1),
        closes_at=closes_at or now + timedelta(days=30),
        instructions="Vérifiez les pièces, indiquez vos souhaits, validez.",
    )
    created.family_documents.set([proof, insurance])
    return {**structure, "this_year": this_year, "next_year": next_year, "campaign": created,
            "next": next_courses, "proof": proof, "insurance": insurance, "rules": rules}
