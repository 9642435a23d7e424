"""Creates N families paying in ten monthly direct debits (an issued invoice each, its
instalments told to the family, an active mandate), then prepares the batch of their first
collection date, file validated against the pain.008 schema included, and prints its time
and number of debits and queries.

    .venv/bin/python bench/debit_batch.py [--families 10000]

On the database of DATABASE_URL (the development SQLite file without it). Target for 10,000
families: under 15 s on PostgreSQL. The site it creates (slug "benchmark-debits") is deleted
at the end, with its batch and file.
"""

import argparse
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = "benchmark-debits"


def build(families, today):
    """The site as creditor, a school year, the 10× plan, and `families` families with their
    invoice, ten instalments from `today` + 20 days, all told, and a mandate, in bulk."""
    from django.utils import timezone

    from billing.models import Instalment, Invoice
    from directdebit.models import Creditor, Mandate
    from extranet.models import Site
    from families.models import Family
    from fees.models import InstalmentPlan
    from students.models import SchoolYear

    site = Site.objects.create(slug=SITE, name="Benchmark (prélèvements)")
    start = today.year if today.month >= 7 else today.year - 1
    year = SchoolYear.objects.create(
        site=site,
        name=f"{start}-{start + 1}",
        start_date=date(start, 9, 14),
        end_date=date(start + 1, 6, 27),
    )
    plan = InstalmentPlan.objects.create(
        site=site,
        name="10 prélèvements mensuels",
        instalments=10,
        first_month=10,
        day=5,
        modes=["direct_debit"],
    )
    Creditor.objects.create(
        site=site,
        name="Régie du conservatoire",
        address="1 place de l'Hôtel de Ville\n77380 Combs-la-Ville",
        ics="FR72ZZZ123456",
        iban="FR7630001007941234567890185",
        bic="BDFEFRPPCCT",
    )
    made = Family.objects.bulk_create(
        (
            Family(site=site, name=f"Famille {n}", reference_email=f"f{n}@example.org")
            for n in range(families)
        ),
        batch_size=2000,
    )
    first = today + timedelta(days=20)
    dues = [first + timedelta(days=30 * k) for k in range(10)]
    invoices = Invoice.objects.bulk_create(
        (
            Invoice(
                site=site,
                family=family,
                kind=Invoice.Kind.INVOICE,
                status=Invoice.Status.ISSUED,
                school_year=year,
                label="Cotisations",
                number=f"{today.year}FAC{n + 1:06d}",
                issue_date=today,
                due_date=first,
                total=Decimal(300 + n % 200),
                plan=plan,
                family_name=family.name,
                site_name=site.name,
            )
            for n, family in enumerate(made)
        ),
        batch_size=2000,
    )
    instalments = []
    for invoice in invoices:
        base = (invoice.total / 10).quantize(Decimal("0.01"))
        amounts = [invoice.total - base * 9] + [base] * 9
        instalments.extend(
            Instalment(
                invoice=invoice,
                position=k + 1,
                due_date=dues[k],
                amount=amounts[k],
                notified_amount=amounts[k],
                notified_on=today,
            )
            for k in range(10)
        )
    Instalment.objects.bulk_create(instalments, batch_size=5000)
    signed = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    Mandate.objects.bulk_create(
        (
            Mandate(
                site=site,
                family=family,
                rum=f"BENCH-{n:06d}",
                status=Mandate.Status.ACTIVE,
                holder_name=f"Claire {family.name}",
                holder_address="3 rue des Lilas\n77380 Combs-la-Ville",
                iban="FR7630006000011234567890189",
                bic="AGRIFRPPXXX",
                signed_at=signed,
            )
            for n, family in enumerate(made)
        ),
        batch_size=2000,
    )
    return site, first


def main(argv=None, stdout=sys.stdout):
    from bench import environment

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=10000, help="how many (10000)")
    options = parser.parse_args(argv)
    environment.ready()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from directdebit.batches import prepare

    cleanup()
    try:
        today = date.today()
        started = time.monotonic()
        site, first = build(options.families, today)
        stdout.write(
            f"Generated {options.families} families, invoices, mandates and "
            f"{options.families * 10} instalments in {time.monotonic() - started:.1f} s\n"
        )
        started = time.monotonic()
        with CaptureQueriesContext(connection) as queries:
            batch, preparation = prepare(site, first, today=today)
        seconds = time.monotonic() - started
        stdout.write(
            f"{'prepare (pain.008 + XSD)':28} {seconds:6.1f} s  {batch.count} debits, "
            f"{batch.total} €, {batch.file.size / 2**20:.1f} MB, {len(queries)} queries  "
            f"(target < 15 s for 10,000 families on PostgreSQL)\n"
        )
    finally:
        cleanup()
    return 0


def cleanup():
    from billing.models import Instalment, Invoice
    from directdebit.models import Batch, Creditor, Debit, Mandate
    from extranet.models import Site
    from families.models import Family
    from fees.models import InstalmentPlan
    from students.models import SchoolYear

    site = Site.objects.filter(slug=SITE).first()
    if site is None:
        return
    Debit.objects.filter(batch__site=site).delete()
    for batch in Batch.objects.filter(site=site):
        batch.file.delete(save=False)
        batch.delete()
    Instalment.objects.filter(invoice__site=site).delete()
    # Issued invoices refuse deletion through their own manager: this is a benchmark's.
    Invoice._base_manager.filter(site=site).delete()
    Mandate.objects.filter(site=site).delete()
    Family.objects.filter(site=site).delete()
    InstalmentPlan.objects.filter(site=site).delete()
    Creditor.objects.filter(site=site).delete()
    SchoolYear.objects.filter(site=site).delete()
    site.delete()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
