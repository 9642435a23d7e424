"""Demo: both sites take direct debits; the Combs family pays 2026-2027 in
ten debits under a mandate signed in September, the November debit
rejected for want of funds."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from extranet.demo import secretariat_group
from extranet.models import Site
from families.models import Family

from . import batches, mandates, prenotification, rejections
from .models import Batch, Creditor, Mandate

PARIS = ZoneInfo("Europe/Paris")

SECRETARIAT_PERMISSIONS = [
    "view_creditor",
    "change_creditor",
    "view_mandate",
    "change_mandate",
    "view_batch",
    "add_batch",
    "view_debit",
    "change_debit",
    "view_returnfile",
    "add_returnfile",
]

CREDITORS = {
    "combs-la-ville": {
        "name": "Régie du conservatoire de Combs-la-Ville",
        "address": "Rue Baptiste Marcet\n77380 Combs-la-Ville",
        "ics": "FR72ZZZ123456",
        "iban": "FR7630001007941234567890185",
        "bic": "BDFEFRPPCCT",
        "rejection_fee": Decimal("5.00"),
    },
    "ploufragan": {
        "name": "Régie du centre culturel de Ploufragan",
        "address": "Place de l'Église\n22440 Ploufragan",
        "ics": "FR19ZZZ654321",
        "iban": "FR7610011000201234567890188",
        "bic": "PSSTFRPPXXX",
    },
}


def load(stdout):
    secretariat_group("directdebit", SECRETARIAT_PERMISSIONS)
    for slug, fields in CREDITORS.items():
        site = Site.objects.get(slug=slug)
        creditor, created = Creditor.objects.get_or_create(site=site, defaults=fields)
        if created:
            creditor.full_clean()
    site = Site.objects.get(slug="combs-la-ville")
    if Batch.objects.filter(site=site).exists():
        stdout.write("Direct debit ready.")
        return
    family = Family.objects.get(site=site, accounts__username="demo")
    payer = family.guardians.filter(is_payer=True).first() or family.guardians.first()
    mandate = mandates.activate(
        Mandate(
            site=site,
            family=family,
            holder_name=f"{payer.first_name} {payer.last_name}",
            holder_address=f"{payer.address_line1}\n{payer.postal_code} {payer.city}",
            iban="FR7630006000011234567890189",
            bic="AGRIFRPPXXX",
        ),
        now=datetime(2026, 9, 20, 18, 30, tzinfo=PARIS),
    )
    creditor = site.creditor
    base_url = "http://127.0.0.1:8000"
    prenotification.prenotify(creditor, today=date(2026, 9, 20), base_url=base_url)
    for collection, prepared in [
        (date(2026, 10, 5), date(2026, 9, 30)),
        (date(2026, 11, 5), date(2026, 10, 30)),
    ]:
        batches.prepare(site, collection, today=prepared)
        batches.collect(today=collection)
    november = mandate.debits.filter(batch__collection_date=date(2026, 11, 5)).first()
    rejections.reject(november, date(2026, 11, 9), "AM04", base_url=base_url)
    stdout.write("Direct debit ready: a signed mandate, two batches, one rejected debit.")
