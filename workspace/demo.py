"""The demo's staff in their roles (workspace/roles.py), and a secretary
who works for both sites."""

from django.contrib.auth.models import Group

from extranet.demo import ensure_account
from extranet.models import Site

from . import roles

STAFF = [
    # (site, identifiant, first name, last name, roles, other sites)
    (
        "combs-la-ville",
        "secretariat-combs",
        "Secrétariat",
        "Combs-la-Ville",
        [roles.SECRETARIAT, roles.CASH_OFFICE],
        [],
    ),
    ("combs-la-ville", "regie-combs", "Régie", "Combs-la-Ville", [roles.CASH_OFFICE], []),
    ("combs-la-ville", "direction-combs", "Direction", "Combs-la-Ville", [roles.DIRECTION], []),
    (
        "ploufragan",
        "secretariat-ploufragan",
        "Secrétariat",
        "Ploufragan",
        [roles.SECRETARIAT, roles.CASH_OFFICE],
        ["combs-la-ville"],
    ),
]


def load(stdout):
    # The groups exactly as the table says, whatever the apps' demos added.
    roles.sync()
    sites = {site.slug: site for site in Site.objects.all()}
    for slug, username, first_name, last_name, names, others in STAFF:
        account = ensure_account(
            sites[slug],
            username,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@example.org",
            is_staff=True,
        )
        account.groups.add(*Group.objects.filter(name__in=names))
        account.other_sites.add(*[sites[other] for other in others])
    stdout.write(
        "Roles ready: secretariat-combs, regie-combs, direction-combs, and "
        "secretariat-ploufragan who also works for Combs-la-Ville."
    )
