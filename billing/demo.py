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
    "view_chequedeposit",
    "add_chequedeposit",
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
            bank="Crédit Agricole des Côtes-d'Armor",
            date=date(2026, 10, 15),
        )
    for slug, (label, price, cheques) in CHEQUES.items():
        cheques_to_deposit(Site.objects.get(slug=slug), label, price, cheques)
    stdout.write("Invoices and the simulated bank ready.")


# A course outside the fee grid, paid by cheques that the secretariat has not
# yet taken to the bank: (invoice label, price, [(amount, number, bank, drawer)]).
CHEQUES = {
    "combs-la-ville": (
        "Stage d'orchestre des vacances d'automne",
        "60.00",
        [
            ("40.00", "4120345", "La Banque Postale", ""),
            ("20.00", "0087612", "Crédit Agricole Brie Picardie", "Josiane Martin"),
        ],
    ),
    "ploufragan": (
        "Stage de théâtre des vacances d'automne",
        "35.00",
        [("35.00", "0001235", "Crédit Mutuel de Bretagne", "")],
    ),
}


def cheques_to_deposit(site, label, price, cheques):
    """A few recorded cheques, on no deposit slip yet: the secretary makes
    one from the list of payments."""
    family = Family.objects.get(site=site, accounts__username="demo")
    if Payment.objects.filter(site=site, reference=cheques[0][1]).exists():
        return
    invoice = Invoice.objects.create(site=site, family=family, label=label)
    InvoiceLine.objects.create(invoice=invoice, label=label, unit_price=Decimal(price))
    invoice = ledger.issue(invoice, today=date(2026, 10, 12))
    for day, (amount, number, bank, drawer) in enumerate(cheques, start=20):
        ledger.record_payment(
            family,
            Decimal(amount),
            Payment.Mode.CHEQUE,
            [(invoice, Decimal(amount))],
            reference=number,
            bank=bank,
            drawer=drawer,
            date=date(2026, 11, day),
        )
