"""The "Réinscription" tab: one request per student, in three steps
(documents, wishes, validation), each saved as a draft."""

from dataclasses import dataclass, field

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from billing.instalments import choose_plan
from billing.models import Instalment
from documents.files import store_upload, upload_status
from documents.models import DocumentKind
from extranet.decorators import family_required
from extranet.responses import base_url, serve_stored_file
from families.models import FamilyDocument
from fees.models import PlanChoice
from fees.plan_forms import PlanForm, offered_plans
from students.models import Discipline, Student, StudentDocument

from . import estimates, queries, workflow
from .forms import AcceptanceForm, ReenrollmentUploadForm, WishesForm
from .models import ReenrollmentCampaign, ReenrollmentRequest, SchoolRules, Wish

State = ReenrollmentCampaign.State
# What the templates compare statuses and states with.
ENUMS = {"State": State, "Status": ReenrollmentRequest.Status}


def portal_campaign(request):
    return ReenrollmentCampaign.objects.for_portal(request.user.family.site)


@family_required
@require_safe
def index(request):
    campaign = portal_campaign(request)
    context = {"campaign": campaign, "site": request.user.family.site, **ENUMS}
    if campaign is not None:
        context["state"] = campaign.state()
        context["students"] = queries.family_requests(campaign, request.user.family)
    return render(request, "reenrollment/index.html", context)


@dataclass
class Step:
    """Everything a step page shows about one student's request."""

    campaign: ReenrollmentCampaign
    student: Student
    request: ReenrollmentRequest
    previous_year: object
    enrollments: list
    wishes: list
    family_items: list = field(default_factory=list)
    student_items: list = field(default_factory=list)

    @property
    def editable(self):
        return self.request.family_may_edit()

    @property
    def summary(self):
        return queries.summarize(self.wishes, self.family_items, self.student_items)

    @property
    def dance(self):
        disciplines = [e.course.discipline for e in self.enrollments]
        disciplines += [w.discipline for w in self.wishes if w.choice != Wish.Choice.STOP]
        return any(d.category == Discipline.Category.DANCE for d in disciplines)

    @property
    def kinds(self):
        return [item.kind for item in self.family_items + self.student_items]


def load_step(request, student_pk):
    """The student's request of the campaign on show. Another family's
    student is a 404; before the campaign opens there is nothing to see."""
    student = get_object_or_404(
        Student.objects.select_related("family__site"), pk=student_pk, family=request.user.family
    )
    campaign = portal_campaign(request)
    if campaign is None or campaign.state() == State.UPCOMING:
        raise Http404("No campaign open.")
    existing = ReenrollmentRequest.objects.filter(campaign=campaign, student=student).first()
    if existing is None and campaign.state() == State.CLOSED:
        raise Http404("The campaign is over.")
    req = existing or ReenrollmentRequest(campaign=campaign, student=student)
    req.campaign = campaign
    req.student = student
    previous_year = campaign.previous_year()
    enrollments = queries.current_enrollments(student, previous_year)
    wishes = queries.wishes(req)
    step = Step(campaign, student, req, previous_year, enrollments, wishes)
    step.family_items, step.student_items = queries.checklists(
        req, queries.planned_discipline_ids(enrollments, wishes)
    )
    return step


def ended(step):
    """A validated request has its own page, the end of the steps: next
    year's courses instead of the steps to fill in."""
    if step.request.status == ReenrollmentRequest.Status.VALIDATED:
        return redirect("reenrollment:sent", step.student.pk)
    return None


def render_step(request, step, name, context=None, status=200):
    return render(
        request,
        f"reenrollment/{name}.html",
        {"step": step, "current_step": name, "summary": step.summary, **ENUMS, **(context or {})},
        status=status,
    )


def refusal(request, step, error):
    """The workflow's refusal shown on the step where the family can act on it."""
    messages.error(request, error.message)
    if error.code == "no_wishes":
        return redirect("reenrollment:wishes", step.student.pk)
    return redirect("reenrollment:documents", step.student.pk)


def refuse_if_read_only(request, step):
    try:
        workflow.check_editable(step.request)
    except workflow.NotAllowed as error:
        return refusal(request, step, error)
    return None


@family_required
@require_safe
def documents(request, student_pk):
    step = load_step(request, student_pk)
    if done := ended(step):
        return done
    return render_step(
        request, step, "documents", {"upload_form": ReenrollmentUploadForm(step.kinds)}
    )


