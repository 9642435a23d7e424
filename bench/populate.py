"""Thousands of families added in bulk to an existing site, shaped like a conservatoire's
after its legacy import: one or two responsables and one or two students each, this year's
enrollments, accounts in every state (none, invited, signed in), documents waiting to be
checked, re-enrollment requests with their wishes, issued invoices (some overdue). For the
admin's lists and the secretariat's day at scale (bench/pages.py); no file is written.

    populate.add_families(site, 10_000)
"""

import random
from datetime import date, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

BATCH = 2_000
LAST_NAMES = ["Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy"]
LAST_NAMES += ["Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "N'Diaye", "Nguyen"]
FIRST_NAMES = ["Chloé", "Lucas", "Emma", "Louis", "Jade", "Gabriel", "Inès", "Noé", "Zoé"]
FIRST_NAMES += ["Éloïse", "Timothée", "Aïssatou", "Camille", "Yanis", "Manon", "Paul"]


def add_families(site, count, seed=2026):
    """`count` families on `site`, in a few dozen bulk inserts; their ids."""
    from families.models import Family

    rng = random.Random(seed)
    year = _school_year(site)
    courses = _courses(site, year)
    first = Family.objects.filter(site=site).count()
    ids = []
    with transaction.atomic():
        for start in range(0, count, BATCH):
            numbers = range(first + start, first + min(start + BATCH, count))
            ids += _batch(site, year, courses, numbers, rng)
    return ids


def _school_year(site):
    from students.models import SchoolYear

    return SchoolYear.objects.current(site)


def _courses(site, year):
    """The site's courses of the year, and 40 more collective ones to spread the
    students over."""
    from students.models import Course, Discipline

    disciplines = list(Discipline.objects.filter(site=site).order_by("pk"))
    Course.objects.bulk_create(
        Course(
            site=site,
            school_year=year,
            discipline=disciplines[n % len(disciplines)],
            weekday=n % 6,
            start_time=time(9 + n % 10),
            end_time=time(10 + n % 10),
            level=f"Cycle {1 + n % 3}",
            is_collective=True,
        )
        for n in range(40)
    )
    return list(Course.objects.filter(site=site, school_year=year).select_related("discipline"))


def _batch(site, year, courses, numbers, rng):
    from families.models import Family, Guardian
    from students.models import Enrollment, Student

    families = Family.objects.bulk_create(
        Family(
            site=site,
            name=rng.choice(LAST_NAMES),
            reference_email=f"famille{n}@example.org" if n % 10 else "",
            reference_mobile=f"+336{n:08d}",
            external_ref=f"BENCH-{n}",
        )
        for n in numbers
    )
    Guardian.objects.bulk_create(
        Guardian(
            family=family,
            position=g + 1,
            civility="Mme" if g == 0 else "M.",
            last_name=family.name,
            first_name=rng.choice(FIRST_NAMES),
            address_line1="3 rue de la Gare",
            postal_code="77380",
            city="Combs-la-Ville",
            mobile_phone=f"+337{n:08d}" if g == 0 else "",
            email=f"responsable{n}-{g}@example.org",
            is_payer=g == 0,
        )
        for n, family in zip(numbers, families, strict=True)
        for g in range(1 + n % 2)
    )
    students = Student.objects.bulk_create(
        Student(
            family=family,
            last_name=family.name,
            first_name=rng.choice(FIRST_NAMES),
            birth_date=date(2012 + s, 1 + n % 12, 1 + n % 28),
        )
        for n, family in zip(numbers, families, strict=True)
        for s in range(1 + (n + 1) % 2)
    )
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(student=student, course=courses[(student.pk * 7 + c) % len(courses)])
        for student in students
        for c in range(1 + student.pk % 2)
    )
    _accounts(site, families, numbers)
    _documents(site, families, numbers)
    _requests(site, year, students, enrollments, courses)
    _invoices(site, year, families, numbers)
    return [family.pk for family in families]


def _accounts(site, families, numbers):
    """Four families in five have an account: never invited, invited, or signed in."""
    from extranet.models import User

    password = make_password("Extranet-bench-2026")
    now = timezone.now()
    User.objects.bulk_create(
        User(
            site=site,
            family=family,
            username=f"famille{n}",
            password=password,
            invited_at=now - timedelta(days=20) if n % 5 in (1, 2) else None,
            last_login=now - timedelta(days=n % 30) if n % 5 == 2 or n % 5 == 3 else None,
        )
        for n, family in zip(numbers, families, strict=True)
        if n % 5
    )


def _documents(site, families, numbers):
    """A proof of address from every family, one in ten waiting to be checked."""
    from documents.models import DocumentKind
    from families.models import FamilyDocument

    kind = DocumentKind.objects.filter(site=site, scope=DocumentKind.Scope.FAMILY).first()
    if kind is None:
        return
    now = timezone.now()
    status = FamilyDocument.Status
    FamilyDocument.objects.bulk_create(
        FamilyDocument(
            family=family,
            kind=kind,
            file=f"families/bench/{n}.pdf",
            original_name="justificatif.pdf",
            content_type="application/pdf",
            size=120_000,
            uploaded_at=now - timedelta(hours=n % 500),
            status=status.PENDING if n % 10 == 0 else status.ACCEPTED,
        )
        for n, family in zip(numbers, families, strict=True)
    )


def _requests(site, year, students, enrollments, courses):
    """Half the students' requests of the open campaign: drafts, sent, validated."""
    from reenrollment.models import ReenrollmentCampaign, ReenrollmentRequest, Wish

    campaign = ReenrollmentCampaign.objects.filter(site=site).order_by("-opens_at").first()
    if campaign is None:
        return
    statuses = [ReenrollmentRequest.Status.DRAFT, ReenrollmentRequest.Status.SUBMITTED]
    statuses += [ReenrollmentRequest.Status.INCOMPLETE, ReenrollmentRequest.Status.VALIDATED]
    requests = ReenrollmentRequest.objects.bulk_create(
        ReenrollmentRequest(
            campaign=campaign, student=student, status=statuses[student.pk % len(statuses)]
        )
        for student in students
        if student.pk % 2
    )
    by_student = {}
    for enrollment in enrollments:
        by_student.setdefault(enrollment.student_id, []).append(enrollment)
    discipline = {course.pk: course.discipline_id for course in courses}
    Wish.objects.bulk_create(
        Wish(
            request=request,
            choice=Wish.Choice.CONTINUE,
            discipline_id=discipline[enrollment.course_id],
            enrollment=enrollment,
            rank=rank,
        )
        for request in requests
        for rank, enrollment in enumerate(by_student.get(request.student_id, []), start=1)
    )


def _invoices(site, year, families, numbers):
    """An issued invoice per family with an account; one in eight past its due date."""
    from billing.models import Invoice

    today = timezone.localdate()
    Invoice.objects.bulk_create(
        Invoice(
            site=site,
            family=family,
            kind=Invoice.Kind.INVOICE,
            status=Invoice.Status.ISSUED,
            school_year=year,
            label="Cotisations",
            number=f"{today.year}FACB{n:06d}",
            issue_date=today - timedelta(days=40),
            due_date=today - timedelta(days=10 if n % 8 == 0 else -20),
            total=Decimal("186.00") + n % 7 * 10,
            family_name=family.name,
            family_address="3 rue de la Gare\n77380 Combs-la-Ville",
            site_name=site.name,
            site_address=site.address,
        )
        for n, family in zip(numbers, families, strict=True)
        if n % 5
    )
