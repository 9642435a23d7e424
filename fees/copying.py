"""Next year's grid from last year's: the same structure, prices raised by
a percentage. Last year's grid is only read."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from extranet.money import money

from .models import Band, Commune, FeeGrid, Price, Term, Zone

CENT = "cent"
EURO = "euro"


def raised(amount, percent, rounding):
    """`amount` raised by `percent` %, rounded half up to the cent or to the euro."""
    value = Decimal(amount) * (1 + Decimal(percent) / 100)
    if rounding == EURO:
        return money(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return money(value)


@transaction.atomic
def copy_grid(grid, school_year, percent, rounding=CENT):
    """A new grid for `school_year` (of the same site), with `grid`'s terms
    moved by the difference between the two years' first days (to be checked
    by the secretariat), its zones and communes, bands, items, reductions
    (exempted families kept) and prices raised by `percent` %."""
    shift = timedelta(days=(school_year.start_date - grid.school_year.start_date).days)
    copy = FeeGrid.objects.create(
        site=grid.site,
        school_year=school_year,
        qf_formula=grid.qf_formula,
        billing=grid.billing,
        adult_age=grid.adult_age,
        notes=grid.notes,
    )
    Term.objects.bulk_create(
        Term(
            grid=copy,
            number=term.number,
            start_date=term.start_date + shift,
            end_date=term.end_date + shift,
            due_date=term.due_date + shift,
        )
        for term in grid.terms.all()
    )
    zones, bands, items = {}, {}, {}
    for zone in grid.zones.prefetch_related("communes"):
        zones[zone.pk] = Zone.objects.create(
            grid=copy, name=zone.name, is_outside=zone.is_outside, position=zone.position
        )
        communes = [
            Commune(
                zone=zones[zone.pk],
                postal_code=c.postal_code,
                name=c.name,
                normalized_name=c.normalized_name,
            )
            for c in zone.communes.all()
        ]
        Commune.objects.bulk_create(communes)
    for band in grid.bands.all():
        bands[band.pk] = Band.objects.create(grid=copy, code=band.code, min_qf=band.min_qf)
    for item in grid.items.all():
        old_pk = item.pk
        item.pk, item.grid = None, copy
        item._state.adding = True
        item.save()
        items[old_pk] = item
    Price.objects.bulk_create(
        Price(
            item=items[price.item_id],
            band=bands[price.band_id],
            zone=zones[price.zone_id],
            amount=raised(price.amount, percent, rounding),
        )
        for price in Price.objects.filter(item__grid=grid)
    )
    for reduction in grid.reductions.prefetch_related("families"):
        families = list(reduction.families.all())
        reduction.pk, reduction.grid = None, copy
        reduction._state.adding = True
        reduction.save()
        reduction.families.set(families)
    return copy
