"""The shape every import follows: check every line first (nothing is written
while any line is wrong, unless rejected lines are to be skipped), then write
in batches inside one transaction.

A line is checked whole: every error it has is reported at once, and a wrong
line is rejected whole (its responsables with it)."""

import itertools
import re
import time
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from tqdm import tqdm

from .columns import NamedColumns


@dataclass
class RowError:
    file: str
    line: int
    column: str
    message: str
    warning: bool = False

    def __str__(self):
        prefix = _("warning: ") if self.warning else ""
        return f"{self.file}:{self.line}:{self.column}: {prefix}{self.message}"


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __str__(self):
        return (
            _(
                "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                "%(rejected)d rejected"
            )
            % self.__dict__
        )


@dataclass
class ImportedFile:
    """One file of the import, how its columns become fields, and its
    rejected lines: {line: (cells, [reason], [record data])}."""

    table: object
    columns: object
    role: str = ""
    rejected: dict = field(default_factory=dict)

    @property
    def name(self):
        return self.table.path.name

    def reject(self, line, cells, reasons, records):
        """Rejects a line (again: its reasons and records are added)."""
        _cells, known_reasons, known_records = self.rejected.setdefault(line, (cells, [], []))
        known_reasons.extend(reason for reason in reasons if reason not in known_reasons)
        known_records.extend(records)

    @property
    def rejected_lines(self):
        return [(line, cells, reasons) for line, (cells, reasons, _data) in self.rejected.items()]


# A "?" or a replacement character inside a word: a letter the file lost when
# it was written or read in the wrong encoding (Windows-1252 and UTF-8 mixed).
LOST_CHARACTER = re.compile(r"\w\?|\?\w|\ufffd")


