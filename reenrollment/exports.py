"""The requests and wishes as a table, one row per wish, for planning next
year's classes: CSV (for any spreadsheet) and XLSX."""

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from extranet import tables

from .models import Wish
from .queries import requests_missing_documents


def headers():
    return [
        _("Campaign"),
        _("Family"),
        _("Student"),
        _("Date of birth"),
        _("Status"),
        _("Sent on"),
        _("Choice"),
        _("Discipline"),
        _("Preference"),
        _("Current level"),
        _("Current teacher"),
        _("Formation musicale level"),
        _("Comment"),
        _("Documents missing"),
    ]


def rows(queryset):
    missing = set(requests_missing_documents(queryset))
    wishes = Wish.objects.select_related("discipline", "enrollment__course__teacher")
    requests = (
        queryset.prefetch_related(None)
        .select_related("campaign__school_year", "student__family")
        .prefetch_related(Prefetch("wishes", wishes))
        .order_by("student__family__name", "student__first_name")
    )
    for request in requests:
        student = request.student
        common = [
            str(request.campaign),
            student.family.name,
            str(student),
            date_format(student.birth_date, "SHORT_DATE_FORMAT"),
            request.get_status_display(),
            date_format(timezone.localtime(request.submitted_at), "SHORT_DATETIME_FORMAT")
            if request.submitted_at
            else "",
        ]
        tail = [
            request.musicianship_level,
            request.comment,
            _("yes") if request.pk in missing else _("no"),
        ]
        for wish in request.wishes.all() or [None]:
            if wish is None:
                middle = ["", "", "", "", ""]
            else:
                course = wish.enrollment.course if wish.enrollment else None
                middle = [
                    wish.get_choice_display(),
                    wish.discipline.name,
                    wish.rank or "",
                    course.level if course else "",
                    str(course.teacher) if course and course.teacher else "",
                ]
            yield common + middle + tail


def filename():
    return f"reinscriptions-{timezone.localdate():%Y-%m-%d}"


def csv_response(queryset):
    return tables.csv_response(filename(), headers(), rows(queryset))


def xlsx_response(queryset):
    return tables.xlsx_response(filename(), _("Re-enrollments"), headers(), rows(queryset))
