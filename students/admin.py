from django.contrib import admin
from django.db.models import F
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


class EnrollmentInline(SiteScopedInlineMixin, admin.TabularInline):
    model = Enrollment
    extra = 0
    autocomplete_fields = ["course"]
    fields = ["course", "level", "result", "appreciation"]


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
    list_display = ["student", "course", "level", "result"]
    list_select_related = ["student", "course__discipline"]
    search_fields = ["student__last_name", "student__first_name", "course__discipline__name"]
    autocomplete_fields = ["student", "course"]


@admin.register(StudentDocument)
class StudentDocumentAdmin(DocumentReviewAdmin):
    site_path = "student__family__site"
    list_select_related = ["student", "kind"]
    search_fields = ["student__last_name", "student__family__name", "original_name"]
