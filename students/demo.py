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


# Each site's own setup, as its user guide describes it: Combs-la-Ville's
# conservatoire (piano, formation musicale, classical dance) and Ploufragan's
# centre culturel (music school, dance and theatre). Per site: the student
# document its dance classes require, disciplines (name, category, whether
# the dance document is required), teachers and rooms (key: names), this
# year's and last year's courses, the demo family's children and their
# enrollments (child, course, level, result).
SETUPS = {
    "combs-la-ville": {
        "dance_document": {
            "name": "Certificat médical ou attestation (danse)",
            "help_text": "Certificat médical "
            "de non contre-indication à la danse, ou attestation sur l'honneur.",
        },
        "disciplines": {
            "piano": ("Piano", Discipline.Category.INSTRUMENT),
            "fm": ("Formation musicale", Discipline.Category.MUSICIANSHIP),
            "dance": ("Danse classique", Discipline.Category.DANCE),
        },
        "teachers": {"music": ("Hélène", "Rivière"), "dance": ("Marc", "Lefèvre")},
        "rooms": {"music": "Salle Debussy", "dance": "Studio de danse"},
        "courses": {
            "piano": (
                "this",
                "piano",
                2,
                time(14, 0),
                time(14, 30),
                {
                    "level": "Cycle 1 – 3e année",
                    "teacher": "music",
                    "room": "music",
                    "is_collective": False,
                    "parent_meeting": datetime(2027, 1, 20, 18, 0, tzinfo=PARIS),
                },
            ),
            "fm": (
                "this",
                "fm",
                2,
                time(17, 0),
                time(18, 0),
                {
                    "level": "Cycle 1 – 2e année",
                    "teacher": "music",
                    "room": "music",
                    "methods": "Dandelot, Manuel pratique pour l'étude des clés",
                },
            ),
            "dance": (
                "this",
                "dance",
                5,
                time(10, 0),
                time(11, 30),
                {"level": "Initiation 2", "teacher": "dance", "room": "dance"},
            ),
            "old_fm": (
                "previous",
                "fm",
                2,
                time(17, 0),
                time(18, 0),
                {"level": "Cycle 1 – 1re année", "teacher": "music", "room": "music"},
            ),
        },
        "children": {
            "first": (
                "Léa",
                date(2015, 3, 12),
                {"sex": "F", "school": "Collège Jean Moulin", "school_class": "5e"},
            ),
            "second": (
                "Hugo",
                date(2017, 10, 2),
                {"sex": "M", "school": "École du Centre", "school_class": "CM1"},
            ),
        },
        "enrollments": [
            ("first", "fm", "", ""),
            ("first", "dance", "", ""),
            ("second", "piano", "", ""),
            ("second", "fm", "", ""),
            ("first", "old_fm", "Cycle 1 – 1re année", "Admise en 2e année"),
        ],
    },
    "ploufragan": {
        # The guide: « une attestation sur l'honneur pour la danse ou un
        # certificat médical ».
        "dance_document": {
            "name": "Attestation sur l'honneur ou certificat médical",
            "help_text": "Pour la danse\u00a0: attestation sur l'honneur de non "
            "contre-indication à la pratique de la danse, ou certificat médical.",
        },
        "disciplines": {
            "guitar": ("Guitare", Discipline.Category.INSTRUMENT),
            "fm": ("Formation musicale", Discipline.Category.MUSICIANSHIP),
            "awakening": ("Éveil musical", Discipline.Category.OTHER),
            "jazz": ("Danse modern'jazz", Discipline.Category.DANCE),
            "contemporary": ("Danse contemporaine", Discipline.Category.DANCE),
            "theatre": ("Théâtre", Discipline.Category.THEATRE),
        },
        "teachers": {
            "guitar": ("Erwan", "Le Corre"),
            "fm": ("Soizic", "Guillou"),
            "dance": ("Morgane", "Le Bihan"),
            "theatre": ("Tanguy", "Kerhervé"),
        },
        "rooms": {
            "guitar": "Salle Ajonc",
            "fm": "Salle Bruyère",
            "dance": "Studio Hortensia",
            "theatre": "Salle Genêt",
        },
        "courses": {
            "guitar": (
                "this",
                "guitar",
                3,
                time(16, 30),
                time(17, 0),
                {
                    "level": "Cycle 1 – 2e année",
                    "teacher": "guitar",
                    "room": "guitar",
                    "is_collective": False,
                    "parent_meeting": datetime(2027, 1, 27, 18, 30, tzinfo=PARIS),
                },
            ),
            "fm": (
                "this",
                "fm",
                3,
                time(14, 0),
                time(15, 0),
                {
                    "level": "Cycle 1 – 2e année",
                    "teacher": "fm",
                    "room": "fm",
                    "methods": "Marguerite Labrousse, Formation musicale 2 (Lemoine)",
                },
            ),
            "awakening": (
                "this",
                "awakening",
                6,
                time(10, 0),
                time(10, 45),
                {"level": "4-5 ans", "teacher": "fm", "room": "fm"},
            ),
            "jazz": (
                "this",
                "jazz",
                1,
                time(18, 0),
                time(19, 15),
                {"level": "Ados 12-14 ans", "teacher": "dance", "room": "dance"},
            ),
            "contemporary": (
                "this",
                "contemporary",
                4,
                time(17, 30),
                time(18, 45),
                {"level": "Enfants 8-11 ans", "teacher": "dance", "room": "dance"},
            ),
            "theatre": (
                "this",
                "theatre",
                4,
                time(18, 0),
                time(19, 30),
                {"level": "Atelier ados", "teacher": "theatre", "room": "theatre"},
            ),
            "old_fm": (
                "previous",
                "fm",
                3,
                time(14, 0),
                time(15, 0),
                {"level": "Cycle 1 – 1re année", "teacher": "fm", "room": "fm"},
            ),
        },
        "children": {
            "first": (
                "Maëlys",
                date(2013, 5, 21),
                {"sex": "F", "school": "Collège Lucie et Raymond Aubrac", "school_class": "4e"},
            ),
            "second": (
                "Ewen",
                date(2016, 11, 8),
                {"sex": "M", "school": "École de la Villette", "school_class": "CM1"},
            ),
        },
        "enrollments": [
            ("first", "jazz", "", ""),
            ("first", "theatre", "", ""),
            ("second", "guitar", "", ""),
            ("second", "fm", "", ""),
            ("second", "old_fm", "Cycle 1 – 1re année", "Admis en 2e année"),
        ],
    },
}


