"""What the treasury asks of a year's fees: the amounts billed per period,
fee item, quotient band and residence zone, from the issued invoices and
credit notes that the generation drafted (billing.generation)."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import pgettext

from extranet.money import money

from .generation import term_name
from .models import Invoice, InvoiceLine


def treasury_headers():
    return [
        pgettext("treasury", "Period"),
        pgettext("treasury", "Fee item"),
        pgettext("treasury", "Band"),
        pgettext("treasury", "Zone"),
        pgettext("treasury", "Invoiced"),
        pgettext("treasury", "Credited"),
        pgettext("treasury", "Net"),
    ]


def treasury_rows(grid, period=None):
    """[[period, item, band, zone, invoiced, credited, net]] of `grid`, for
    one term's number or every period."""
    lines = InvoiceLine.objects.filter(invoice__status=Invoice.Status.ISSUED, fee_item__grid=grid)
    if period is not None:
        lines = lines.filter(period=period)
    totals = defaultdict(lambda: [Decimal(0), Decimal(0)])
    names = {}
    for row in lines.values(
        "period",
        "fee_item_id",
        "fee_item__name",
        "fee_item__position",
        "band",
        "zone",
        "invoice__kind",
    ).annotate(amount=Sum("amount")):
        key = (
            -1 if row["period"] is None else row["period"],
            row["fee_item__position"],
            row["fee_item_id"],
            row["band"],
            row["zone"],
        )
        names[key] = row["fee_item__name"]
        credited = row["invoice__kind"] == Invoice.Kind.CREDIT_NOTE
        totals[key][1 if credited else 0] += row["amount"]
    return [
        [
            pgettext("treasury", "Year") if key[0] == -1 else term_name(key[0]),
            names[key],
            key[3],
            key[4],
            money(invoiced),
            money(credited),
            money(invoiced - credited),
        ]
        for key, (invoiced, credited) in sorted(totals.items())
    ]
