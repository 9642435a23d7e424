"""One family at a glance, for the secretariat: its responsables, students
and their courses, documents, re-enrollment requests, statement, accounts and
history, and the actions a secretary takes from there (a first-connection
or password-reset link, an invoice to draft, a payment to record).

Each part is the answer the family's own pages give (the documents
checklist, the statement…), and the page takes a fixed number of queries
whatever the number of students, documents, invoices or history records."""

from itertools import chain

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.models import Invoice
from billing.statement import statement
from extranet.admin_scoping import staff_site_id
from extranet.models import User
from extranet.responses import portal_url
from extranet.tasks import send_password_reset
from families.documents import family_checklist
from families.models import Family, Guardian
from families.onboarding import send_first_connection_links
from reenrollment.models import ReenrollmentRequest, Wish
from students import queries
from students.models import Student

# Enough to see what happened lately; the objects' own history pages have the rest.
HISTORY_LIMIT = 15
# The statement's latest lines; the family account's page has them all.
STATEMENT_LIMIT = 12

FIRST_CONNECTION = "first_connection"
PASSWORD_RESET = "password_reset"


def families_of(request):
    """The families a staff member may see: her site's, all for a network administrator."""
    families = Family.objects.select_related("site")
    site_id = staff_site_id(request)
    return families if site_id is None else families.filter(site_id=site_id)


@require_http_methods(["GET", "HEAD", "POST"])
def family_overview(request, family_id):
    if not request.user.has_perm("families.view_family"):
        raise PermissionDenied
    family = get_object_or_404(families_of(request), pk=family_id)
    if request.method == "POST":
        return account_action(request, family)
    context = {
        **admin.site.each_context(request),
        "title": _("Family %(name)s") % {"name": family.name},
        "opts": Family._meta,
        "family": family,
        **gather(family, request.user),
    }
    return TemplateResponse(request, "workspace/family_overview.html", context)


# What the page shows.


def gather(family, user):
    year = queries.current_year(family.site_id)
    students = list(queries.family_students(family, year)) if year else list(family.students.all())
    if year is None:
        for student in students:
            student.current_enrollments = []
    checklists = queries.students_checklists(family, students)
    for student in students:
        student.checklist = checklists[student.pk]
    found = {
        "year": year,
        "guardians": list(family.guardians.all()),
        "students": students,
        "family_checklist": family_checklist(family),
        "requests": reenrollment_requests(family),
        "accounts": list(family.accounts.order_by("username")),
        "history": history(family),
    }
    if user.has_perm("billing.view_invoice"):
        found["billing"] = billing(family, user)
    present = {
        "family": {family.pk},
        "guardian": {g.pk for g in found["guardians"]},
        "student": {s.pk for s in students},
    }
    for record in found["history"]:
        # A deleted guardian or student has no history page any more.
        if record.id in present[record.model_name] and may_view(user, record.instance_type):
            record.history_url = admin_url(record.instance_type, record.id, "history")
    return found


def may_view(user, model):
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


def admin_url(model, pk, page="change"):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=[pk])


def reenrollment_requests(family):
    """The family's re-enrollment requests, the latest campaign first, with their wishes."""
    return list(
        ReenrollmentRequest.objects.filter(student__family=family)
        .select_related("campaign__school_year", "student")
        .prefetch_related(
            Prefetch("wishes", Wish.objects.select_related("discipline").order_by("rank", "pk"))
        )
        .order_by("-campaign__opens_at", "student__first_name", "pk")
    )


def billing(family, user):
    """The statement (as the family reads it), its latest lines, and the drafts."""
    found = statement(family)
    found["latest_lines"] = found["lines"][:STATEMENT_LIMIT]
    for line in found["latest_lines"]:
        if line.obj is not None and may_view(user, type(line.obj)):
            line.admin_url = admin_url(type(line.obj), line.obj.pk)
    found["drafts"] = list(
        Invoice.objects.filter(family=family, status=Invoice.Status.DRAFT).order_by("pk")
    )
    return found


def history(family, limit=HISTORY_LIMIT):
    """The latest changes to the family, its guardians and students (deleted
    ones included), newest first: `limit` of each kind, then `limit` of all."""
    sources = [
        Family.history.filter(id=family.pk),
        Guardian.history.filter(family_id=family.pk),
        Student.history.filter(family_id=family.pk),
    ]
    records = chain.from_iterable(
        source.select_related("history_user__site").order_by("-history_date", "-history_id")[:limit]
        for source in sources
    )
    latest = sorted(records, key=lambda record: record.history_date, reverse=True)[:limit]
    for record in latest:
        record.model_name = record.instance_type._meta.model_name
        record.kind = record.instance_type._meta.verbose_name
    return latest


# What a secretary does from there.


class AccountActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(FIRST_CONNECTION, ""), (PASSWORD_RESET, "")])
    account = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args, family, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = family.accounts.all()


def account_action(request, family):
    """Send one of the family's accounts a first-connection or password-reset
    link: queued for the worker, never a password."""
    if not request.user.has_perm("extranet.change_user"):
        raise PermissionDenied
    form = AccountActionForm(request.POST, family=family)
    if not form.is_valid():
        messages.error(request, _("Nothing was sent: choose one of the family’s accounts."))
        return redirect("admin:family_overview", family.pk)
    account, action = form.cleaned_data["account"], form.cleaned_data["action"]
    names = {"username": account.username, "email": account.contact_email}
    portal = portal_url(request)
    if not account.is_active:
        messages.error(
            request, _("The account %(username)s is deactivated: nothing was sent.") % names
        )
    elif action == FIRST_CONNECTION:
        if account.has_usable_password():
            messages.warning(
                request,
                _(
                    "The account %(username)s already has a password: send it a "
                    "password-reset link instead."
                )
                % names,
            )
        else:
            queued, _without_email = send_first_connection_links([account], portal)
            if queued:
                messages.success(
                    request,
                    _(
                        "The first-connection link of the account %(username)s is on its way "
                        "to %(email)s."
                    )
                    % names,
                )
            else:
                messages.warning(request, no_email_message(account))
    elif not account.has_usable_password():
        messages.warning(
            request,
            _(
                "The account %(username)s has no password yet: send it the first-connection "
                "link instead."
            )
            % names,
        )
    elif not account.contact_email:
        messages.warning(request, no_email_message(account))
    else:
        send_password_reset.enqueue(account.pk, portal)
        messages.success(
            request,
            _("A password-reset link for the account %(username)s is on its way to %(email)s.")
            % names,
        )
    return redirect("admin:family_overview", family.pk)


def no_email_message(account):
    return _(
        "Neither the account %(username)s nor its family has an e-mail address: nothing was "
        "sent. Add an address, or post a letter (send_invitations command)."
    ) % {"username": account.username}