def dance_document(site):
    """The student document `site`'s dance disciplines require."""
    fields = SETUPS[site.slug]["dance_document"]
    kind, _ = DocumentKind.objects.get_or_create(
        site=site,
        name=fields["name"],
        defaults={
            "scope": DocumentKind.Scope.STUDENT,
            "help_text": fields["help_text"],
            "validity": DocumentKind.Validity.SCHOOL_YEAR,
        },
    )
    return kind


def discipline(site, name, category):
    """The discipline, made once; a new dance discipline requires the
    site's dance document."""
    found, created = Discipline.objects.get_or_create(
        site=site, name=name, defaults={"category": category}
    )
    if created and category == Discipline.Category.DANCE:
        found.required_documents.add(dance_document(site))
    return found


def teachers(site):
    return {
        key: Teacher.objects.get_or_create(site=site, first_name=first, last_name=last)[0]
        for key, (first, last) in SETUPS[site.slug]["teachers"].items()
    }


def rooms(site):
    return {
        key: Room.objects.get_or_create(site=site, name=name)[0]
        for key, name in SETUPS[site.slug]["rooms"].items()
    }


def load(stdout):
    secretariat_group("students", SECRETARIAT_PERMISSIONS)
    for slug, setup in SETUPS.items():
        site = Site.objects.get(slug=slug)
        years = {
            "this": _year(site, "2026-2027", date(2026, 9, 14), date(2027, 6, 27), CLOSURES_2026),
            "previous": _year(site, "2025-2026", date(2025, 9, 15), date(2026, 6, 28)),
        }
        disciplines = {
            key: discipline(site, name, category)
            for key, (name, category) in setup["disciplines"].items()
        }
        staff, places = teachers(site), rooms(site)
        courses = {
            key: _course(
                site,
                years[year],
                disciplines[subject],
                weekday,
                start,
                end,
                **{**fields, "teacher": staff[fields["teacher"]], "room": places[fields["room"]]},
            )
            for key, (year, subject, weekday, start, end, fields) in setup["courses"].items()
        }
        family = Family.objects.get(site=site, accounts__username="demo")
        children = {
            key: _student(family, first_name, birth_date, **fields)
            for key, (first_name, birth_date, fields) in setup["children"].items()
        }
        for child, course, level, result in setup["enrollments"]:
            Enrollment.objects.get_or_create(
                student=children[child],
                course=courses[course],
                defaults={"level": level, "result": result},
            )
    stdout.write("School years, courses and students ready.")
