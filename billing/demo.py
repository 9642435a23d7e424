"""Demonstration billing: the simulated bank on each site and, for the demo
family, two issued invoices, one of them half paid by cheque."""

from datetime import date
from decimal import Decimal

from django.conf import settings

from extranet.demo import secretariat_group
from extranet.models import Site
from families.models import Family
from students.models import Discipline, SchoolYear

from . import ledger
from .models import Invoice, InvoiceLine, Payment, PaymentGateway

SECRETARIAT_PERMISSIONS = [
    f"{action}_{model}"
    for model in ["invoice", "invoiceline", "payment", "allocation", "paymentmode"]
    for action in ["view", "add", "change"]
] + [
    "delete_invoice",
    "delete_invoiceline",
    "view_onlinepayment",
    "view_familyaccount",
    "view_paymentgateway",
    "change_paymentgateway",
]


def load(stdout):
    secretariat_group("billing", SECRETARIAT_PERMISSIONS)
    for slug in ["combs-la-ville", "ploufragan"]:
        site = Site.objects.get(slug=slug)
        if settings.PAYMENT_SIMULATOR:
            PaymentGateway.objects.get_or_create(
                site=site, defaults={"backend": PaymentGateway.Backend.DUMMY}
            )
        family = Family.objects.get(site=site, accounts__username="demo")
        if Invoice.objects.filter(family=family).exists():
            continue
        year = SchoolYear.objects.get(site=site, name="2026-2027")
        students = {s.first_name: s for s in family.students.all()}
        disciplines = {d.name: d for d in Discipline.objects.filter(site=site)}
        first = Invoice.objects.create(
            site=site,
            family=family,
            school_year=year,
            label="Cotisations 2026-2027 – 1er trimestre",
        )
        for position, (label, student, discipline, price) in enumerate(
            [
                ("Formation musicale et danse", "Léa", "Danse classique", "126.00"),
                ("Piano et formation musicale", "Hugo", "Piano", "186.00"),
                ("Adhésion familiale", None, None, "15.00"),
            ]
        ):
            InvoiceLine.objects.create(
                invoice=first,
                label=label,
                position=position,
                student=students.get(student),
                discipline=disciplines.get(discipline),
                unit_price=Decimal(price),
            )
        first = ledger.issue(first, today=date(2026, 10, 1))
        second = Invoice.objects.create(
            site=site,
            family=family,
            school_year=year,
            label="Location d'instrument – 1er trimestre",
        )
        InvoiceLine.objects.create(
            invoice=second,
            label="Location de piano numérique",
            student=students.get("Hugo"),
            quantity=3,
            unit_price=Decimal("20.00"),
        )
        ledger.issue(second, today=date(2026, 10, 1))
        ledger.record_payment(
            family,
            Decimal("150.00"),
            Payment.Mode.CHEQUE,
            [(first, Decimal("150.00"))],
            reference="0001234",
            date=date(2026, 10, 15),
        )
    stdout.write("Invoices and the simulated bank ready.")
