"""Demonstration billing: the simulated bank on each site, the first
invoices of the year generated from the enrollments and, for the demo family,
two issued invoices, one of them partly paid by cheque."""

from datetime import date
from decimal import Decimal

from django.conf import settings

from extranet.demo import secretariat_group
from extranet.models import Site
from families.models import Family
from fees.models import FeeGrid
from students.models import SchoolYear

from . import ledger
from .generation import generate
from .models import Invoice, InvoiceLine, Payment, PaymentGateway, ReminderPolicy

SECRETARIAT_PERMISSIONS = [
    f"{action}_{model}"
    for model in ["invoice", "invoiceline", "payment", "allocation", "paymentmode"]
    for action in ["view", "add", "change"]
] + [
    "delete_invoice",
    "delete_invoiceline",
    "view_onlinepayment",
    "view_familyaccount",
    "view_refund",
    "add_refund",
    "view_paymentgateway",
    "change_paymentgateway",
    "view_reminder",
    "change_reminder",
    "view_reminderpolicy",
    "add_reminderpolicy",
    "change_reminderpolicy",
]


# The instrument each demo family rents: (line, child, months, monthly price).
RENTALS = {
    "combs-la-ville": ("Location de piano numérique", "Hugo", 3, "20.00"),
    "ploufragan": ("Location de guitare", "Ewen", 3, "8.00"),
}


def load(stdout):
    secretariat_group("billing", SECRETARIAT_PERMISSIONS)
    for slug in ["combs-la-ville", "ploufragan"]:
        site = Site.objects.get(slug=slug)
        if settings.PAYMENT_SIMULATOR:
            PaymentGateway.objects.get_or_create(
                site=site, defaults={"backend": PaymentGateway.Backend.DUMMY}
            )
        ReminderPolicy.objects.get_or_create(
            site=site, defaults={"email_delays": [7, 30], "letter_delay": 45}
        )
        family = Family.objects.get(site=site, accounts__username="demo")
        year = SchoolYear.objects.get(site=site, name="2026-2027")
        # The year's first invoices, drafted from the enrollments by the fee
        # grid (fees/demo.py); generating again changes nothing.
        grid = FeeGrid.objects.get(site=site, school_year=year)
        generate(grid, period=1 if grid.billing == FeeGrid.Billing.TERMS else None)
        if family.invoices.filter(status=Invoice.Status.ISSUED).exists():
            continue
        first = ledger.issue(
            family.invoices.filter(status=Invoice.Status.DRAFT).order_by("pk").first(),
            today=date(2026, 10, 1),
        )
        rental, child, months, price = RENTALS[slug]
        second = Invoice.objects.create(
            site=site,
            family=family,
            school_year=year,
            label="Location d'instrument – 1er trimestre",
        )
        InvoiceLine.objects.create(
            invoice=second,
            label=rental,
            student=family.students.filter(first_name=child).first(),
            quantity=months,
            unit_price=Decimal(price),
        )
        ledger.issue(second, today=date(2026, 10, 1))
        if slug == "combs-la-ville":
            continue  # Paid by direct debit: see directdebit/demo.py.
        ledger.record_payment(
            family,
            Decimal("150.00"),
            Payment.Mode.CHEQUE,
            [(first, Decimal("150.00"))],
            reference="0001234",
            date=date(2026, 10, 15),
        )
    stdout.write("Invoices and the simulated bank ready.")
