from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from documents.uploads import check_document
from extranet.admin_scoping import ScopedHistoryAdmin, SiteScopedAdmin, staff_site_id
from extranet.responses import base_url, portal_url
from students import capacity
from students.models import Course, Discipline

from . import exports, queries, waiting, workflow
from .models import ReenrollmentCampaign, ReenrollmentRequest, SchoolRules, Wish
from .views import rules_response

Status = ReenrollmentRequest.Status


class SchoolRulesForm(forms.ModelForm):
    class Meta:
        model = SchoolRules
        fields = "__all__"
        # The file is not served under a URL: the "current PDF" link shows it.
        widgets = {"file": forms.FileInput(attrs={"accept": "application/pdf,.pdf"})}

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload != self.initial.get("file"):
            checked = check_document(upload)
            if checked.content_type != "application/pdf":
                raise ValidationError(_("Send the rules as a PDF."))
        return upload


@admin.register(SchoolRules)
class SchoolRulesAdmin(SiteScopedAdmin):
    form = SchoolRulesForm
    list_display = ["version", "site", "created_at"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter)]

    @staticmethod
    def is_locked(obj):
        # What families accepted must stay what they read: once a campaign
        # uses a version, or a family accepted it, a change is a new version.
        return obj is not None and (
            obj.campaigns.exists()
            or ReenrollmentRequest.objects.filter(rules_accepted=obj).exists()
        )

    def get_readonly_fields(self, request, obj=None):
        return ["site", "version", "text", "pdf"] if self.is_locked(obj) else ["pdf"]

    def get_fields(self, request, obj=None):
        # Read only, the file is shown by its link (`pdf`), never by its
        # storage address.
        if self.is_locked(obj) or not self.has_change_permission(request, obj):
            return ["site", "version", "text", "pdf"]
        return ["site", "version", "text", "file", "pdf"]

    def get_urls(self):
        return [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="reenrollment_schoolrules_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk):
        rules = get_object_or_404(self.get_queryset(request), pk=pk)
        if not rules.file:
            raise Http404
        return rules_response(rules)

    @admin.display(description=_("current PDF"))
    def pdf(self, obj):
        url = (
            reverse("admin:reenrollment_schoolrules_pdf", args=[obj.pk])
            if obj is not None and obj.file
            else None
        )
        return render_to_string("admin/reenrollment/schoolrules/_pdf_link.html", {"url": url})


class CampaignForm(forms.ModelForm):
    class Meta:
        model = ReenrollmentCampaign
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        site = cleaned.get("site")
        for name in ["family_documents", "student_documents"]:
            kinds = cleaned.get(name) or []
            if site is not None and any(kind.site_id != site.pk for kind in kinds):
                self.add_error(name, _("This belongs to another site."))
        return cleaned


@admin.register(ReenrollmentCampaign)
class ReenrollmentCampaignAdmin(SiteScopedAdmin):
    form = CampaignForm
    list_display = ["__str__", "site", "opens_at", "closes_at", "rules"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["site", "school_year", "rules"]
    filter_horizontal = ["family_documents", "student_documents"]
    fields = [
        "site",
        "school_year",
        ("opens_at", "closes_at"),
        "instructions",
        "rules",
        "family_documents",
        "student_documents",
    ]


class DisciplineFilter(admin.SimpleListFilter):
    title = _("discipline wished or continued")
    parameter_name = "discipline"

    def lookups(self, request, model_admin):
        disciplines = Discipline.objects.order_by("name")
        if (site_id := staff_site_id(request)) is not None:
            disciplines = disciplines.filter(site_id=site_id)
        return [
            (d.pk, f"{d.name} ({d.site.slug})" if site_id is None else d.name)
            for d in disciplines.select_related("site")
        ]

    def queryset(self, request, queryset):
        if not (self.value() or "").isdigit():
            return queryset
        wishes = Wish.objects.filter(discipline_id=self.value()).exclude(choice=Wish.Choice.STOP)
        return queryset.filter(pk__in=wishes.values("request_id"))


class MissingDocumentsFilter(admin.SimpleListFilter):
    title = _("documents")
    parameter_name = "documents"

    def lookups(self, request, model_admin):
        return [("missing", _("documents missing")), ("complete", _("all documents sent"))]

    def queryset(self, request, queryset):
        if self.value() not in {"missing", "complete"}:
            return queryset
        missing = queries.requests_missing_documents(queryset)
        if self.value() == "missing":
            return queryset.filter(pk__in=missing)
        return queryset.exclude(pk__in=missing)


class DecisionForm(forms.ModelForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        widget=forms.RadioSelect,
        choices=[
            ("", _("no change")),
            (Status.IN_REVIEW, _("take up (the family can no longer change it)")),
            (Status.INCOMPLETE, _("incomplete: tell the family what is missing")),
            (Status.VALIDATED, _("validate with the courses below")),
            (Status.REFUSED, _("refuse, with the reason below")),
        ],
    )

    # When the secretary opened the request: a family change since then
    # must be looked at before deciding.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)
    # Shown only when the family still owes documents (the guide: a request
    # is validated only "si votre dossier est complet").
    validate_incomplete = forms.BooleanField(
        label=_("Validate although documents are missing or refused"), required=False
    )
    # Nobody is enrolled beyond a course's capacity without the secretary
    # saying so.
    when_full = forms.ChoiceField(
        label=_("If a course is full"),
        required=False,
        widget=forms.RadioSelect,
        choices=[
            ("", _("warn me, enroll nobody")),
            (workflow.WAITING_LIST, _("put the wish on the course's waiting list")),
            (workflow.FORCE, _("enroll all the same, beyond the capacity")),
        ],
    )

    class Meta:
        model = ReenrollmentRequest
        fields = ["decision", "assigned_courses", "missing_note", "refusal_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.instance
        if "assigned_courses" not in self.fields:
            return  # Decided: nothing left to choose.
        self.fields["seen"].initial = request.updated_at.isoformat()
        courses = Course.objects.filter(school_year=request.campaign.school_year_id)
        self.fields["assigned_courses"].queryset = capacity.with_enrolled(
            courses.select_related("discipline", "teacher")
        ).order_by("discipline__name", "weekday", "start_time")
        self.fields["assigned_courses"].label_from_instance = course_label
        self.fields["assigned_courses"].help_text = _(
            "Next year's courses, with their students and capacity. Proposed from the "
            "wishes: check them before validating."
        )
        self.initial["assigned_courses"] = [c.pk for c in workflow.proposed_courses(request)]
        self.owed = owed_documents(request)
        if self.owed:
            self.fields["validate_incomplete"].help_text = _(
                "Missing or refused: %(documents)s."
            ) % {"documents": ", ".join(f"{item.kind.name} ({item.label})" for item in self.owed)}
        for wish in wishes_to_answer(request):
            self.initial[workflow.answer_field(wish)] = (
                wish.answer if wish.answer in Wish.NOT_GRANTED else ""
            )
            self.initial[workflow.answer_note_field(wish)] = wish.answer_note

    def answers(self):
        """{wish id: (answer, note)} for the wishes the courses do not grant."""
        return {
            wish.pk: (
                self.cleaned_data.get(workflow.answer_field(wish)) or "",
                self.cleaned_data.get(workflow.answer_note_field(wish)) or "",
            )
            for wish in wishes_to_answer(self.instance)
        }

    def clean_seen(self):
        value = self.cleaned_data["seen"]
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value  # Missing or garbled: matches no time, so the decision is refused.

    def clean(self):
        cleaned = super().clean()
        if decision := cleaned.get("decision"):
            try:
                workflow.check_decision(
                    self.instance,
                    decision,
                    cleaned.get("seen"),
                    note=cleaned.get("missing_note", ""),
                    reason=cleaned.get("refusal_reason", ""),
                    courses=cleaned.get("assigned_courses") or [],
                    answers=self.answers(),
                    when_full=cleaned.get("when_full", ""),
                )
            except workflow.NotAllowed as error:
                self.add_error(error.field, error.message)
            if (
                decision == Status.VALIDATED
                and getattr(self, "owed", None)
                and not cleaned.get("validate_incomplete")
            ):
                self.add_error(
                    "validate_incomplete",
                    _(
                        "The file is not complete: mark the request incomplete, or tick "
                        "this box to validate it all the same."
                    ),
                )
        return cleaned


def course_label(course):
    """A course to choose, with its places: “… – 12/12, full”."""
    if course.capacity is not None and course.enrolled >= course.capacity:
        return _("%(course)s – %(places)s, full") % {
            "course": course,
            "places": capacity.describe(course),
        }
    return f"{course} – {capacity.describe(course)}"


def wishes_to_answer(request):
    """The wishes a validation answers: the courses continued and the new
    disciplines (not the courses stopped)."""
    return [wish for wish in request.wishes.all() if wish.is_wanted]


def owed_documents(request):
    """The documents the request still owes (missing, refused, expired…),
    judged as the family's page judges them; read once per request."""
    if not hasattr(request, "_owed_documents"):
        request._checklists = queries.request_checklists(request)
        request._owed_documents = queries.missing(request._checklists[0] + request._checklists[1])
    return request._owed_documents


def answer_fields(wish):
    """The form fields answering `wish` when no course grants it."""
    return {
        workflow.answer_field(wish): forms.ChoiceField(
            label=_("Answer to “%(wish)s”") % {"wish": wish},
            required=False,
            choices=[("", _("granted by a course above"))]
            + [(answer, Wish.Answer(answer).label) for answer in Wish.NOT_GRANTED],
            help_text=_("If no course of this discipline is chosen, say why."),
        ),
        workflow.answer_note_field(wish): forms.CharField(
            label=_("Note to the family about “%(wish)s”") % {"wish": wish},
            required=False,
            max_length=1000,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("Required for a refusal: the family receives it."),
        ),
    }


@admin.register(ReenrollmentRequest)
class ReenrollmentRequestAdmin(ScopedHistoryAdmin):
    site_path = "campaign__site"
    form = DecisionForm
    list_display = [
        "student",
        "family",
        "campaign",
        "status",
        "wishes_summary",
        "submitted_at",
        "changed_after_sending_at",
    ]
    list_filter = [
        ("campaign", admin.RelatedOnlyFieldListFilter),
        "status",
        DisciplineFilter,
        MissingDocumentsFilter,
    ]
    list_select_related = ["student__family", "campaign__school_year"]
    search_fields = ["student__last_name", "student__first_name", "student__family__name"]
    date_hierarchy = "submitted_at"
    ordering = ["submitted_at"]
    actions = ["take_up", "validate_simple", "export_csv", "export_xlsx"]
    # With a link to the waiting lists.
    change_list_template = "admin/reenrollment/reenrollmentrequest/change_list.html"
    readonly_fields = [
        "student",
        "family",
        "campaign",
        "status",
        "submitted_at",
        "changed_after_sending_at",
        "wishes_review",
        "musicianship_level",
        "comment",
        "documents_review",
        "rules_version",
        "rules_accepted_at",
        "rules_accepted_by",
        "decided_at",
        "decided_by",
    ]

    def get_queryset(self, request):
        # Wishes read once for the list, the proposals and the review fields.
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("wishes", Wish.objects.select_related("discipline", "enrollment__course"))
            )
        )

    def has_add_permission(self, request):
        return False  # Families make requests; the secretariat decides on them.

    def get_urls(self):
        return [
            path(
                "liste-d-attente/",
                self.admin_site.admin_view(self.waiting_lists_view),
                name="reenrollment_waiting_lists",
            ),
            path(
                "liste-d-attente/<int:wish_id>/inscrire/",
                self.admin_site.admin_view(self.enroll_waiting_view),
                name="reenrollment_waiting_enroll",
            ),
            *super().get_urls(),
        ]

    def waiting_lists_view(self, request):
        """Each full course's waiting list, in the order the families sent
        their requests; `?course=` for one course."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        site_id = staff_site_id(request)
        course = None
        if (chosen := request.GET.get("course", "")).isdigit():
            courses = Course.objects.select_related("discipline")
            if site_id is not None:
                courses = courses.filter(site_id=site_id)
            course = get_object_or_404(courses, pk=chosen)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Waiting lists"),
            "course": course,
            "lists": waiting.waiting_lists(site_id, course.pk if course else None),
            "may_enroll": self.has_change_permission(request),
        }
        return TemplateResponse(
            request, "admin/reenrollment/reenrollmentrequest/waiting_lists.html", context
        )

    def enroll_waiting_view(self, request, wish_id):
        """A place freed up: the student enrolled in the course waited for."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        wishes = Wish.objects.filter(
            answer=Wish.Answer.WAITING_LIST, waiting_course__isnull=False
        ).select_related("request__student", "waiting_course__discipline")
        if (site_id := staff_site_id(request)) is not None:
            wishes = wishes.filter(request__campaign__site_id=site_id)
        wish = get_object_or_404(wishes, pk=wish_id)
        try:
            _wish, told = workflow.enroll_from_waiting_list(wish, portal_url(request))
        except workflow.NotAllowed as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            names = {"student": wish.request.student, "course": wish.waiting_course}
            if told:
                message = _(
                    "%(student)s is enrolled in %(course)s; the family is told by e-mail "
                    "(%(email)s)."
                ) % {**names, "email": told}
                level = messages.SUCCESS
            else:
                message = (
                    _(
                        "%(student)s is enrolled in %(course)s. The family has no e-mail address: "
                        "tell it another way."
                    )
                    % names
                )
                level = messages.WARNING
            self.message_user(request, message, level)
        return redirect(
            reverse("admin:reenrollment_waiting_lists") + f"?course={wish.waiting_course_id}"
        )

    def may_answer(self, obj):
        return obj is not None and not obj.is_decided

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self.may_answer(obj) and "form" not in kwargs:
            declared = {}
            for wish in wishes_to_answer(obj):
                declared.update(answer_fields(wish))
            kwargs["form"] = type("DecisionForm", (self.form,), declared)
        return super().get_form(request, obj, change, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if request.method == "GET" else None
        if self.may_answer(obj):
            for item in capacity.full_courses(workflow.proposed_courses(obj), obj.student):
                self.message_user(
                    request,
                    item.message + " " + _("Say below whether the wish goes on its waiting list."),
                    messages.WARNING,
                )
        if self.may_answer(obj) and (owed := owed_documents(obj)):
            self.message_user(
                request,
                _(
                    "The file is not complete: %(documents)s. The guide promises "
                    "validation only of a complete file."
                )
                % {"documents": ", ".join(f"{i.kind.name} ({i.label})" for i in owed)},
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_fieldsets(self, request, obj=None):
        request_fields = (
            None,
            {
                "fields": [
                    "student",
                    "family",
                    "campaign",
                    "status",
                    ("submitted_at", "changed_after_sending_at"),
                ]
            },
        )
        wishes = (
            _("Wishes and documents"),
            {
                "fields": [
                    "wishes_review",
                    "musicianship_level",
                    "comment",
                    "documents_review",
                    ("rules_version", "rules_accepted_at", "rules_accepted_by"),
                ]
            },
        )
        if obj is not None and obj.is_decided:
            decided = (
                _("Decision"),
                {
                    "fields": [
                        "decided_at",
                        "decided_by",
                        "assigned_courses",
                        "missing_note",
                        "refusal_reason",
                    ]
                },
            )
            return [request_fields, wishes, decided]
        decision = (
            _("Decision"),
            {
                "fields": [
                    "decision",
                    "assigned_courses",
                    *[
                        (workflow.answer_field(wish), workflow.answer_note_field(wish))
                        for wish in (wishes_to_answer(obj) if obj is not None else [])
                    ],
                    "when_full",
                    *(["validate_incomplete"] if obj is not None and owed_documents(obj) else []),
                    "missing_note",
                    "refusal_reason",
                    ("decided_at", "decided_by"),
                    "seen",
                ]
            },
        )
        return [request_fields, wishes, decision]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_decided:
            fields += ["assigned_courses", "missing_note", "refusal_reason"]
        return fields

    @admin.display(description=_("family"), ordering="student__family__name")
    def family(self, obj):
        return obj.student.family

    @admin.display(description=_("wishes"))
    def wishes_summary(self, obj):
        return ", ".join(str(w) for w in obj.wishes.all())

    @admin.display(description=_("wishes"))
    def wishes_review(self, obj):
        return render_to_string(
            "admin/reenrollment/reenrollmentrequest/_wishes_review.html",
            {"wishes": list(obj.wishes.all())},
        )

    @admin.display(description=_("documents"))
    def documents_review(self, obj):
        owed_documents(obj)
        family_items, student_items = obj._checklists
        items = []
        for item in family_items + student_items:
            url = None
            if item.document is not None:
                meta = item.document._meta
                url = reverse(
                    f"admin:{meta.app_label}_{meta.model_name}_change", args=[item.document.pk]
                )
            items.append((item, url))
        return render_to_string(
            "admin/reenrollment/reenrollmentrequest/_documents_review.html", {"items": items}
        )

    def save_model(self, request, obj, form, change):
        cleaned = form.cleaned_data
        if not (decision := cleaned.get("decision")):
            workflow.save_notes(obj, request.user)
            return
        try:
            workflow.decide(
                obj,
                decision,
                request.user,
                base_url(request),
                cleaned["seen"],
                note=cleaned["missing_note"],
                reason=cleaned["refusal_reason"],
                courses=cleaned["assigned_courses"],
                answers=form.answers(),
                when_full=cleaned["when_full"],
            )
        except workflow.NotAllowed as error:
            # Checked by the form a moment ago: the family or another
            # secretary acted meanwhile.
            messages.error(request, error.message)
        obj.refresh_from_db()
        for wish in obj.wishes.filter(waiting_course__isnull=False).select_related(
            "waiting_course__discipline"
        ):
            self.message_user(
                request,
                _("%(student)s is number %(rank)s on the waiting list of %(course)s.")
                % {
                    "student": obj.student,
                    "rank": waiting.rank_of(wish),
                    "course": wish.waiting_course,
                },
                messages.INFO,
            )

    def save_related(self, request, form, formsets, change):
        pass  # The courses are stored by the validation itself, and only then.

    @admin.action(description=_("Take up the selected requests"), permissions=["change"])
    def take_up(self, request, queryset):
        count = workflow.take_up(queryset, request.user)
        self.message_user(
            request,
            ngettext("%(count)d request taken up.", "%(count)d requests taken up.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Validate the selected requests that only continue courses"),
        permissions=["change"],
    )
    def validate_simple(self, request, queryset):
        validated, incomplete, left = workflow.validate_simple(
            queryset, request.user, base_url(request)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d request validated.", "%(count)d requests validated.", len(validated)
            )
            % {"count": len(validated)},
            messages.SUCCESS,
        )
        if incomplete:
            self.message_user(
                request,
                _(
                    "Not validated, the file is not complete (documents missing or "
                    "refused): %(names)s"
                )
                % {"names": ", ".join(str(r.student) for r in incomplete)},
                messages.WARNING,
            )
        if left:
            self.message_user(
                request,
                _(
                    "Left to look at one by one (new discipline, no course found or a "
                    "course full): %(names)s"
                )
                % {"names": ", ".join(str(r.student) for r in left)},
                messages.WARNING,
            )

    @admin.action(
        description=_("Export the selected requests and wishes (CSV)"), permissions=["view"]
    )
    def export_csv(self, request, queryset):
        return exports.csv_response(queryset)

    @admin.action(
        description=_("Export the selected requests and wishes (Excel)"), permissions=["view"]
    )
    def export_xlsx(self, request, queryset):
        return exports.xlsx_response(queryset)
