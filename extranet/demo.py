"""Demonstration sites and staff accounts (see README.md for the logins)."""

from functools import cache

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission

from .models import Site, User

DEMO_PASSWORD = "Extranet-demo-2026"

SITES = [
    {
        "slug": "combs-la-ville",
        "name": "Conservatoire Maurice Ohana – Combs-la-Ville",
        "address": "Rue Baptiste Marcet\n77380 Combs-la-Ville",
        "phone": "+33164887700",
        "email": "conservatoire.combs@example.org",
        "welcome_text": (
            "Bienvenue sur le portail des familles du Conservatoire Maurice Ohana.\n"
            "Pensez à vérifier vos coordonnées avant la période de réinscription."
        ),
    },
    {
        "slug": "ploufragan",
        "name": "Centre culturel de Ploufragan",
        "address": "Place de l'Église\n22440 Ploufragan",
        "phone": "+33296015820",
        "email": "centre.culturel@example.org",
        "welcome_text": (
            "Ce portail interne et sécurisé est dédié aux usagers du Centre culturel de Ploufragan."
        ),
    },
]


def secretariat_group(app_label=None, codenames=()):
    """The demo secretaries' group; each app's demo grants it its permissions."""
    group, _ = Group.objects.get_or_create(name="Secrétariat")
    if codenames:
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
    return group


@cache
def demo_password_hash():
    # Hashed once for all the demo accounts: an Argon2 hash takes about half a second.
    return make_password(DEMO_PASSWORD)


def ensure_account(site, username, **fields):
    """Create the account once; an existing one (maybe with a changed
    password) is left as it is."""
    user, created = User.objects.get_or_create(
        site=site, username=username, defaults={**fields, "password": demo_password_hash()}
    )
    return user


def load(stdout):
    sites = {}
    for data in SITES:
        slug = data["slug"]
        sites[slug], _ = Site.objects.get_or_create(slug=slug, defaults=data)
    secretary = ensure_account(
        sites["combs-la-ville"],
        "secretariat-combs",
        first_name="Secrétariat",
        last_name="Combs-la-Ville",
        email="secretariat-combs@example.org",
        is_staff=True,
    )
    secretary.groups.add(
        secretariat_group(
            "extranet", ["view_site", "change_site", "view_user", "add_user", "change_user"]
        )
    )
    ensure_account(None, "admin", email="admin@example.org", is_staff=True, is_superuser=True)
    stdout.write("Sites, secretariat-combs and admin ready.")
