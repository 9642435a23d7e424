"""A mapping from an export's own columns to the portal's fields, written in
TOML by the secretary (or guessed by --suggest-columns, then checked):

    ignorer = ["Pointure"]                  # columns of the files left out

    [famille]                               # the families file, one line per family
    ref_famille = "N° dossier"
    email_reference = "Mail famille"

    [responsable1]
    nom = "Nom"
    adresse = { joindre = ["Adresse", "Complément"] }         # joined with a space
    mobile = { premier = ["Tél. portable", "Tél. domicile"] }  # the first non-empty

    [responsable2]                          # a second responsable on the same line
    nom = "Resp. 2 – Nom"

    [eleve]                                 # the students file, one line per student
    ref = "N° élève"
    ref_famille = "N° dossier"

A column of a file that is neither mapped nor in `ignorer` is an error: no
column is left out without saying so.
"""

import re
import tomllib
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .columns import Record
from .readers import REPORT_COLUMNS, normalise_header

FAMILY = "famille"
STUDENT = "eleve"
GUARDIAN = re.compile(r"^responsable([1-9])$")
IGNORE = "ignorer"
JOIN, FIRST, SEPARATOR = "joindre", "premier", "separateur"

# The fields each table may map, in the order --suggest-columns writes them.
FIELDS = {
    FAMILY: ["ref_famille", "nom_famille", "email_reference", "mobile_reference", "identifiant"],
    "responsable": [
        "ref",
        "civilite",
        "nom",
        "nom_naissance",
        "prenom",
        "date_naissance",
        "lieu_naissance",
        "departement_naissance",
        "adresse",
        "complement_adresse",
        "code_postal",
        "ville",
        "pays",
        "tel_domicile",
        "mobile",
        "tel_travail",
        "email",
        "payeur",
    ],
    STUDENT: [
        "ref",
        "ref_famille",
        "nom",
        "prenom",
        "sexe",
        "date_naissance",
        "lieu_naissance",
        "email",
        "mobile",
        "ecole",
        "classe",
        "droit_image",
    ],
}
# Fields a table must map: without them no line could be imported. A
# responsable without `ref` is known as the family's reference followed by
# -1, -2 (its table's number).
REQUIRED = {
    FAMILY: ["ref_famille"],
    "responsable": ["civilite", "nom", "prenom", "adresse", "code_postal", "ville"],
    STUDENT: ["ref", "ref_famille", "nom", "prenom", "date_naissance"],
}


def fields_of(table):
    return FIELDS["responsable" if GUARDIAN.match(table) else table]