@family_required
@require_POST
def upload(request, student_pk):
    step = load_step(request, student_pk)
    if refused := refuse_if_read_only(request, step):
        return refused
    form = ReenrollmentUploadForm(step.kinds, request.POST, request.FILES)
    if not form.is_valid():
        return render_step(request, step, "documents", {"upload_form": form}, status=400)
    if form.cleaned_data["kind"].scope == DocumentKind.Scope.FAMILY:
        document = FamilyDocument(family=step.student.family)
    else:
        document = StudentDocument(student=step.student)
    if not store_upload(document, form, request):
        return render_step(
            request, step, "documents", {"upload_form": form}, status=upload_status(form)
        )
    workflow.mark_changed_after_sending(step.request)
    return redirect("reenrollment:documents", step.student.pk)


def wishes_form(step, data=None):
    campaign, previous = step.campaign, step.previous_year
    levels = queries.musicianship_levels(campaign, previous)
    form = WishesForm(
        data,
        enrollments=step.enrollments,
        disciplines=queries.offered_disciplines(campaign, previous),
        levels=levels,
        implied_level=queries.implied_musicianship_level(step.enrollments, levels),
        request=step.request,
        wishes=step.wishes,
    )
    if not step.editable:
        for form_field in form.fields.values():
            form_field.disabled = True
    return form


@family_required
def wishes(request, student_pk):
    step = load_step(request, student_pk)
    if done := ended(step):
        return done
    if request.method != "POST":
        return render_step(request, step, "wishes", {"form": wishes_form(step)})
    if refused := refuse_if_read_only(request, step):
        return refused
    form = wishes_form(step, request.POST)
    if not form.is_valid():
        return render_step(request, step, "wishes", {"form": form}, status=400)
    try:
        req = workflow.save_wishes(
            step.campaign,
            step.student,
            form.wishes(),
            musicianship_level=form.cleaned_data.get("musicianship_level", ""),
            comment=form.cleaned_data["comment"],
        )
    except workflow.NotAllowed as error:
        return refusal(request, step, error)
    if req.is_sent:
        messages.success(request, _("Your changes are saved; the secretariat will see them."))
    else:
        messages.success(
            request,
            _("Your wishes are saved. Last step: read the school rules and send the request."),
        )
    return redirect("reenrollment:validation", step.student.pk)


def family_plan_form(family, school_year, data):
    """How the family pays next year, asked with the validation; None when
    the site offers no plans or the year's first instalment is past."""
    plans = offered_plans(family.site_id)
    if (
        not plans
        or Instalment.objects.filter(
            invoice__family=family,
            invoice__school_year=school_year,
            due_date__lte=timezone.localdate(),
        ).exists()
    ):
        return None
    chosen = PlanChoice.objects.filter(family=family, school_year=school_year).first()
    initial = chosen.plan_id if chosen else next((p.pk for p in plans if p.is_default), None)
    return PlanForm(data, plans=plans, school_year=school_year, initial_plan=initial, prefix="plan")


@family_required
def validation(request, student_pk):
    step = load_step(request, student_pk)
    if done := ended(step):
        return done
    rules = step.campaign.rules
    data = request.POST if request.method == "POST" else None
    form = AcceptanceForm(data, rules=rules)
    plan_form = family_plan_form(step.student.family, step.campaign.school_year, data)
    context = {"form": form, "rules": rules, "plan_form": plan_form}
    if found := estimates.reenrollment_estimate(
        step.campaign, step.student.family, step.previous_year
    ):
        context["estimate"], context["assumed"] = found
    if request.method != "POST":
        return render_step(request, step, "validation", context)
    try:
        workflow.check_sendable(step.request)
        if not form.is_valid() or (plan_form and not plan_form.is_valid()):
            return render_step(request, step, "validation", context, status=400)
        if plan_form:
            choose_plan(
                step.student.family,
                step.campaign.school_year,
                plan_form.cleaned_data["plan"],
                request.user,
            )
        workflow.send(step.request, request.user, rules, base_url(request))
    except workflow.NotAllowed as error:
        return refusal(request, step, error)
    return redirect("reenrollment:sent", step.student.pk)


@family_required
@require_safe
def sent(request, student_pk):
    step = load_step(request, student_pk)
    if not step.request.is_sent:
        return redirect("reenrollment:validation", step.student.pk)
    context = {}
    if step.request.status == ReenrollmentRequest.Status.VALIDATED:
        context["schedule"] = queries.next_year_schedule(
            step.request.assigned_courses.select_related("discipline", "teacher", "room")
        )
        context["not_granted"] = queries.not_granted(step.wishes)
    return render_step(request, step, "sent", context)


@family_required
@require_safe
def rules_pdf(request, pk):
    rules = get_object_or_404(SchoolRules, pk=pk, site=request.user.family.site)
    if not rules.file:
        raise Http404
    return rules_response(rules)


def rules_response(rules):
    return serve_stored_file(
        rules.file,
        f"reglement-interieur-{slugify(rules.version)}.pdf",
        "application/pdf",
        as_attachment=False,
    )
