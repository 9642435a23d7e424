"""Reading tables as French offices export them: CSV from Excel (semicolon or
comma, Windows-1252 or UTF-8, with or without BOM) and .xlsx workbooks.

Rows are streamed; headers are normalised ("Date de naissance" →
"date_naissance" style keys are matched without accents, case or spaces).
"""

import codecs
import csv
import io
import unicodedata
from datetime import date, datetime
from pathlib import Path


def normalise_header(name):
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    return "_".join(text.strip().lower().replace("'", " ").replace("-", " ").split())


def detect_encoding(sample):
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A sample cut inside a multi-byte character is still UTF-8.
        if error.start < len(sample) - 3:
            return "cp1252"
    return "utf-8"


def detect_delimiter(first_line):
    return ";" if first_line.count(";") >= first_line.count(",") else ","


class Table:
    """Iterate over (line number, {column: text}) of a CSV or XLSX file."""

    def __init__(self, path, encoding=None, delimiter=None):
        self.path = Path(path)
        self.encoding = encoding
        self.delimiter = delimiter
        self.is_xlsx = self.path.suffix.lower() in {".xlsx", ".xlsm"}

    def __iter__(self):
        return self._xlsx_rows() if self.is_xlsx else self._csv_rows()

    def _csv_rows(self):
        with open(self.path, "rb") as raw:
            sample = raw.read(64 * 1024)
        encoding = self.encoding or detect_encoding(sample)
        if encoding.replace("-", "").lower() == "utf8" and sample.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        with open(self.path, encoding=encoding, newline="") as handle:
            first = handle.readline()
            self.delimiter = self.delimiter or detect_delimiter(first)
            handle.seek(0)
            reader = csv.reader(handle, delimiter=self.delimiter)
            header = [normalise_header(name) for name in next(reader, [])]
            self.header = header
            for line_number, values in enumerate(reader, start=2):
                if not any(value.strip() for value in values):
                    continue
                yield line_number, dict(zip(header, (v.strip() for v in values), strict=False))

    def _xlsx_rows(self):
        from openpyxl import load_workbook

        workbook = load_workbook(self.path, read_only=True, data_only=True)
        try:
            rows = workbook.worksheets[0].iter_rows(values_only=True)
            header = [normalise_header(name) for name in next(rows, ())]
            self.header = header
            for line_number, values in enumerate(rows, start=2):
                cells = [_cell_text(value) for value in values]
                if not any(cells):
                    continue
                yield line_number, dict(zip(header, cells, strict=False))
        finally:
            workbook.close()


def _cell_text(value):
    """Cells as the CSV export would write them."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.strftime("%d/%m/%Y")
        return value.strftime("%H:%M") if value.date() == date(1899, 12, 30) else value.isoformat()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):  # time
        return value.strftime("%H:%M")
    return str(value).strip()


def write_report(path, header, rejected, delimiter=";"):
    """The rejected rows with their reasons, to correct and feed back.
    UTF-8 with BOM so that Excel opens it with the accents right."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow([*header, "erreurs"])
        for row, messages in rejected:
            writer.writerow([*(row.get(name, "") for name in header), " | ".join(messages)])


__all__ = ["Table", "io", "normalise_header", "write_report"]
