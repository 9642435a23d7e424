"""The data of a campaign opening: the demo network (load_demo_data: sites, courses, fee
grids, document kinds, the re-enrollment campaign, the simulated bank), then N families of
Combs-la-Ville made like the demo family Martin (two responsables, Léa in formation musicale
and classical dance, Hugo in piano and formation musicale, last year's history), each with
its own account and this term's invoice issued, unpaid.

Rows are bulk-created (a few seconds for 1,000 families); the invoices come from the fee
grid (billing.generation) and are issued as the secretariat issues them (billing.ledger).
Their PDFs and e-mails are dropped from the queue: the load test measures what the
parents' visits cost, not the secretariat's issuing of the term.
"""

import copy
from datetime import date

SITE = "combs-la-ville"
USERNAME = "parent{:05d}"


def username(index):
    return USERNAME.format(index)


def _clone(obj, **changes):
    clone = copy.copy(obj)
    clone.pk = clone.id = None
    clone._state = copy.copy(obj._state)
    clone._state.adding = True
    for name, value in changes.items():
        setattr(clone, name, value)
    return clone


def seed(families, password, stdout=None):
    """Creates `families` families with accounts `parent00000`… (password `password`);
    returns their ids. Needs the demo data (load_demo_data) in the database."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from billing import ledger
    from billing.generation import generate
    from billing.models import Invoice
    from extranet.models import Site, User
    from families.models import Family
    from fees.models import FeeGrid
    from students.models import Enrollment, SchoolYear

    site = Site.objects.get(slug=SITE)
    model = Family.objects.get(site=site, accounts__username="demo")
    guardians = list(model.guardians.all())
    students = list(model.students.all())
    enrollments = list(Enrollment.objects.filter(student__family=model).order_by("pk"))
    hashed = make_password(password)  # One Argon2 hash for all: each account its own row.
    with transaction.atomic():
        made = Family.objects.bulk_create(
            [
                _clone(
                    model,
                    name=f"Famille {i:05d}",
                    reference_email=f"famille{i:05d}@example.org",
                    external_ref=f"LOAD{i:05d}",
                    legacy_username="",
                )
                for i in range(families)
            ]
        )
        model_guardians = [
            _clone(g, family=f, email=f"parent{i:05d}.{g.position}@example.org" if g.email else "")
            for i, f in enumerate(made)
            for g in guardians
        ]
        type(guardians[0]).objects.bulk_create(model_guardians)
        children = type(students[0]).objects.bulk_create(
            [_clone(s, family=f, last_name=f.name) for f in made for s in students]
        )
        by_model = {}
        for index, child in enumerate(children):
            by_model[(index // len(students), students[index % len(students)].pk)] = child
        Enrollment.objects.bulk_create(
            [
                _clone(e, student=by_model[(i, e.student_id)])
                for i in range(len(made))
                for e in enrollments
            ]
        )
        User.objects.bulk_create(
            [
                User(
                    site=site,
                    username=username(i),
                    family=f,
                    email=f.reference_email,
                    last_name=f.name,
                    password=hashed,
                )
                for i, f in enumerate(made)
            ]
        )
    year = SchoolYear.objects.get(site=site, name="2026-2027")
    grid = FeeGrid.objects.get(site=site, school_year=year)
    generate(grid, period=1 if grid.billing == FeeGrid.Billing.TERMS else None)
    ids = [f.pk for f in made]
    drafts = Invoice.objects.filter(family_id__in=ids, status=Invoice.Status.DRAFT).order_by("pk")
    for invoice in drafts:
        ledger.issue(invoice, today=date(2026, 10, 1))
    DBTaskResult.objects.all().delete()
    if stdout:
        stdout.write(f"{len(made)} families, their invoices issued\n")
    return ids


def main():
    import argparse
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.environment import ready

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    ready()
    seed(args.families, args.password, sys.stdout)


if __name__ == "__main__":
    main()
