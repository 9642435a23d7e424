"""Families file: one row per person, responsable or student, grouped by the
family's legacy reference."""

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from families.models import Family, Guardian

from ..models import Student
from .base import BaseImport, changed_fields
from .rows import PersonRow

BATCH = 1000


class FamiliesImport(BaseImport):
    row_form = PersonRow

    def __post_init__(self):
        self.invalid_families = set()
        self.families = {}  # ref → {"values": {...}, "line": n}
        self.people = {"guardian": {}, "student": {}}  # ref → (line, row, data)
        self.existing_family_refs = set(
            Family.objects.filter(site=self.site)
            .exclude(external_ref="")
            .values_list("external_ref", flat=True)
        )

    def error(self, line, column, message, row=None):
        super().error(line, column, message, row)
        if row is not None and row.get("ref_famille"):
            self.invalid_families.add(row["ref_famille"])

    def accept(self, line, row, data):
        kind, ref = data["type"], data["ref"]
        if ref in self.people[kind]:
            first_line = self.people[kind][ref][0]
            self.error(
                line,
                "ref",
                _("Reference “%(ref)s” appears twice in the file (line %(line)d).")
                % {"ref": ref, "line": first_line},
                row,
            )
            return
        self.people[kind][ref] = (line, row, data)
        family = self.families.setdefault(
            data["ref_famille"], {"values": {}, "line": line, "guardians": 0}
        )
        if kind == "guardian":
            family["guardians"] += 1
        values = family["values"]
        for column, name in [
            ("nom_famille", "name"),
            ("email_reference", "reference_email"),
            ("mobile_reference", "reference_mobile"),
            ("identifiant", "legacy_username"),
        ]:
            if data.get(column) and not values.get(name):
                values[name] = data[column]
        if kind == "guardian" and not values.get("fallback_name"):
            values["fallback_name"] = data["nom"]

    def finish_check(self):
        # A family is imported whole or not at all: with --skip-invalid, the
        # other rows of a family with a wrong row are rejected with it.
        for kind in ("guardian", "student"):
            for ref, (line, row, data) in list(self.people[kind].items()):
                if data["ref_famille"] in self.invalid_families:
                    self._reject(line, row, _("rejected with the other rows of its family"))
                    del self.people[kind][ref]
        for family_ref in self.invalid_families:
            self.families.pop(family_ref, None)
        for ref, (line, row, data) in list(self.people["student"].items()):
            family_ref = data["ref_famille"]
            family = self.families[family_ref]
            if not family["guardians"] and family_ref not in self.existing_family_refs:
                self.error(
                    line,
                    "ref_famille",
                    _(
                        "Student without family: no responsable of family “%(ref)s” in the file "
                        "nor on the portal."
                    )
                    % {"ref": family_ref},
                    row,
                )
                del self.people["student"][ref]
        for family_ref in [
            r
            for r, f in self.families.items()
            if not f["guardians"] and r not in self.existing_family_refs
        ]:
            del self.families[family_ref]

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
        for ref, (_line, row, data) in self.people["guardian"].items():
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
        for ref, (_line, row, data) in self.people["student"].items():
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

    def _update(self, current, values, to_update, fields):
        changed = changed_fields(current, values)
        if changed:
            # Moves the version on: a family form opened before is refused.
            current.version += 1
            fields.update(changed)
            to_update.append(current)
        else:
            self.count(unchanged=1)

    def _save(self, model, to_create, to_update, fields, commit):
        self.count(created=len(to_create), updated=len(to_update))
        if commit:
            bulk_create_with_history(to_create, model, batch_size=BATCH)
            if to_update:
                bulk_update_with_history(to_update, model, [*fields, "version"], batch_size=BATCH)
