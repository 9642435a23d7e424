"""Demonstration school years, courses and students."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from documents.models import DocumentKind
from extranet.demo import secretariat_group
from extranet.models import Site
from families.models import Family

from .models import (
    ClosurePeriod,
    Course,
    Discipline,
    Enrollment,
    Room,
    SchoolYear,
    Student,
    Teacher,
)

PARIS = ZoneInfo("Europe/Paris")

SECRETARIAT_PERMISSIONS = [
    f"{action}_{model}"
    for model in [
        "schoolyear",
        "closureperiod",
        "discipline",
        "teacher",
        "room",
        "course",
        "enrollment",
        "student",
    ]
    for action in ["view", "add", "change"]
] + ["view_studentdocument", "change_studentdocument"]

CLOSURES_2026 = [
    ("Vacances de la Toussaint", date(2026, 10, 17), date(2026, 11, 1)),
    ("Vacances de Noël", date(2026, 12, 19), date(2027, 1, 3)),
    ("Vacances d'hiver", date(2027, 2, 20), date(2027, 3, 7)),
    ("Vacances de printemps", date(2027, 4, 17), date(2027, 5, 2)),
]


def _year(site, name, start, end, closures=()):
    year, created = SchoolYear.objects.get_or_create(
        site=site, name=name, defaults={"start_date": start, "end_date": end}
    )
    if created:
        for title, first, last in closures:
            ClosurePeriod.objects.create(
                school_year=year, name=title, start_date=first, end_date=last
            )
    return year


def _course(site, year, discipline, weekday, start, end, **fields):
    course, _ = Course.objects.get_or_create(
        site=site,
        school_year=year,
        discipline=discipline,
        weekday=weekday,
        start_time=start,
        end_time=end,
        defaults=fields,
    )
    return course


def _student(family, first_name, birth_date, **fields):
    student, _ = Student.objects.get_or_create(
        family=family,
        first_name=first_name,
        defaults={"last_name": family.name, "birth_date": birth_date, **fields},
    )
    return student


def load(stdout):
    secretariat_group("students", SECRETARIAT_PERMISSIONS)
    for slug in ["combs-la-ville", "ploufragan"]:
        site = Site.objects.get(slug=slug)
        medical, _ = DocumentKind.objects.get_or_create(
            site=site,
            name="Certificat médical ou attestation (danse)",
            defaults={
                "scope": DocumentKind.Scope.STUDENT,
                "help_text": "Certificat médical "
                "de non contre-indication à la danse, ou attestation sur l'honneur.",
                "validity": DocumentKind.Validity.SCHOOL_YEAR,
            },
        )
        year = _year(site, "2026-2027", date(2026, 9, 14), date(2027, 6, 27), CLOSURES_2026)
        previous = _year(site, "2025-2026", date(2025, 9, 15), date(2026, 6, 28))
        piano, _ = Discipline.objects.get_or_create(
            site=site, name="Piano", defaults={"category": "instrument"}
        )
        fm, _ = Discipline.objects.get_or_create(
            site=site, name="Formation musicale", defaults={"category": "musicianship"}
        )
        dance, created = Discipline.objects.get_or_create(
            site=site, name="Danse classique", defaults={"category": "dance"}
        )
        if created:
            dance.required_documents.add(medical)
        teacher, _ = Teacher.objects.get_or_create(
            site=site, first_name="Hélène", last_name="Rivière"
        )
        dancer, _ = Teacher.objects.get_or_create(site=site, first_name="Marc", last_name="Lefèvre")
        room_a, _ = Room.objects.get_or_create(site=site, name="Salle Debussy")
        studio, _ = Room.objects.get_or_create(site=site, name="Studio de danse")
        courses = {
            "piano": _course(
                site,
                year,
                piano,
                2,
                time(14, 0),
                time(14, 30),
                level="Cycle 1 – 3e année",
                teacher=teacher,
                room=room_a,
                is_collective=False,
                parent_meeting=datetime(2027, 1, 20, 18, 0, tzinfo=PARIS),
            ),
            "fm": _course(
                site,
                year,
                fm,
                2,
                time(17, 0),
                time(18, 0),
                level="Cycle 1 – 2e année",
                teacher=teacher,
                room=room_a,
                methods="Dandelot, Manuel pratique pour l'étude des clés",
            ),
            "dance": _course(
                site,
                year,
                dance,
                5,
                time(10, 0),
                time(11, 30),
                level="Initiation 2",
                teacher=dancer,
                room=studio,
            ),
            "old_fm": _course(
                site,
                previous,
                fm,
                2,
                time(17, 0),
                time(18, 0),
                level="Cycle 1 – 1re année",
                teacher=teacher,
                room=room_a,
            ),
        }
        family = Family.objects.get(site=site, accounts__username="demo")
        first = _student(
            family,
            "Léa",
            date(2015, 3, 12),
            sex="F",
            school="Collège Jean Moulin",
            school_class="5e",
        )
        second = _student(
            family, "Hugo", date(2017, 10, 2), sex="M", school="École du Centre", school_class="CM1"
        )
        for student, key, level, result in [
            (first, "fm", "", ""),
            (first, "dance", "", ""),
            (second, "piano", "", ""),
            (second, "fm", "", ""),
            (first, "old_fm", "Cycle 1 – 1re année", "Admise en 2e année"),
        ]:
            Enrollment.objects.get_or_create(
                student=student, course=courses[key], defaults={"level": level, "result": result}
            )
    stdout.write("School years, courses and students ready.")
