import re
from datetime import date, timedelta

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from documents.checklist import uploadable_kinds
from documents.files import document_response, replace_upload, store_upload, upload_status
from documents.forms import DocumentReplaceForm, DocumentUploadForm
from documents.models import DocumentKind
from extranet.decorators import family_required
from extranet.pdf import logo_uri, render_pdf
from families.changes import remember_changes
from families.editing import StaleEdit, save_versioned
from families.versions import family_cache_key

from . import queries
from .calendar import build_calendar
from .forms import StudentForm
from .models import CalendarFeed, Discipline, Student, StudentDocument

DANCE = Discipline.Category.DANCE


def student_upload_form(student, *args, kinds_read=None):
    return DocumentUploadForm(
        uploadable_kinds(student.family.site_id, DocumentKind.Scope.STUDENT),
        *args,
        kinds_read=kinds_read,
    )


def family_student(request, pk):
    """A student of the signed-in family; any other id is a 404."""
    return get_object_or_404(
        Student.objects.select_related("family__site"), pk=pk, family=request.user.family
    )


@family_required
@require_safe
def student_list(request):
    family = request.user.family
    year = queries.current_year(family.site)
    students = list(queries.family_students(family, year))
    return render(request, "students/student_list.html", {"students": students, "year": year})


def _student_page(request, student, form=None, upload_form=None, status=200, stale_error=None):
    year = queries.current_year(student.family.site)
    current = list(queries.enrollments(year).filter(student=student)) if year else []
    checklist, kinds = queries.student_page_checklist(student, queries.disciplines_of(current))
    context = {
        "student": student,
        "year": year,
        "enrollments": current,
        "checklist": checklist,
        "form": form or StudentForm(instance=student),
        "upload_form": upload_form or student_upload_form(student, kinds_read=kinds),
        "stale_error": stale_error,
        "dance": any(e.course.discipline.category == DANCE for e in current),
    }
    return render(request, "students/student_detail.html", context, status=status)


@family_required
def student_detail(request, pk):
    student = family_student(request, pk)
    if request.method != "POST":
        return _student_page(request, student)
    form = StudentForm(request.POST, instance=student)
    if not form.is_valid():
        return _student_page(request, student, form=form)
    try:
        changes, _address_changed = save_versioned(form, request)
    except StaleEdit as stale:
        return _student_page(
            request,
            stale.current,
            status=409,
            stale_error=_(
                "Somebody else saved this record while you were editing it. The form "
                "now shows the current values: enter your changes again, then save."
            ),
        )
    if not changes:
        messages.info(request, _("Nothing was changed."))
        return redirect("students:detail", pk=student.pk)
    remember_changes(request, changes, False, reverse("students:detail", args=[student.pk]))
    return redirect("families:changes_saved")


@family_required
@require_safe
def student_courses(request, pk):
    student = family_student(request, pk)
    year = queries.current_year(student.family.site)
    enrollments = list(queries.enrollments(year).filter(student=student)) if year else []
    return render(
        request,
        "students/student_courses.html",
        {"student": student, "year": year, "enrollments": enrollments},
    )


@family_required
@require_safe
def student_history(request, pk):
    student = family_student(request, pk)
    return render(
        request,
        "students/student_history.html",
        {"student": student, "years": queries.history(student)},
    )


WEEK_CACHED_FOR = 24 * 60 * 60


def read_week(family, monday):
    """(this year, the family's week from `monday`, its calendar feed's token)."""
    year = queries.current_year(family.site)
    students = list(queries.family_students(family, year)) if year else []
    feed = CalendarFeed.objects.filter(family=family).first()
    return year, queries.family_week(students, year, monday), feed.token if feed else None


def asked_monday(request):
    """The Monday of the week asked (`?semaine=2026-10-12`), else this week's."""
    today = timezone.localdate()
    try:
        day = date.fromisoformat(request.GET.get("semaine", ""))
    except ValueError:
        day = today
    return queries.monday_of(day), queries.monday_of(today)


@family_required
@require_safe
def timetable(request):
    family = request.user.family
    monday, this_monday = asked_monday(request)
    today = timezone.localdate()
    # Read once a day per week asked, and again after any change the page shows.
    key = family_cache_key(request, family, f"week-{monday.isoformat()}", day=today)
    found = cache.get(key)
    if found is None:
        found = read_week(family, monday)
        cache.set(key, found, WEEK_CACHED_FOR)
    year, week, token = found
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[token])) if token else ""
    return render(
        request,
        "students/timetable.html",
        {
            "year": year,
            "week": week,
            "this_monday": this_monday,
            "previous_monday": monday - timedelta(days=7),
            "next_monday": monday + timedelta(days=7),
            "today": today,
            "feed_url": feed_url,
            "webcal_url": re.sub(r"^https?://", "webcal://", feed_url),
        },
    )


@family_required
@require_POST
def renew_calendar_link(request):
    feed, created = CalendarFeed.objects.get_or_create(family=request.user.family)
    if not created:
        feed.renew()
        messages.success(request, _("A new calendar link was made; the old one no longer works."))
    return redirect("students:timetable")


@require_safe
def calendar_feed(request, token):
    feed = get_object_or_404(CalendarFeed.objects.select_related("family__site"), token=token)
    family = feed.family
    year = queries.current_year(family.site)
    students = list(queries.family_students(family, year)) if year else []
    calendar = build_calendar(family.site, students, year, domain=request.get_host())
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="cours.ics"'
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    return response


@family_required
@require_POST
def upload_student_document(request, pk):
    student = family_student(request, pk)
    form = student_upload_form(student, request.POST, request.FILES)
    if form.is_valid() and store_upload(StudentDocument(student=student), form, request):
        return redirect("students:detail", pk=student.pk)
    return _student_page(request, student, upload_form=form, status=upload_status(form))


@family_required
@require_safe
def download_student_document(request, pk, document_pk):
    student = family_student(request, pk)
    document = get_object_or_404(StudentDocument, pk=document_pk, student=student)
    return document_response(document)


@family_required
def replace_student_document(request, pk, document_pk):
    """Another file for a document of the student (see `replace_upload`)."""
    student = family_student(request, pk)
    document = get_object_or_404(
        StudentDocument.objects.select_related("kind"), pk=document_pk, student=student
    )
    posted = request.method == "POST"
    form = DocumentReplaceForm(*((request.POST, request.FILES) if posted else ()))
    if posted and form.is_valid() and replace_upload(document, form, request):
        return redirect(document.get_portal_path())
    return render(
        request,
        "documents/replace.html",
        {"document": document, "form": form, "back_url": document.get_portal_path()},
        status=upload_status(form),
    )


FORMS = {
    "certificat-medical": ("students/pdf/medical_certificate.html", "certificat-medical"),
    "attestation-sur-l-honneur": ("students/pdf/honour_statement.html", "attestation"),
}


@family_required
@require_safe
def student_form_pdf(request, pk, form_name):
    if form_name not in FORMS:
        raise Http404
    student = family_student(request, pk)
    template, prefix = FORMS[form_name]
    year = queries.current_year(student.family.site)
    enrollments = list(queries.enrollments(year).filter(student=student)) if year else []
    disciplines = [e.course.discipline for e in enrollments]
    dance = [d for d in disciplines if d.category == DANCE] or disciplines
    pdf = render_pdf(
        template,
        {
            "student": student,
            "site": student.family.site,
            "year": year,
            "disciplines": dance,
            "logo_uri": logo_uri(student.family.site),
        },
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{prefix}-{slugify(student.first_name)}-{slugify(student.last_name)}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
