"""Courses file: the teaching structure of one site, one row per course."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Course, Discipline, Room, SchoolYear, Teacher
from .base import BaseImport, changed_fields
from .rows import CourseRow


class CoursesImport(BaseImport):
    row_form = CourseRow
    KINDS = {"course": gettext_lazy("Courses")}

    def prepare(self):
        self.seen = {}  # (year, ref) → line
        self.rows = {}

    def cross_check(self, source, where, data, cleaned):
        if not (cleaned.get("annee") and cleaned.get("ref_cours")):
            return []
        ref = (cleaned["annee"], cleaned["ref_cours"])
        first = self.seen.setdefault(ref, where[0])
        if first == where[0]:
            return []
        return [
            (
                "ref_cours",
                _("Reference “%(ref)s” appears twice in the file (line %(line)d).")
                % {"ref": ref[1], "line": first},
            )
        ]

    def accept(self, source, line, cells, data, cleaned):
        self.rows[(cleaned["annee"], cleaned["ref_cours"])] = (line, cleaned)

    def apply(self, commit):
        # A reference names a course within its school year: next year's file
        # may reuse it without touching this year's course and enrollments.
        existing = {
            (c.school_year.name, c.external_ref): c
            for c in Course.objects.filter(site=self.site, external_ref__gt="").select_related(
                "school_year", "discipline", "teacher", "room"
            )
        }
        years, disciplines, teachers, rooms = {}, {}, {}, {}
        for (_year, ref), (_line, data) in self.rows.items():
            values = {
                "level": data["niveau"],
                "weekday": data["jour"],
                "start_time": data["heure_debut"],
                "end_time": data["heure_fin"],
                "is_collective": bool(data["collectif"]),
                "methods": data["methodes"],
            }
            current = existing.get((data["annee"], ref))
            if commit:
                values["school_year"] = self._year(years, data)
                values["discipline"] = self._discipline(disciplines, data)
                values["teacher"] = self._teacher(teachers, data["professeur"])
                values["room"] = self._room(rooms, data["salle"])
            elif current is not None:
                # Dry run: compare the names, create nothing.
                names = {
                    "discipline": data["discipline"],
                    "teacher": data["professeur"],
                    "room": data["salle"],
                }
                if any(str(getattr(current, k) or "") != v for k, v in names.items()):
                    self.count(updated=1)
                    continue
            if current is None:
                self.count(created=1)
                if commit:
                    course = Course(site=self.site, external_ref=ref, **values)
                    course.full_clean()
                    course.save()
            elif changed_fields(current, values):
                self.count(updated=1)
                if commit:
                    current.save()
            else:
                self.count(unchanged=1)

    def _year(self, cache, data):
        if data["annee"] not in cache:
            cache[data["annee"]], _created = SchoolYear.objects.get_or_create(
                site=self.site,
                name=data["annee"],
                defaults={"start_date": data["debut_annee"], "end_date": data["fin_annee"]},
            )
        return cache[data["annee"]]

    def _discipline(self, cache, data):
        name = data["discipline"]
        if name not in cache:
            cache[name], _created = Discipline.objects.get_or_create(
                site=self.site, name=name, defaults={"category": data["categorie"] or "other"}
            )
        return cache[name]

    def _teacher(self, cache, full_name):
        if not full_name:
            return None
        if full_name not in cache:
            first, _space, last = full_name.partition(" ")
            cache[full_name], _created = Teacher.objects.get_or_create(
                site=self.site, first_name=first, last_name=last or first
            )
        return cache[full_name]

    def _room(self, cache, name):
        if not name:
            return None
        if name not in cache:
            cache[name], _created = Room.objects.get_or_create(site=self.site, name=name)
        return cache[name]
