"""How the cells of a line become the portal's fields.

Without a mapping, the file's columns carry the portal's own names (or the
usual variants, see each row form's ALIASES): one line is one record. With a
mapping (mapping.py), the secretary says which column feeds which field, and a
line may hold several records (a family's responsables 1 and 2).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .readers import REPORT_COLUMNS, normalise_header


@dataclass
class Record:
    """What one line says about one person, course or enrollment: the
    portal's field names, and the file's column each value comes from (for
    messages; a field missing from `labels` is named as the portal names it)."""

    data: dict
    labels: dict = field(default_factory=dict)

    def label(self, name):
        return self.labels.get(name, name)


class NamedColumns:
    """Columns named as the portal names its fields; unknown or missing
    columns are errors, so that no column is silently ignored."""

    one_family_per_line = False

    def __init__(self, form, defaults=None):
        self.form = form
        # Values for columns a file may leave out (a students file: the type).
        self.defaults = defaults or {}

    def read_header(self, header):
        """The problems of the header, as (column, message)."""
        fields = self.form.base_fields
        names = [normalise_header(name) for name in header]
        self.columns = [self.form.ALIASES.get(name, name) for name in names]
        problems = []
        seen = set()
        for name, column in zip(names, self.columns, strict=True):
            if column in REPORT_COLUMNS:
                continue
            if column not in fields:
                problems.append(
                    (
                        name,
                        _("Unknown column. Expected: %(columns)s.")
                        % {"columns": ", ".join(fields)},
                    )
                )
            elif column in seen:
                problems.append((name, _("Two columns of the file give this field.")))
            seen.add(column)
        for name, form_field in fields.items():
            if form_field.required and name not in self.columns and name not in self.defaults:
                problems.append((name, _("Missing column.")))
        return problems

    def label_of(self, name):
        """The file's column for a field, None when the file has none."""
        return name if name in self.columns else None

    def records(self, cells):
        """The records of a line and the problems of the line as a whole."""
        data = dict(self.defaults)
        data.update(
            (column, cell)
            for column, cell in zip(self.columns, cells, strict=False)
            if column not in REPORT_COLUMNS
        )
        return [Record(data)], []
