"""Demonstration re-enrollment: next year's courses, the school rules and an
open campaign on each site."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from documents.models import DocumentKind
from extranet.demo import secretariat_group
from extranet.models import Site
from students.models import Course, Discipline, Room, SchoolYear, Teacher

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
Sauf refus indiqué sur la fiche élève, le conservatoire peut publier des photos de ses activités."""


def load(stdout):
    secretariat_group("reenrollment", SECRETARIAT_PERMISSIONS)
    for slug in ["combs-la-ville", "ploufragan"]:
        site = Site.objects.get(slug=slug)
        year, _ = SchoolYear.objects.get_or_create(
            site=site,
            name="2027-2028",
            defaults={"start_date": date(2027, 9, 13), "end_date": date(2028, 6, 25)},
        )
        teacher = Teacher.objects.get(site=site, last_name="Rivière")
        dancer = Teacher.objects.get(site=site, last_name="Lefèvre")
        room = Room.objects.get(site=site, name="Salle Debussy")
        studio = Room.objects.get(site=site, name="Studio de danse")
        Discipline.objects.get_or_create(
            site=site, name="Théâtre", defaults={"category": Discipline.Category.THEATRE}
        )
        Discipline.objects.get_or_create(
            site=site, name="Guitare", defaults={"category": Discipline.Category.INSTRUMENT}
        )
        disciplines = {d.name: d for d in Discipline.objects.filter(site=site)}
        for discipline, weekday, start, end, fields in [
            ("Formation musicale", 2, time(17), time(18), {"level": "Cycle 1 – 2e année"}),
            ("Formation musicale", 2, time(18), time(19), {"level": "Cycle 1 – 3e année"}),
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
                {"level": "Initiation 2", "teacher": dancer, "room": studio},
            ),
            ("Théâtre", 4, time(18), time(19, 30), {"level": "Adolescents"}),
        ]:
            fields = {"teacher": teacher, "room": room, **fields}
            if discipline == "Formation musicale":
                fields["methods"] = (
                    "Dandelot, Manuel pratique pour l'étude des clés ; "
                    f"Formation musicale {fields['level']} (Lemoine)"
                )
            Course.objects.get_or_create(
                site=site,
                school_year=year,
                discipline=disciplines[discipline],
                weekday=weekday,
                start_time=start,
                end_time=end,
                defaults=fields,
            )
        rules, _ = SchoolRules.objects.get_or_create(
            site=site, version="2027", defaults={"text": RULES}
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
