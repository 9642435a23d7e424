"""The shape every import follows: check every row first (nothing is written
while any row is wrong, unless rejected rows are to be skipped), then write
in batches inside one transaction."""

import itertools
import time
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from tqdm import tqdm


@dataclass
class RowError:
    file: str
    line: int
    column: str
    message: str

    def __str__(self):
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0

    def __str__(self):
        return (
            _(
                "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                "%(rejected)d rejected, in %(seconds).1f s"
            )
            % self.__dict__
        )


@dataclass
class BaseImport:
    site: object
    table: object
    progress: bool = False
    errors: list = field(default_factory=list)
    rejected: list = field(default_factory=list)  # (row, [messages])
    summary: Summary = field(default_factory=Summary)

    row_form = None

    def __post_init__(self):
        """Subclasses load what they match rows against."""

    @property
    def file_name(self):
        return self.table.path.name

    def error(self, line, column, message, row=None):
        self.errors.append(RowError(self.file_name, line, column, str(message)))
        if row is not None:
            self._reject(line, row, f"{column} : {message}")

    def _reject(self, line, row, message):
        if self.rejected and self.rejected[-1][0] is row:
            self.rejected[-1][1].append(message)
        else:
            self.rejected.append((row, [message]))

    def read_header(self, header):
        """Canonical column names; unknown or missing columns are errors, so
        that no column is silently ignored."""
        fields = self.row_form.base_fields
        columns = [
            name if name in fields else self.row_form.ALIASES.get(name, name) for name in header
        ]
        for name, column in zip(header, columns, strict=True):
            # "erreurs" is the column our own rejects report adds.
            if column not in fields and column != "erreurs":
                self.error(
                    1,
                    name,
                    _("Unknown column. Expected: %(columns)s.") % {"columns": ", ".join(fields)},
                )
        for name, form_field in fields.items():
            if form_field.required and name not in columns:
                self.error(1, name, _("Missing column."))
        self.header = columns
        return columns

    def check(self):
        started = time.monotonic()
        rows = iter(tqdm(self.table, desc=_("Checking"), unit=_("rows"), disable=not self.progress))
        first = next(rows, None)
        columns = self.read_header(getattr(self.table, "header", []))
        if self.errors or first is None:
            return
        for line, raw, cells in itertools.chain([first], rows):
            row = dict(zip(columns, raw.values(), strict=False))
            if cells != len(columns):
                self.error(
                    line,
                    "-",
                    _("This row has %(cells)d cells and the header %(columns)d.")
                    % {"cells": cells, "columns": len(columns)},
                    row,
                )
                continue
            form = self.row_form(row)
            if not form.is_valid():
                for column, messages in form.errors.items():
                    for message in messages:
                        self.error(line, column if column != "__all__" else "-", message, row)
                continue
            self.accept(line, row, form.cleaned_data)
        self.finish_check()
        self.summary.rejected = len(self.rejected)
        self.summary.seconds = time.monotonic() - started

    def accept(self, line, row, data):
        raise NotImplementedError

    def finish_check(self):
        pass

    def write(self, commit=True):
        """Count (and, when `commit`, make) the creations and updates."""
        started = time.monotonic()
        self.apply(commit)
        self.summary.seconds += time.monotonic() - started

    def apply(self, commit):
        raise NotImplementedError

    def count(self, created=0, updated=0, unchanged=0):
        self.summary.created += created
        self.summary.updated += updated
        self.summary.unchanged += unchanged


def changed_fields(instance, values):
    """Set `values` on `instance`; the names of the fields that changed."""
    changed = []
    for name, value in values.items():
        if (getattr(instance, name) or None) != (value or None):
            setattr(instance, name, value)
            changed.append(name)
    return changed
