"""Invoices for the billing tests."""

from decimal import Decimal

from billing import ledger
from billing.models import Invoice, InvoiceLine, PaymentGateway
from families.models import Guardian


def payer(family, **fields):
    values = {"civility": "MME", "first_name": "Claire", "last_name": family.name,
              "address_line1": "12 rue des Tilleuls", "postal_code": "77380",
              "city": "Combs-la-Ville", "is_payer": True}
    values.update(fields)
    return Guardian.objects.create(family=family, **values)


def draft(family, label="Cotisations 2026-2027", lines=(("Piano", "186.00"),), **fields):
    invoice = Invoice.objects.create(site=family.site, family=family, label=label, **fields)
    for position, (line_label, price, *quantity) in enumerate(lines):
        InvoiceLine.objects.create(invoice=invoice, label=line_label, position=position,
                                   unit_price=Decimal(price),
                                   quantity=Decimal(quantity[0]) if quantity else Decimal(1))
    return invoice


def issued(family, **fields):
    return ledger.issue(draft(family, **fields))


def simulator(site):
    return PaymentGateway.objects.create(site=site, backend=PaymentGateway.Backend.DUMMY)
