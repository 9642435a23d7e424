"""Demonstration re-enrollment: next year's courses, the school rules and an
open campaign on each site."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from documents.models import DocumentKind
from extranet.demo import secretariat_group
from extranet.models import Site
from students.demo import discipline, rooms, teachers
from students.models import Course, Discipline, SchoolYear

from .models import ReenrollmentCampaign, SchoolRules

PARIS = ZoneInfo("Europe/Paris")

SECRETARIAT_PERMISSIONS = [
    "view_schoolrules",
    "add_schoolrules",
    "change_schoolrules",
    "view_reenrollmentcampaign",
    "add_reenrollmentcampaign",
    "change_reenrollmentcampaign",
    "view_reenrollmentrequest",
    "change_reenrollmentrequest",
]

RULES = """Article 1 – Inscriptions
L'inscription vaut pour l'année scolaire. Toute année commencée est due.

Article 2 – Assiduité
Les élèves suivent l'ensemble des cours de leur cursus. Toute absence est signalée au secrétariat.

Article 3 – Sécurité
Les élèves mineurs restent sous la responsabilité de leurs parents en dehors des heures de cours.

Article 4 – Droit à l'image
Sauf refus indiqué sur la fiche élève, {school} peut publier des photos de ses activités."""


def _methods(level):
    return f"Dandelot, Manuel pratique pour l'étude des clés ; Formation musicale {level} (Lemoine)"


# Next year's courses on each site: (discipline, weekday, start, end, fields),
# teacher and room named by their key in students/demo.py; and the
# disciplines each site opens next year.
NEXT_YEAR = {
    "combs-la-ville": {
        "school": "le conservatoire",
        "new_disciplines": [
            ("Théâtre", Discipline.Category.THEATRE),
            ("Guitare", Discipline.Category.INSTRUMENT),
        ],
        "defaults": {"teacher": "music", "room": "music"},
        "courses": [
            (
                "Formation musicale",
                2,
                time(17),
                time(18),
                {"level": "Cycle 1 – 2e année", "methods": _methods("Cycle 1 – 2e année")},
            ),
            (
                "Formation musicale",
                2,
                time(18),
                time(19),
                {"level": "Cycle 1 – 3e année", "methods": _methods("Cycle 1 – 3e année")},
            ),
            (
                "Piano",
                2,
                time(14),
                time(14, 30),
                {
                    "level": "Cycle 1 – 4e année",
                    "is_collective": False,
                    "parent_meeting": datetime(2027, 9, 8, 18, tzinfo=PARIS),
                },
            ),
            (
                "Guitare",
                3,
                time(16),
                time(16, 30),
                {
                    "level": "Cycle 1 – 1re année",
                    "is_collective": False,
                    "parent_meeting": datetime(2027, 9, 9, 18, tzinfo=PARIS),
                },
            ),
            (
                "Danse classique",
                5,
                time(10),
                time(11, 30),
                {"level": "Initiation 2", "teacher": "dance", "room": "dance"},
            ),
            ("Théâtre", 4, time(18), time(19, 30), {"level": "Adolescents"}),
        ],
    },
    "ploufragan": {
        "school": "le centre culturel",
        "new_disciplines": [("Accordéon diatonique", Discipline.Category.INSTRUMENT)],
        "defaults": {},
        "courses": [
            (
                "Formation musicale",
                3,
                time(14),
                time(15),
                {
                    "level": "Cycle 1 – 2e année",
                    "teacher": "fm",
                    "room": "fm",
                    "methods": "Marguerite Labrousse, Formation musicale 2 (Lemoine)",
                },
            ),
            (
                "Formation musicale",
                3,
                time(15),
                time(16),
                {
                    "level": "Cycle 1 – 3e année",
                    "teacher": "fm",
                    "room": "fm",
                    "methods": "Marguerite Labrousse, Formation musicale 3 (Lemoine)",
                },
            ),
            (
                "Guitare",
                3,
                time(16, 30),
                time(17),
                {
                    "level": "Cycle 1 – 3e année",
                    "teacher": "guitar",
                    "room": "guitar",
                    "is_collective": False,
                    "parent_meeting": datetime(2027, 9, 15, 18, 30, tzinfo=PARIS),
                },
            ),
            (
                "Accordéon diatonique",
                2,
                time(17),
                time(17, 30),
                {
                    "level": "Débutant",
                    "teacher": "guitar",
                    "room": "guitar",
                    "is_collective": False,
                    "parent_meeting": datetime(2027, 9, 14, 18, 30, tzinfo=PARIS),
                },
            ),
            (
                "Éveil musical",
                6,
                time(10),
                time(10, 45),
                {"level": "4-5 ans", "teacher": "fm", "room": "fm"},
            ),
            (
                "Danse modern'jazz",
                1,
                time(18),
                time(19, 15),
                {"level": "Ados 12-14 ans", "teacher": "dance", "room": "dance"},
            ),
            (
                "Danse contemporaine",
                4,
                time(17, 30),
                time(18, 45),
                {"level": "Enfants 8-11 ans", "teacher": "dance", "room": "dance"},
            ),
            (
                "Théâtre",
                4,
                time(18),
                time(19, 30),
                {"level": "Atelier ados", "teacher": "theatre", "room": "theatre"},
            ),
        ],
    },
}


def load(stdout):
    secretariat_group("reenrollment", SECRETARIAT_PERMISSIONS)
    for slug, plan in NEXT_YEAR.items():
        site = Site.objects.get(slug=slug)
        year, _ = SchoolYear.objects.get_or_create(
            site=site,
            name="2027-2028",
            defaults={"start_date": date(2027, 9, 13), "end_date": date(2028, 6, 25)},
        )
        staff, places = teachers(site), rooms(site)
        for name, category in plan["new_disciplines"]:
            discipline(site, name, category)
        disciplines = {d.name: d for d in Discipline.objects.filter(site=site)}
        for name, weekday, start, end, fields in plan["courses"]:
            fields = {**plan["defaults"], **fields}
            fields["teacher"] = staff[fields["teacher"]]
            fields["room"] = places[fields["room"]]
            Course.objects.get_or_create(
                site=site,
                school_year=year,
                discipline=disciplines[name],
                weekday=weekday,
                start_time=start,
                end_time=end,
                defaults=fields,
            )
        rules, _ = SchoolRules.objects.get_or_create(
            site=site, version="2027", defaults={"text": RULES.format(school=plan["school"])}
        )
        campaign, created = ReenrollmentCampaign.objects.get_or_create(
            site=site,
            school_year=year,
            defaults={
                "opens_at": datetime(2026, 11, 2, 9, tzinfo=PARIS),
                "closes_at": datetime(2027, 6, 30, 18, tzinfo=PARIS),
                "rules": rules,
                "instructions": "Pour chaque élève : vérifiez les pièces justificatives, "
                "indiquez vos souhaits pour l'an prochain, puis acceptez le "
                "règlement intérieur et validez.",
            },
        )
        if created:
            campaign.family_documents.set(
                DocumentKind.objects.filter(site=site, scope=DocumentKind.Scope.FAMILY)
            )
    stdout.write("Re-enrollment campaigns for 2027-2028 ready.")
