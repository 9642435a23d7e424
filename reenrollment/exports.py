"""The requests and wishes as a table, one row per wish, for planning next
year's classes: CSV (for any spreadsheet) and XLSX."""

import csv
import io

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from openpyxl import Workbook

from .models import Wish
from .queries import requests_missing_documents

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def headers():
    return [_("Campaign"), _("Family"), _("Student"), _("Date of birth"), _("Status"),
            _("Sent on"), _("Choice"), _("Discipline"), _("Preference"), _("Current level"),
            _("Current teacher"), _("Formation musicale level"), _("Comment"),
            _("Documents missing")]


def safe(value):
    """A family's text must never be taken for a spreadsheet formula."""
    value = "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def rows(queryset):
    missing = set(requests_missing_documents(queryset))
    wishes = Wish.objects.select_related("discipline", "enrollment__course__teacher")
    requests = queryset.prefetch_related(None).select_related(
        "campaign__school_year", "student__family").prefetch_related(Prefetch("wishes", wishes)).order_by("student__family__name", "student__first_name")
    for request in requests:
        student = request.student
        common = [str(request.campaign), student.family.name, str(student),
                  date_format(student.birth_date, "SHORT_DATE_FORMAT"),
                  request.get_status_display(),
                  date_format(timezone.localtime(request.submitted_at), "SHORT_DATETIME_FORMAT")
                  if request.submitted_at else ""]
        tail = [request.musicianship_level, request.comment,
                _("yes") if request.pk in missing else _("no")]
        for wish in request.wishes.all() or [None]:
            if wish is None:
                middle = ["", "", "", "", ""]
            else:
                course = wish.enrollment.course if wish.enrollment else None
                middle = [wish.get_choice_display(), wish.discipline.name,
                          wish.rank or "", course.level if course else "",
                          str(course.teacher) if course and course.teacher else ""]
            yield [safe(value) for value in common + middle + tail]


def filename(extension):
    return f"reinscriptions-{timezone.localdate():%Y-%m-%d}.{extension}"


def csv_response(queryset):
    # A BOM and semicolons: what a French spreadsheet opens without asking.
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers())
    writer.writerows(rows(queryset))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename("csv")}"'
    return response


def xlsx_response(queryset):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Re-enrollments")[:31]
    sheet.append(headers())
    for row in rows(queryset):
        sheet.append(row)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename("xlsx")}"'
    return response
