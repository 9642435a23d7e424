"""The price table of a grid: one cell per item, band and zone, filled in by
the secretariat on a page or from a spreadsheet (CSV or XLSX, one line per
cell: article; tranche; zone; prix)."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from extranet.formatting import parse_decimal
from extranet.tables import FORMULA_START

from .models import Price

MAX_AMOUNT = Decimal("9999999.99")  # Price.amount: 9 digits, 2 decimals.
MAX_LENGTH = 20
MAX_LINES = 20000


def headers():
    return [_("item"), _("band"), _("zone"), _("price")]


def parse_amount(text):
    """A price typed the French way ("1 186,00", "186,5 €") or the English way
    ("186.00"); None for an empty cell. Raises ValidationError in French."""
    if text is None:
        return None
    if isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        text = str(text)
    text = str(text).strip()
    if not text:
        return None
    if len(text) > MAX_LENGTH:
        raise ValidationError(_("Too long for a price."), code="too_long")
    try:
        amount = parse_decimal(text)
    except ValueError:
        raise ValidationError(
            _("Not a price: type an amount in euros, for example 186,00."), code="invalid"
        ) from None
    if amount < 0:
        raise ValidationError(_("A price cannot be negative."), code="negative")
    if amount > MAX_AMOUNT:
        raise ValidationError(_("This price is too high."), code="too_high")
    return amount.quantize(Decimal("0.01"))


@dataclass
class Cell:
    item: object
    band: object
    zone: object
    amount: Decimal | None

    @property
    def key(self):
        return (self.item.pk, self.band.pk, self.zone.pk)

    @property
    def name(self):
        return f"price-{self.item.pk}-{self.band.pk}-{self.zone.pk}"

    @property
    def label(self):
        return f"{self.item} – {self.band} – {self.zone}"


class Table:
    """A grid's items, bands, zones and prices, read in four queries."""

    def __init__(self, grid):
        self.grid = grid
        self.items = list(grid.items.all())
        self.bands = list(grid.bands.all())
        self.zones = list(grid.zones.all())
        self.prices = {
            (p.item_id, p.band_id, p.zone_id): p
            for p in Price.objects.filter(item__grid=grid).only(
                "pk", "item_id", "band_id", "zone_id", "amount"
            )
        }

    def cells(self):
        """Zone by zone, item by item, band by band: the order of the page and the exports."""
        for zone in self.zones:
            for item in self.items:
                for band in self.bands:
                    price = self.prices.get((item.pk, band.pk, zone.pk))
                    yield Cell(item, band, zone, price.amount if price else None)

    def gaps(self):
        return [cell for cell in self.cells() if cell.amount is None]

    def rows(self):
        """The export: one line per cell, an empty price for a cell without one."""
        for cell in self.cells():
            yield [cell.item.name, cell.band.code, cell.zone.name, cell.amount]

    @transaction.atomic
    def save(self, amounts):
        """Writes {(item pk, band pk, zone pk): amount or None}; None removes
        the price. Returns how many cells changed."""
        create, update, delete = [], [], []
        for key, amount in amounts.items():
            price = self.prices.get(key)
            if amount is None:
                if price is not None:
                    delete.append(price.pk)
            elif price is None:
                create.append(Price(item_id=key[0], band_id=key[1], zone_id=key[2], amount=amount))
            elif price.amount != amount:
                price.amount = amount
                update.append(price)
        Price.objects.filter(pk__in=delete).delete()
        Price.objects.bulk_update(update, ["amount"])
        Price.objects.bulk_create(create)
        for price in update + create:
            self.prices[(price.item_id, price.band_id, price.zone_id)] = price
        for key in [k for k, p in self.prices.items() if p.pk in delete]:
            del self.prices[key]
        return len(create) + len(update) + len(delete)


class ImportRefused(Exception):
    """The lines of a file that could not be read, each with its French message."""

    def __init__(self, messages):
        super().__init__("\n".join(messages))
        self.messages = messages


def read_rows(upload):
    """The lines of an uploaded CSV (semicolons, UTF-8 with or without BOM)
    or XLSX file, as lists of cells."""
    name = (upload.name or "").lower()
    data = upload.read()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return read_xlsx(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused([_("The file is not in UTF-8: save it as “CSV UTF-8”.")]) from None
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def read_xlsx(data):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportRefused([_("The file is neither a CSV file nor an Excel workbook.")]) from None
    sheet = workbook.worksheets[0]
    rows = [
        ["" if value is None else value for value in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    workbook.close()
    return rows


def text_of(value):
    text = "" if value is None else str(value).strip()
    # The export writes "'=…" for a name that a spreadsheet would take for a formula.
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_START:
        return text[1:]
    return text


NOT_READ = gettext_lazy("Line %(line)d: %(problem)s")


def amounts_from_rows(table, rows):
    """{cell key: amount or None} from the rows of a file laid out like the
    export; raises ImportRefused listing every wrong line."""
    rows = [row for row in rows if any(text_of(v) for v in row)]
    if not rows:
        raise ImportRefused([_("The file is empty.")])
    if len(rows) > MAX_LINES:
        raise ImportRefused([_("The file has too many lines.")])
    expected = [h.casefold() for h in headers()]
    if [text_of(v).casefold() for v in rows[0][:4]] != expected:
        raise ImportRefused(
            [
                _("The first line must be the columns: %(columns)s.")
                % {"columns": "; ".join(headers())}
            ]
        )
    items, bands, zones = {}, {}, {}
    for mapping, objects, attribute in [
        (items, table.items, "name"),
        (bands, table.bands, "code"),
        (zones, table.zones, "name"),
    ]:
        for obj in objects:
            mapping.setdefault(getattr(obj, attribute).strip().casefold(), []).append(obj)
    amounts, problems, seen = {}, [], {}
    for number, row in enumerate(rows[1:], start=2):
        cells = [text_of(v) for v in row] + [""] * 4
        if any(text_of(v) for v in row[4:]):
            problems.append(NOT_READ % {"line": number, "problem": _("more than four columns.")})
            continue
        item_name, band_code, zone_name = cells[0], cells[1], cells[2]
        found = []
        for mapping, value, unknown, ambiguous in [
            (
                items,
                item_name,
                _("unknown item “%(value)s”."),
                _("several items are called “%(value)s”."),
            ),
            (
                bands,
                band_code,
                _("unknown band “%(value)s”."),
                _("several bands are called “%(value)s”."),
            ),
            (
                zones,
                zone_name,
                _("unknown zone “%(value)s”."),
                _("several zones are called “%(value)s”."),
            ),
        ]:
            matches = mapping.get(value.casefold(), [])
            if len(matches) != 1:
                message = unknown if not matches else ambiguous
                problems.append(NOT_READ % {"line": number, "problem": message % {"value": value}})
                break
            found.append(matches[0])
        else:
            raw = row[3] if len(row) > 3 else ""
            try:
                amount = parse_amount(raw)
            except ValidationError as error:
                problems.append(NOT_READ % {"line": number, "problem": error.messages[0]})
                continue
            key = tuple(obj.pk for obj in found)
            if key in seen:
                problems.append(
                    NOT_READ
                    % {
                        "line": number,
                        "problem": _("this cell was already given on line %(line)d.")
                        % {"line": seen[key]},
                    }
                )
                continue
            seen[key] = number
            amounts[key] = amount
    if problems:
        raise ImportRefused(problems)
    return amounts
