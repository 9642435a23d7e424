from django import forms
from django.contrib import admin
from django.db.models import F
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from documents.review import DocumentReviewAdmin
from extranet.admin_scoping import ScopedHistoryAdmin, SiteScopedAdmin, SiteScopedInlineMixin

from . import capacity
from .models import (
    ClosurePeriod,
    Course,
    Discipline,
    Enrollment,
    Room,
    SchoolYear,
    Student,
    StudentDocument,
    Teacher,
)


class ClosurePeriodInline(SiteScopedInlineMixin, admin.TabularInline):
    model = ClosurePeriod
    extra = 1


@admin.register(SchoolYear)
class SchoolYearAdmin(SiteScopedAdmin):
    list_display = ["name", "site", "start_date", "end_date"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter)]
    inlines = [ClosurePeriodInline]


@admin.register(Discipline)
class DisciplineAdmin(SiteScopedAdmin):
    list_display = ["name", "category", "site"]
    list_filter = ["category", ("site", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    filter_horizontal = ["required_documents"]


@admin.register(Teacher)
class TeacherAdmin(SiteScopedAdmin):
    list_display = ["last_name", "first_name", "site"]
    search_fields = ["last_name", "first_name"]


@admin.register(Room)
class RoomAdmin(SiteScopedAdmin):
    list_display = ["name", "site"]


@admin.register(Course)
class CourseAdmin(SiteScopedAdmin):
    list_display = [
        "discipline",
        "level",
        "teacher",
        "weekday",
        "start_time",
        "end_time",
        "room",
        "school_year",
        "students",
    ]
    readonly_fields = ["students"]
    list_filter = [
        ("school_year", admin.RelatedOnlyFieldListFilter),
        "weekday",
        ("discipline", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["discipline", "teacher", "room", "school_year"]
    search_fields = ["discipline__name", "level", "teacher__last_name"]

    def get_queryset(self, request):
        # A query with a count loses the model's ordering: the autocomplete
        # pages through it, so it is given back.
        courses = capacity.with_enrolled(super().get_queryset(request))
        return courses.order_by(*Course._meta.ordering, "pk")

    @admin.display(description=_("students / capacity"), ordering="enrolled")
    def students(self, course):
        if course.pk is None:
            return "–"
        return capacity.describe(course)


BEYOND_CAPACITY = capfirst(_("enroll all the same, beyond the capacity"))


class EnrollmentForm(forms.ModelForm):
    """An enrollment made by hand: refused in a full course unless the
    secretary says so, as when validating a re-enrollment."""

    beyond_capacity = forms.BooleanField(label=BEYOND_CAPACITY, required=False)

    # The inline's formset checks all its rows at once (see EnrollmentFormSet).
    checks_capacity_alone = True

    def clean(self):
        cleaned_data = super().clean()
        if self.checks_capacity_alone:
            refuse_beyond_capacity([self])
        return cleaned_data

    def new_place(self):
        """The course this form would take a new place in, checked against
        its capacity; None when nothing is to check."""
        course = self.cleaned_data.get("course")
        if course is None or course.capacity is None or self.cleaned_data.get("beyond_capacity"):
            return None
        if self.instance.pk is not None and "course" not in self.changed_data:
            return None  # Already counted: editing never refuses it.
        stops_on = self.cleaned_data.get("stops_on", self.instance.stops_on)
        if stops_on is not None and stops_on < timezone.localdate():
            return None  # Stopped already: takes no place.
        return course


def refuse_beyond_capacity(enrollment_forms):
    """An error next to the course of each form that would take a course
    beyond its capacity; the places counted in one query for all of them."""
    checked = {form: course for form in enrollment_forms if (course := form.new_place())}
    courses = list({course.pk: course for course in checked.values()}.values())
    full = {item.course.pk: item for item in capacity.full_courses(courses)}
    for form, course in checked.items():
        if course.pk in full:
            form.add_error(
                "course",
                full[course.pk].message
                + " "
                + gettext("Tick “%(label)s” to enroll the student all the same.")
                % {"label": BEYOND_CAPACITY},
            )


class EnrollmentFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.is_valid() and form.has_changed() and not self._should_delete_form(form)
        ]
        refuse_beyond_capacity(kept)


class EnrollmentInlineForm(EnrollmentForm):
    checks_capacity_alone = False


class EnrollmentInline(SiteScopedInlineMixin, admin.TabularInline):
    model = Enrollment
    form = EnrollmentInlineForm
    formset = EnrollmentFormSet
    extra = 0
    autocomplete_fields = ["course"]
    fields = ["course", "level", "result", "appreciation", "beyond_capacity"]


@admin.register(Student)
class StudentAdmin(ScopedHistoryAdmin):
    site_path = "family__site"
    list_display = ["last_name", "first_name", "family", "birth_date"]
    list_select_related = ["family"]
    search_fields = ["last_name", "first_name", "family__name"]
    autocomplete_fields = ["family"]
    inlines = [EnrollmentInline]

    def save_model(self, request, obj, form, change):
        # An open family form becomes stale: its save will be refused.
        if change:
            obj.version = F("version") + 1
        super().save_model(request, obj, form, change)


@admin.register(Enrollment)
class EnrollmentAdmin(SiteScopedAdmin):
    site_path = "course__site"
    form = EnrollmentForm
    list_display = ["student", "course", "level", "result"]
    list_select_related = ["student", "course__discipline"]
    search_fields = ["student__last_name", "student__first_name", "course__discipline__name"]
    autocomplete_fields = ["student", "course"]


@admin.register(StudentDocument)
class StudentDocumentAdmin(DocumentReviewAdmin):
    site_path = "student__family__site"
    list_select_related = ["student", "kind"]
    search_fields = ["student__last_name", "student__family__name", "original_name"]