@dataclass
class BaseImport:
    site: object
    tables: list  # [(Table, role)]
    mapping: object = None
    progress: bool = False
    blank_invalid_optional: bool = False
    column_errors: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    seconds: float = 0.0

    row_form = None
    # What the summary counts: {kind: its name in the summary}.
    KINDS = {"": ""}
    # The fields where a lost character is looked for.
    TEXT_FIELDS = ()

    def __post_init__(self):
        self.summaries = {kind: Summary() for kind in self.KINDS}
        self.sources = [
            ImportedFile(table, self.columns_for(role), role) for table, role in self.tables
        ]
        self.prepare()

    def prepare(self):
        """Subclasses load what they match rows against."""

    def columns_for(self, role):
        if self.mapping is not None:
            return self.mapping.columns_for(role)
        return self.named_columns(role)

    @classmethod
    def named_columns(cls, role):
        """How a file without a mapping is read: by the portal's column names."""
        return NamedColumns(cls.row_form)

    # Checking.

    def check(self):
        started = time.monotonic()
        for source in self.sources:
            self.check_source(source)
        if not self.column_errors:
            self.finish_check()
            self.count_rejected()
        self.seconds = time.monotonic() - started

    def check_source(self, source):
        rows = iter(
            tqdm(source.table, desc=_("Checking"), unit=" " + _("rows"), disable=not self.progress)
        )
        first = next(rows, None)
        header = getattr(source.table, "header", [])
        problems = source.columns.read_header(header)
        for column, message in problems:
            self.column_errors.append(RowError(source.name, 1, column, message))
        if problems or first is None:
            return
        for line, cells, count in itertools.chain([first], rows):
            if count != len(header):
                message = _("This row has %(cells)d cells and the header %(columns)d.") % {
                    "cells": count,
                    "columns": len(header),
                }
                # Its records, as far as they can be read, tell its family.
                records, _problems = source.columns.records(cells)
                self.reject(source, line, cells, [("-", message)], [r.data for r in records])
                continue
            self.check_line(source, line, cells)

    def check_line(self, source, line, cells):
        records, problems = source.columns.records(cells)
        problems = list(problems)
        blanked, checked = [], []
        for index, record in enumerate(records):
            data, cleaned, errors, emptied = self.validate(record)
            errors += self.cross_check(source, (line, index), data, cleaned)
            problems += [(record.label(name), message) for name, message in errors]
            blanked += [(record.label(name), message) for name, message in emptied]
            for name in self.TEXT_FIELDS:
                value = str(data.get(name) or "")
                if LOST_CHARACTER.search(value):
                    self.warn(
                        source,
                        line,
                        record.label(name),
                        _(
                            "“%(value)s”: a “?” inside a word is often a letter lost by a "
                            "file written or read in the wrong encoding (try --encoding "
                            "cp1252 or utf-8, or correct it)."
                        )
                        % {"value": value},
                    )
            checked.append((data, cleaned))
        if problems:
            self.reject(source, line, cells, problems, [data for data, _cleaned in checked])
            return
        for column, message in blanked:
            self.warn(source, line, column, message)
        for data, cleaned in checked:
            self.accept(source, line, cells, data, cleaned)

    def validate(self, record):
        """(data, cleaned data, [(field, error)], [(field, warning)]): with
        --blank-invalid-optional, an invalid optional value is emptied, with a
        warning, and the record checked again."""
        data = dict(record.data)
        form = self.row_form(data)
        emptied = []
        if not form.is_valid() and self.blank_invalid_optional:
            for name, messages in form.errors.items():
                if data.get(name) and self.is_optional(name, form.cleaned_data):
                    emptied.append(
                        (
                            name,
                            _("“%(value)s” left empty: %(reason)s")
                            % {"value": data[name], "reason": " ".join(messages)},
                        )
                    )
                    data[name] = ""
            if emptied:
                form = self.row_form(data)
                form.is_valid()
        errors = [
            (name if name != "__all__" else "-", message)
            for name, messages in form.errors.items()
            for message in messages
        ]
        return data, form.cleaned_data, errors, emptied

    def is_optional(self, name, cleaned):
        form_field = self.row_form.base_fields.get(name)
        return form_field is not None and not form_field.required

    def cross_check(self, source, where, data, cleaned):
        """The errors found against other lines or the database, as
        [(field, message)]; `where` is (line, record index in the line)."""
        return []

    def accept(self, source, line, cells, data, cleaned):
        raise NotImplementedError

    def finish_check(self):
        pass

    def reject(self, source, line, cells, problems, records):
        """Rejects a line, with its reasons (column, message): each is an error."""
        problems = list(dict.fromkeys(problems))
        for column, message in problems:
            self.errors.append(RowError(source.name, line, column, str(message)))
        source.reject(
            line, cells, [f"{column} : {message}" for column, message in problems], records
        )

    def warn(self, source, line, column, message):
        warning = RowError(source.name, line, column, str(message), warning=True)
        if warning not in self.warnings:
            self.warnings.append(warning)

    def count_rejected(self):
        kind = next(iter(self.KINDS))
        self.summaries[kind].rejected = sum(len(s.rejected) for s in self.sources)

    # Writing.

    def write(self, commit=True):
        """Count (and, when `commit`, make) the creations and updates."""
        started = time.monotonic()
        self.apply(commit)
        self.seconds += time.monotonic() - started

    def apply(self, commit):
        raise NotImplementedError

    def count(self, created=0, updated=0, unchanged=0, kind=None):
        summary = self.summaries[next(iter(self.KINDS)) if kind is None else kind]
        summary.created += created
        summary.updated += updated
        summary.unchanged += unchanged

    def report(self):
        """The summary: one line, or a table when several kinds are counted."""
        if len(self.KINDS) == 1:
            summary = next(iter(self.summaries.values()))
            return [
                _("%(summary)s, in %(seconds).1f s") % {"summary": summary, "seconds": self.seconds}
            ]
        titles = [
            pgettext("import summary", "created"),
            pgettext("import summary", "updated"),
            pgettext("import summary", "unchanged"),
            pgettext("import summary", "rejected"),
        ]
        width = max(len(str(name)) for name in self.KINDS.values())
        lines = [" " * width + "".join(f"  {title:>10}" for title in titles)]
        for kind, name in self.KINDS.items():
            s = self.summaries[kind]
            counts = (s.created, s.updated, s.unchanged, s.rejected)
            lines.append(f"{name!s:<{width}}" + "".join(f"  {n:>10}" for n in counts))
        lines += self.notes()
        lines.append(_("in %(seconds).1f s") % {"seconds": self.seconds})
        return lines

    def notes(self):
        """Lines the summary adds under its table."""
        return []


def changed_fields(instance, values):
    """Set `values` on `instance`; the names of the fields that changed."""
    changed = []
    for name, value in values.items():
        if (getattr(instance, name) or None) != (value or None):
            setattr(instance, name, value)
            changed.append(name)
    return changed
