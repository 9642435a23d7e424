"""Demonstration messages and full courses, at Combs-la-Ville: this year's
formation musicale class (Cycle 1 – 2e année) takes two students, Léa and
Hugo Martin: it is full (2/2); next year's Cycle 1 – 3e année takes one, so
that validating the second of their re-enrollments warns and offers the
waiting list. One message was sent to this year's class (one e-mail for the
family of its two students), with its log, and a draft waits for the whole
site."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from extranet.demo import secretariat_group
from extranet.models import Site, User
from families.models import Family
from students.models import Course

from .models import Delivery, Message

PARIS = ZoneInfo("Europe/Paris")

SECRETARIAT_PERMISSIONS = [
    "view_message",
    "add_message",
    "change_message",
    "delete_message",
    "view_delivery",
]

SENT = {
    "subject": "Formation musicale\u00a0: audition du mercredi 16 décembre",
    "body": (
        "Les élèves de formation musicale (Cycle 1 – 2e année) présentent leur audition de "
        "fin de trimestre le mercredi 16 décembre à 17 h, à l’auditorium.\n\n"
        "Les familles sont les bienvenues. Le programme est en ligne\u00a0:\n"
        "https://conservatoire.example.org/auditions\n\n"
        "Merci de nous dire par retour de message si votre enfant ne peut pas venir."
    ),
}
SENT_AT = datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)

DRAFT = {
    "subject": "Fermeture du conservatoire pendant les vacances de Noël",
    "body": (
        "Le conservatoire sera fermé du 19 décembre au 3 janvier inclus. "
        "Les cours reprennent le lundi 4 janvier.\n\nBonnes fêtes à tous\u00a0!"
    ),
}


def musicianship_course(site, year_name, level, start):
    return Course.objects.get(
        site=site,
        school_year__name=year_name,
        discipline__name="Formation musicale",
        level=level,
        weekday=2,
        start_time=start,
    )


def load(stdout):
    secretariat_group("messaging", SECRETARIAT_PERMISSIONS)
    site = Site.objects.get(slug="combs-la-ville")
    this_year = musicianship_course(site, "2026-2027", "Cycle 1 – 2e année", time(17))
    next_year = musicianship_course(site, "2027-2028", "Cycle 1 – 3e année", time(18))
    Course.objects.filter(pk=this_year.pk).update(capacity=2)
    Course.objects.filter(pk=next_year.pk).update(capacity=1)

    secretary = User.objects.get(site=site, username="secretariat-combs")
    message, created = Message.objects.get_or_create(
        site=site,
        subject=SENT["subject"],
        defaults={
            "body": SENT["body"],
            "audience": Message.Audience.COURSE,
            "course": this_year,
            "created_by": secretary,
            "sent_by": secretary,
            "sent_at": SENT_AT,
        },
    )
    if created:
        families = Family.objects.filter(students__enrollments__course=this_year).distinct()
        for family in families.order_by("name"):
            email = family.contact_email()
            Delivery.objects.create(
                message=message,
                family=family,
                email=email,
                status=Delivery.Status.SENT if email else Delivery.Status.NO_EMAIL,
                sent_at=SENT_AT if email else None,
                attempts=1 if email else 0,
            )
    Message.objects.get_or_create(
        site=site,
        subject=DRAFT["subject"],
        defaults={
            "body": DRAFT["body"],
            "audience": Message.Audience.SITE,
            "created_by": secretary,
        },
    )
    stdout.write("Full courses and messages to families ready.")
