"""Demonstration families, one parent account `demo` on each site."""

from extranet.demo import ensure_account
from extranet.models import Site

from .models import Family

FAMILIES = {
    "combs-la-ville": ("Martin", "famille.martin@example.org"),
    "ploufragan": ("Le Goff", "famille.legoff@example.org"),
}


def load(stdout):
    for slug, (name, email) in FAMILIES.items():
        site = Site.objects.get(slug=slug)
        family, _ = Family.objects.get_or_create(site=site, name=name)
        ensure_account(site, "demo", family=family, email=email, last_name=name)
    stdout.write("Families Martin (Combs-la-Ville) and Le Goff (Ploufragan) ready.")
