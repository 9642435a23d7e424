"""Families file: one row per person, responsable or student, grouped by the
family's legacy reference; or, through a mapping, one line per family with its
responsables, and a students file with one line per student."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from families.models import Family, Guardian

from ..models import Student
from .base import BaseImport, changed_fields
from .columns import NamedColumns
from .rows import PERSON_TYPES, PersonRow

BATCH = 1000


class FamiliesImport(BaseImport):
    row_form = PersonRow
    KINDS = {
        "family": gettext_lazy("Families"),
        "guardian": gettext_lazy("Responsables"),
        "student": gettext_lazy("Students"),
    }
    TEXT_FIELDS = (
        "nom_famille",
        "email_reference",
        "nom",
        "nom_naissance",
        "prenom",
        "lieu_naissance",
        "adresse",
        "complement_adresse",
        "ville",
        "email",
    )

    def prepare(self):
        self.invalid_families = set()
        self.families = {}  # ref → {"values": {...}, "guardians": n, "email": first e-mail}
        # ref → (source, line, cells, data, cleaned data) of the accepted people.
        self.people = {"guardian": {}, "student": {}}
        self.seen = {"guardian": {}, "student": {}, "family": {}}  # ref → (source, where)
        self.existing_family_refs = set(
            Family.objects.filter(site=self.site)
            .exclude(external_ref="")
            .values_list("external_ref", flat=True)
        )
        self.emails = {"column": 0, "guardian": 0, "kept": 0, "none": 0}

    @classmethod
    def named_columns(cls, role):
        if role == "students":
            # A students file needs no type column.
            return NamedColumns(cls.row_form, defaults={"type": "eleve"})
        return super().named_columns(role)

    def is_optional(self, name, cleaned):
        kind = cleaned.get("type")
        required = PersonRow.GUARDIAN_REQUIRED if kind == "guardian" else PersonRow.STUDENT_REQUIRED
        return name not in required and super().is_optional(name, cleaned)

    def cross_check(self, source, where, data, cleaned):
        errors = []
        kind, ref = cleaned.get("type"), cleaned.get("ref")
        if source.role == "students" and kind == "guardian":
            errors.append(("type", _("A students file holds students only.")))
            kind = None
        family = cleaned.get("ref_famille")
        if source.columns.one_family_per_line and family:
            twice = self._twice(self.seen["family"], family, source, where[:1], "ref_famille")
            if twice:
                # Its responsables are then twice too: saying it once is enough.
                return errors + twice
        if kind and ref:
            errors += self._twice(self.seen[kind], ref, source, where, "ref")
        return errors

    @staticmethod
    def _twice(seen, ref, source, where, column):
        first_source, first = seen.setdefault(ref, (source, where))
        if (first_source, first) == (source, where):
            return []
        if first_source is source:
            message = _("Reference “%(ref)s” appears twice in the file (line %(line)d).") % {
                "ref": ref,
                "line": first[0],
            }
        else:
            message = _("Reference “%(ref)s” is already in %(file)s (line %(line)d).") % {
                "ref": ref,
                "file": first_source.name,
                "line": first[0],
            }
        return [(column, message)]

    def reject(self, source, line, cells, problems, records):
        super().reject(source, line, cells, problems, records)
        # A family is imported whole or not at all.
        for data in records:
            family = str(data.get("ref_famille") or "").strip()
            self.invalid_families.add(family or (source.name, line))

    def accept(self, source, line, cells, data, cleaned):
        kind, ref = cleaned["type"], cleaned["ref"]
        self.people[kind][ref] = (source, line, cells, data, cleaned)
        family = self.families.setdefault(
            cleaned["ref_famille"], {"values": {}, "guardians": 0, "email": ""}
        )
        values = family["values"]
        for column, name in [
            ("nom_famille", "name"),
            ("email_reference", "reference_email"),
            ("mobile_reference", "reference_mobile"),
            ("identifiant", "legacy_username"),
        ]:
            if cleaned.get(column) and not values.get(name):
                values[name] = cleaned[column]
        if kind == "guardian":
            family["guardians"] += 1
            if not values.get("fallback_name"):
                values["fallback_name"] = cleaned["nom"]
            # Without a reference e-mail, the first responsable's (the first
            # that has one) is the family's: invitations then go by e-mail.
            family["email"] = family["email"] or cleaned.get("email") or ""

    def finish_check(self):
        # With --skip-invalid, the other lines of a family with a wrong line
        # are rejected with it.
        for kind in ("guardian", "student"):
            for ref, (source, line, cells, data, cleaned) in list(self.people[kind].items()):
                if cleaned["ref_famille"] in self.invalid_families:
                    reason = _("rejected with the other rows of its family")
                    # Not an error of its own: the family's wrong line says why.
                    source.reject(line, cells, [] if line in source.rejected else [reason], [data])
                    del self.people[kind][ref]
        for family_ref in self.invalid_families:
            self.families.pop(family_ref, None)
        for ref, (source, line, cells, data, cleaned) in list(self.people["student"].items()):
            family_ref = cleaned["ref_famille"]
            family = self.families[family_ref]
            if not family["guardians"] and family_ref not in self.existing_family_refs:
                del self.people["student"][ref]
                problem = (self.orphan_label(source), self.orphan_message(family_ref))
                self.reject(source, line, cells, [problem], [data])
        for family_ref in [
            r
            for r, f in self.families.items()
            if not f["guardians"] and r not in self.existing_family_refs
        ]:
            del self.families[family_ref]

    def orphan_label(self, source):
        return source.columns.label_of("ref_famille") or "ref_famille"

    def orphan_message(self, family_ref):
        return _(
            "Student without family: no responsable of family “%(ref)s” in the file nor "
            "on the portal."
        ) % {"ref": family_ref}

    def count_rejected(self):
        counts = {"guardian": 0, "student": 0}
        families = set()
        for source in self.sources:
            for _cells, _reasons, records in source.rejected.values():
                for data in records:
                    kind = PERSON_TYPES.get(str(data.get("type") or "").strip().lower())
                    if kind:
                        counts[kind] += 1
                    if kind == "guardian" or source.columns.one_family_per_line:
                        families.add(str(data.get("ref_famille") or "").strip())
        families.discard("")
        self.summaries["family"].rejected = len(families)
        for kind, count in counts.items():
            self.summaries[kind].rejected = count

    def notes(self):
        """Where the families' reference e-mail comes from."""
        counts = dict(self.emails)
        column = self.sources[0].columns.label_of("email_reference")
        if column:
            text = _(
                "Reference e-mail: from the column “%(column)s” for %(column_count)d "
                "family(ies), from the e-mail of the first responsable who has one for "
                "%(guardian)d (empty cell), kept as it is on the portal for %(kept)d, none "
                "for %(none)d (a letter to print)."
            )
        else:
            text = _(
                "Reference e-mail: no column for it, so the e-mail of the first responsable "
                "who has one for %(guardian)d family(ies), kept as it is on the portal for "
                "%(kept)d, none for %(none)d (a letter to print)."
            )
        return [text % {**counts, "column": column, "column_count": counts["column"]}]

    # Writing.

    def apply(self, commit):
        family_ids = self._families(commit)
        self._guardians(family_ids, commit)
        self._students(family_ids, commit)

    def _families(self, commit):
        existing = {
            f.external_ref: f for f in Family.objects.filter(site=self.site, external_ref__gt="")
        }
        to_create, to_update, fields = [], [], set()
        for ref, family in self.families.items():
            values = dict(family["values"])
            fallback = values.pop("fallback_name", "")
            values.setdefault("name", fallback)
            current = existing.get(ref)
            # A responsable's e-mail never replaces one the portal holds
            # (possibly chosen by the family).
            if values.get("reference_email"):
                self.emails["column"] += 1
            elif current is not None and current.reference_email:
                self.emails["kept"] += 1
            elif family["email"]:
                values["reference_email"] = family["email"]
                self.emails["guardian"] += 1
            else:
                self.emails["none"] += 1
            if current is None:
                to_create.append(Family(site=self.site, external_ref=ref, **values))
                continue
            values = {k: v for k, v in values.items() if v}  # Missing columns keep values.
            self._update(current, values, to_update, fields)
        self._save(Family, to_create, to_update, fields, commit)
        ids = (
            dict(
                Family.objects.filter(site=self.site, external_ref__gt="").values_list(
                    "external_ref", "pk"
                )
            )
            if commit
            else {}
        )
        return ids

    def _guardians(self, family_ids, commit):
        existing = {
            g.external_ref: g
            for g in Guardian.objects.filter(family__site=self.site, external_ref__gt="")
        }
        # New responsables come after those the family already has.
        positions = {}
        for guardian in Guardian.objects.filter(family__site=self.site).only(
            "family_id", "position"
        ):
            positions[guardian.family_id] = max(
                positions.get(guardian.family_id, 0), guardian.position
            )
        to_create, to_update, fields = [], [], set()
        for ref, (_source, _line, _cells, row, data) in self.people["guardian"].items():
            family_ref = data["ref_famille"]
            family_id = family_ids.get(family_ref, family_ref)
            if ref not in existing:
                positions[family_id] = positions.get(family_id, 0) + 1
            values = {
                "position": positions.get(family_id, 1),
                "civility": data["civilite"],
                "last_name": data["nom"],
                "birth_name": data["nom_naissance"],
                "first_name": data["prenom"],
                "birth_date": data["date_naissance"],
                "birth_place": data["lieu_naissance"],
                "birth_department": (data["departement_naissance"] or "").upper(),
                "address_line1": data["adresse"],
                "address_line2": data["complement_adresse"],
                "postal_code": data["code_postal"],
                "city": data["ville"],
                "country": data["pays"] or "France",
                "home_phone": data["tel_domicile"] or "",
                "mobile_phone": data["mobile"] or "",
                "work_phone": data["tel_travail"] or "",
                "email": data["email"],
                "is_payer": bool(data["payeur"]),
            }
            self._upsert(
                Guardian,
                existing.get(ref),
                values,
                row,
                ref,
                family_ids,
                family_ref,
                to_create,
                to_update,
                fields,
            )
        self._save(Guardian, to_create, to_update, fields, commit)

    def _students(self, family_ids, commit):
        existing = {
            s.external_ref: s
            for s in Student.objects.filter(family__site=self.site, external_ref__gt="")
        }
        to_create, to_update, fields = [], [], set()
        for ref, (_source, _line, _cells, row, data) in self.people["student"].items():
            values = {
                "last_name": data["nom"],
                "first_name": data["prenom"],
                "sex": data["sexe"],
                "birth_date": data["date_naissance"],
                "birth_place": data["lieu_naissance"],
                "email": data["email"],
                "mobile_phone": data["mobile"] or "",
                "school": data["ecole"],
                "school_class": data["classe"],
                "image_rights": bool(data["droit_image"]),
            }
            self._upsert(
                Student,
                existing.get(ref),
                values,
                row,
                ref,
                family_ids,
                data["ref_famille"],
                to_create,
                to_update,
                fields,
            )
        self._save(Student, to_create, to_update, fields, commit)

    # Model field → the column it comes from, to update only what the file says.
    SOURCES = {
        "civility": "civilite",
        "last_name": "nom",
        "birth_name": "nom_naissance",
        "first_name": "prenom",
        "birth_date": "date_naissance",
        "birth_place": "lieu_naissance",
        "birth_department": "departement_naissance",
        "address_line1": "adresse",
        "address_line2": "complement_adresse",
        "postal_code": "code_postal",
        "city": "ville",
        "country": "pays",
        "home_phone": "tel_domicile",
        "mobile_phone": "mobile",
        "work_phone": "tel_travail",
        "email": "email",
        "is_payer": "payeur",
        "sex": "sexe",
        "school": "ecole",
        "school_class": "classe",
        "image_rights": "droit_image",
    }

    def _upsert(
        self, model, current, values, row, ref, family_ids, family_ref, to_create, to_update, fields
    ):
        if current is None:
            to_create.append(
                model(external_ref=ref, family_id=family_ids.get(family_ref), **values)
            )
            return
        # An update never empties a field: a missing column or an empty cell
        # keeps what the portal holds (possibly corrected by the family).
        values = {
            name: value
            for name, value in values.items()
            if name not in self.SOURCES or row.get(self.SOURCES[name], "").strip()
        }
        values.pop("position", None)
        values["family_id"] = family_ids.get(family_ref, current.family_id)
        self._update(current, values, to_update, fields)

    KIND_OF = {Family: "family", Guardian: "guardian", Student: "student"}

    def _update(self, current, values, to_update, fields):
        changed = changed_fields(current, values)
        if changed:
            # Moves the version on: a family form opened before is refused.
            current.version += 1
            fields.update(changed)
            to_update.append(current)
        else:
            self.count(unchanged=1, kind=self.KIND_OF[type(current)])

    def _save(self, model, to_create, to_update, fields, commit):
        self.count(created=len(to_create), updated=len(to_update), kind=self.KIND_OF[model])
        if commit:
            bulk_create_with_history(to_create, model, batch_size=BATCH)
            if to_update:
                bulk_update_with_history(to_update, model, [*fields, "version"], batch_size=BATCH)


class StudentsImport(FamiliesImport):
    """A students file alone: each student joins a family already on the
    portal; families and responsables are left as they are."""

    KINDS = {"student": gettext_lazy("Students")}

    def apply(self, commit):
        family_ids = dict(
            Family.objects.filter(site=self.site, external_ref__gt="").values_list(
                "external_ref", "pk"
            )
        )
        self._students(family_ids, commit)

    def count_rejected(self):
        self.summaries["student"].rejected = sum(len(s.rejected) for s in self.sources)

    def orphan_message(self, family_ref):
        return _("Unknown family “%(ref)s”: import the families first.") % {"ref": family_ref}

    def notes(self):
        return []
