"""Reading tables as French offices export them: CSV from Excel (semicolon or
comma, Windows-1252 or UTF-8, with or without BOM) and .xlsx workbooks.

Rows are streamed as lists of cells, the header as the file writes it;
`normalise_header` gives the portal's style of name ("Date de naissance" →
"date_naissance": no accents, case or spaces).
"""

import codecs
import csv
import unicodedata
from datetime import date, datetime
from pathlib import Path

# Little words dropped from headers: "Date de naissance" → "date_naissance".
FILLER_WORDS = {"de", "d", "du", "des", "la", "le", "l"}


def normalise_header(name):
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    words = text.strip().lower().replace("'", " ").replace("’", " ").replace("-", " ").split()
    return "_".join(word for word in words if word not in FILLER_WORDS)


def detect_encoding(path):
    """UTF-8 (with or without BOM) if the whole file decodes as such, else
    Windows-1252, what Excel writes on French Windows. Streamed."""
    with open(path, "rb") as raw:
        if raw.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        raw.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for chunk in iter(lambda: raw.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def detect_delimiter(first_line):
    return ";" if first_line.count(";") >= first_line.count(",") else ","


class Table:
    """Iterate over (line number, [cell text], cell count) of a CSV or XLSX
    file; `header` holds the column names, as written in the file, once
    iteration starts."""

    def __init__(self, path, encoding=None, delimiter=None):
        self.path = Path(path)
        self.encoding = encoding
        self.delimiter = delimiter
        self.is_xlsx = self.path.suffix.lower() in {".xlsx", ".xlsm"}

    def __iter__(self):
        return self._xlsx_rows() if self.is_xlsx else self._csv_rows()

    @property
    def name(self):
        return self.path.name

    def read_header(self):
        """The column names, without reading further than the first row."""
        rows = iter(self)
        next(rows, None)
        rows.close()
        return self.header

    def _csv_rows(self):
        encoding = self.encoding or detect_encoding(self.path)
        if encoding.replace("-", "").lower() == "utf8":
            encoding = "utf-8-sig"  # Also reads files without BOM.
        with open(self.path, encoding=encoding, newline="") as handle:
            first = handle.readline()
            self.delimiter = self.delimiter or detect_delimiter(first)
            handle.seek(0)
            reader = csv.reader(handle, delimiter=self.delimiter)
            self.header = [name.strip() for name in next(reader, [])]
            start = reader.line_num + 1
            for values in reader:
                # A quoted cell may span lines (Alt+Enter in Excel): a row
                # starts where the previous one ended.
                line_number, start = start, reader.line_num + 1
                if not any(value.strip() for value in values):
                    continue
                yield line_number, [value.strip() for value in values], len(values)

    def _xlsx_rows(self):
        from openpyxl import load_workbook

        workbook = load_workbook(self.path, read_only=True, data_only=True)
        try:
            rows = workbook.worksheets[0].iter_rows(values_only=True)
            header = [_cell_text(name) for name in next(rows, ())]
            self.header = header
            for line_number, values in enumerate(rows, start=2):
                cells = [_cell_text(value) for value in values]
                if not any(cells):
                    continue
                # Spreadsheets pad short rows with empty cells.
                while len(cells) > len(header) and not cells[-1]:
                    cells.pop()
                yield line_number, cells, max(len(cells), len(header))
        finally:
            workbook.close()


class Number(str):
    """A cell the spreadsheet held as a number: leading zeros are lost."""


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
        return Number(int(value))
    if isinstance(value, int):
        return Number(value)
    if hasattr(value, "strftime"):  # time
        return value.strftime("%H:%M")
    return str(value).strip()


# The columns a rejects report adds to the file's own: they are left out when
# the corrected report is imported again.
LINE_COLUMN = "ligne"
ERRORS_COLUMN = "erreurs"
REPORT_COLUMNS = {LINE_COLUMN, ERRORS_COLUMN}


def write_report(path, header, rejected, delimiter=";"):
    """The rejected lines with their reasons, to correct and feed back: the
    file's own columns, its line numbers (those of the first file when a
    report is imported again) and the reasons. UTF-8 with BOM so that Excel
    opens it with the accents right. `rejected`: (line, cells, [reason])."""
    kept = [i for i, name in enumerate(header) if normalise_header(name) not in REPORT_COLUMNS]
    line_at = next(
        (i for i, name in enumerate(header) if normalise_header(name) == LINE_COLUMN), None
    )
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow([*(header[i] for i in kept), LINE_COLUMN, ERRORS_COLUMN])
        for line, cells, messages in rejected:
            padded = [*cells, *[""] * (len(header) - len(cells))]
            first_line = padded[line_at] if line_at is not None and padded[line_at] else line
            # Cells beyond the header (a row that has too many) are kept, last.
            extra = cells[len(header) :]
            writer.writerow([*(padded[i] for i in kept), first_line, " | ".join(messages), *extra])
