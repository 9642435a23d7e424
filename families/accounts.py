"""Opening accounts for imported families: predictable identifiants, no
password (the invitation link lets the family choose one)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import Case, When
from django.utils.text import slugify

from .models import Family

BATCH = 1000


def base_identifiant(name):
    """ "Müller" → "muller", "N'Diaye" → "ndiaye", "Le Goff" → "le-goff"."""
    return slugify(name.replace("'", "").replace("’", ""))[:140] or "famille"


def next_free(base, taken):
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    taken.add(candidate)
    return candidate


def create_accounts(site):
    """One account for each family of `site` that has none. Returns them."""
    User = get_user_model()
    taken = {
        name.lower() for name in User.objects.filter(site=site).values_list("username", flat=True)
    }
    # Identifiants from the legacy export first, so that a name-made one never
    # takes them; then the others, in name order.
    families = (
        Family.objects.filter(site=site, accounts__isnull=True)
        .order_by(Case(When(legacy_username="", then=1), default=0), "name", "pk")
        .only("pk", "name", "legacy_username")
    )
    accounts = []
    for family in families.iterator(chunk_size=2000):
        wanted = family.legacy_username.lower() or base_identifiant(family.name)
        accounts.append(
            User(
                site=site,
                family_id=family.pk,
                username=next_free(wanted, taken),
                # No e-mail copy: mail goes to the family's reference address.
                last_name=family.name[:150],
                # No hashing: an unusable password until the invitation is used.
                password=make_password(None),
            )
        )
    User.objects.bulk_create(accounts, batch_size=BATCH)
    return accounts
