"""Tables for the secretariat's spreadsheets: CSV (what a French spreadsheet
opens without asking) and XLSX. Cells written by families are never taken
for formulas."""

import csv
import io
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value):
    value = "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def csv_cell(value):
    """Numbers as a French spreadsheet reads them (decimal comma); text made safe."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value).replace(".", ",")
    return safe(value)


def csv_response(filename, headers, rows):
    buffer = io.StringIO()
    buffer.write("\ufeff")  # A BOM and semicolons: Excel in French reads it right.
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(filename, title, headers, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(title)[:31]
    sheet.append(headers)
    for row in rows:
        sheet.append(
            [value if isinstance(value, (int, float, Decimal)) else safe(value) for value in row]
        )
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
