"""Enrollments file: which student (legacy reference) follows which course."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..models import Course, Enrollment, SchoolYear, Student
from .base import BaseImport
from .rows import EnrollmentRow

BATCH = 1000


class EnrollmentsImport(BaseImport):
    row_form = EnrollmentRow
    KINDS = {"enrollment": gettext_lazy("Enrollments")}

    def prepare(self):
        self.students = dict(
            Student.objects.filter(family__site=self.site, external_ref__gt="").values_list(
                "external_ref", "pk"
            )
        )
        # The enrollments of the current school year (the next one in summer).
        year = SchoolYear.objects.current(self.site)
        self.courses = dict(
            Course.objects.filter(
                site=self.site, external_ref__gt="", school_year=year
            ).values_list("external_ref", "pk")
        )
        self.seen = {}  # (student, course) → line
        self.pairs = {}

    def cross_check(self, source, where, data, cleaned):
        errors = []
        student = self.students.get(cleaned.get("ref_eleve"))
        course = self.courses.get(cleaned.get("ref_cours"))
        if "ref_eleve" in cleaned and student is None:
            errors.append(
                (
                    "ref_eleve",
                    _("Unknown student “%(ref)s”: import the families first.")
                    % {"ref": cleaned["ref_eleve"]},
                )
            )
        if "ref_cours" in cleaned and course is None:
            errors.append(
                (
                    "ref_cours",
                    _("Unknown course “%(ref)s”: import the courses first.")
                    % {"ref": cleaned["ref_cours"]},
                )
            )
        if student is not None and course is not None:
            first = self.seen.setdefault((student, course), where[0])
            if first != where[0]:
                errors.append(
                    (
                        "ref_cours",
                        _("This enrollment appears twice in the file (line %(line)d).")
                        % {"line": first},
                    )
                )
        return errors

    def accept(self, source, line, cells, data, cleaned):
        student = self.students[cleaned["ref_eleve"]]
        course = self.courses[cleaned["ref_cours"]]
        self.pairs[(student, course)] = (line, cleaned["niveau"])

    def apply(self, commit):
        existing = {
            (e.student_id, e.course_id): e
            for e in Enrollment.objects.filter(course__site=self.site)
        }
        to_create, to_update = [], []
        for (student, course), (_line, level) in self.pairs.items():
            current = existing.get((student, course))
            if current is None:
                to_create.append(Enrollment(student_id=student, course_id=course, level=level))
            elif current.level != level:
                current.level = level
                to_update.append(current)
            else:
                self.count(unchanged=1)
        self.count(created=len(to_create), updated=len(to_update))
        if commit:
            bulk_create_with_history(to_create, Enrollment, batch_size=BATCH)
            if to_update:
                bulk_update_with_history(to_update, Enrollment, ["level"], batch_size=BATCH)