def loose(name):
    """Column names compared without accents, case, spaces or punctuation."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


class MappingError(Exception):
    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Source:
    """Where a field's value comes from: one column, several joined, or the
    first non-empty of several."""

    columns: list
    how: str = ""  # "", JOIN or FIRST
    separator: str = " "

    def value(self, cells):
        """(the value, the columns it comes from) from the cells of
        `columns`, in their order."""
        if self.how == JOIN:
            return self.separator.join(cell for cell in cells if cell), list(range(len(cells)))
        for index, cell in enumerate(cells):
            if cell:
                return cell, [index]  # As is: a spreadsheet's Number stays one.
        return "", [0]


class Mapping:
    def __init__(self, tables, ignored, path=None):
        self.tables = tables  # table → {field: Source}
        self.ignored = ignored
        self.path = path

    @classmethod
    def load(cls, path):
        try:
            with open(path, "rb") as handle:
                document = tomllib.load(handle)
        except FileNotFoundError:
            raise MappingError([_("No file “%(path)s”.") % {"path": path}]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise MappingError(
                [
                    _("%(path)s cannot be read as TOML: %(error)s")
                    % {"path": path.name, "error": error}
                ]
            ) from None
        return cls.parse(document, path)

    @classmethod
    def parse(cls, document, path=None):
        problems, tables, ignored = [], {}, []
        for key, value in document.items():
            if key == IGNORE:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    problems.append(_("« ignorer » is a list of column names, in brackets."))
                else:
                    ignored = value
            elif not (key in (FAMILY, STUDENT) or GUARDIAN.match(key)):
                problems.append(
                    _(
                        "[%(table)s]: unknown table. Tables: [famille], [responsable1] to "
                        "[responsable9], [eleve], and the list « ignorer »."
                    )
                    % {"table": key}
                )
            elif not isinstance(value, dict):
                problems.append(_("%(table)s: write it as a table, [%(table)s].") % {"table": key})
            else:
                tables[key] = cls._table(key, value, problems)
        for table, sources in tables.items():
            required = REQUIRED["responsable" if GUARDIAN.match(table) else table]
            for name in required:
                if name not in sources:
                    problems.append(
                        _("[%(table)s]: “%(field)s” is required: give the column it comes from.")
                        % {"table": table, "field": name}
                    )
        if problems:
            raise MappingError(problems)
        return cls(tables, ignored, path)

    @staticmethod
    def _table(table, entries, problems):
        allowed = fields_of(table)
        sources = {}
        for name, value in entries.items():
            if name not in allowed:
                problems.append(
                    _("[%(table)s] %(field)s: unknown field here. Fields: %(fields)s.")
                    % {"table": table, "field": name, "fields": ", ".join(allowed)}
                )
                continue
            source = _source(value)
            if source is None:
                problems.append(
                    _(
                        "[%(table)s] %(field)s: write a column name in quotes, "
                        "{ joindre = [columns] } to join several with a space (or "
                        "separateur), or { premier = [columns] } for the first non-empty one."
                    )
                    % {"table": table, "field": name}
                )
                continue
            sources[name] = source
        return sources

    def guardian_tables(self):
        return sorted(
            (table for table in self.tables if GUARDIAN.match(table)),
            key=lambda table: int(GUARDIAN.match(table)[1]),
        )

    def columns_for(self, role):
        return MappedColumns(self, role)


def _source(value):
    if isinstance(value, str):
        return Source([value])
    if not isinstance(value, dict) or len(set(value) & {JOIN, FIRST}) != 1:
        return None
    if set(value) - {JOIN, FIRST, SEPARATOR} or (SEPARATOR in value and FIRST in value):
        return None
    how = JOIN if JOIN in value else FIRST
    columns = value[how]
    separator = value.get(SEPARATOR, " ")
    if (
        not isinstance(columns, list)
        or not columns
        or not all(isinstance(c, str) for c in columns)
        or not isinstance(separator, str)
    ):
        return None
    return Source(columns, how, separator)


class MappedColumns:
    """A file read through a mapping: the families file (a family and its
    responsables on each line) or the students file (a student on each line)."""

    def __init__(self, mapping, role):
        self.mapping = mapping
        self.role = role
        if role == "families":
            self.tables = [FAMILY, *mapping.guardian_tables()]
        else:
            self.tables = [STUDENT]
        self.one_family_per_line = role == "families"

    def read_header(self, header):
        """The problems of the header, as (column, message): columns named in
        the mapping but not in the file, and the reverse."""
        problems = []
        missing = [t for t in self.tables if t not in self.mapping.tables]
        if self.role == "families" and len(self.tables) == 1:
            missing.append("responsable1")
        for table in missing:
            problems.append(("-", _("The mapping has no [%(table)s] table.") % {"table": table}))
        if missing:
            return problems
        by_name, by_loose = {}, {}
        for index, name in enumerate(header):
            if name in by_name:
                problems.append(
                    (
                        name,
                        _(
                            "Two columns have this name (columns %(first)d and %(second)d): "
                            "rename one in the file."
                        )
                        % {"first": by_name[name] + 1, "second": index + 1},
                    )
                )
            by_name[name] = index
            by_loose.setdefault(loose(name), []).append(index)

        def find(name):
            if name in by_name:
                return by_name[name]
            candidates = by_loose.get(loose(name), [])
            return candidates[0] if len(candidates) == 1 else None

        used = set()
        self.sources = {}  # table → {field: (Source, [column index])}
        for table in self.tables:
            self.sources[table] = {}
            for name, source in self.mapping.tables[table].items():
                indexes = []
                for column in source.columns:
                    index = find(column)
                    if index is None:
                        problems.append(
                            (
                                column,
                                _(
                                    "Column named in the mapping ([%(table)s] %(field)s) but "
                                    "not in the file. The file's columns: %(columns)s."
                                )
                                % {
                                    "table": table,
                                    "field": name,
                                    "columns": ", ".join(f"« {c} »" for c in header),
                                },
                            )
                        )
                    else:
                        indexes.append(index)
                        used.add(index)
                self.sources[table][name] = (source, indexes)
        ignored = {find(name) for name in self.mapping.ignored}
        for index, name in enumerate(header):
            if index in used or index in ignored or normalise_header(name) in REPORT_COLUMNS:
                continue
            problems.append(
                (
                    name,
                    _(
                        "Column neither mapped nor ignored: give it to a field in the mapping, "
                        "or add it to « ignorer »."
                    ),
                )
            )
        self.header = header
        return problems

    def label_of(self, name):
        for table in self.tables:
            if name in self.sources.get(table, {}):
                _source, indexes = self.sources[table][name]
                return " + ".join(self.header[i] for i in indexes)
        return None

    def _values(self, table, cells):
        values, labels = {}, {}
        for name, (source, indexes) in self.sources[table].items():
            value, used = source.value([cells[i] if i < len(cells) else "" for i in indexes])
            values[name] = value
            # Messages name the file's own columns, as its header writes them.
            labels[name] = " + ".join(self.header[indexes[i]] for i in used)
        return values, labels

    def records(self, cells):
        """The records of a line and the problems of the line as a whole."""
        if self.role == "students":
            values, labels = self._values(STUDENT, cells)
            return [Record({"type": "eleve", **values}, labels)], []
        family, family_labels = self._values(FAMILY, cells)
        records = []
        for table in self.tables[1:]:
            values, labels = self._values(table, cells)
            if not any(values.values()):
                continue  # No second responsable on this line.
            number = GUARDIAN.match(table)[1]
            if "ref" not in values:
                values["ref"] = f"{family['ref_famille']}-{number}" if family["ref_famille"] else ""
                labels["ref"] = family_labels["ref_famille"]
            records.append(
                Record({"type": "responsable", **family, **values}, {**family_labels, **labels})
            )
        if not records:
            return [], [("-", _("No responsable on this line."))]
        return records, []
