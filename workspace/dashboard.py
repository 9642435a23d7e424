"""The figures of the secretariat's day ("Aujourd'hui"): what waits for her
on the site she works for, each figure a link to the admin list that shows
exactly what it counts.

Every figure is counted on the queryset of the list it links to (the
ModelAdmin's own, scoped to the staff member's site), and in a fixed number
of queries whatever the number of families."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Count, Min, OuterRef, Subquery, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.debtors import overdue_amounts
from billing.deposits import undeposited
from billing.models import ChequeDeposit, Invoice, OnlinePayment, Payment
from extranet.admin_scoping import staff_site_id
from extranet.models import Site
from extranet.money import money
from families import account_states
from families.models import Family, FamilyDocument
from reenrollment.models import ReenrollmentCampaign, ReenrollmentRequest, Wish
from students.models import StudentDocument

PENDING = FamilyDocument.Status.PENDING
Status = ReenrollmentRequest.Status

# A campaign's progress, discipline by discipline: the request statuses shown.
PROGRESS = [Status.SUBMITTED, Status.INCOMPLETE, Status.VALIDATED]


@dataclass
class Figure:
    label: str
    count: int
    url: str
    # When the oldest waits since, what is overdue, or what the count amounts to.
    oldest: datetime | None = None
    amount: Decimal | None = None
    total: Decimal | None = None


@dataclass
class DisciplineProgress:
    name: str
    figures: list  # One Figure per status of PROGRESS.
    total: Figure


@dataclass
class CampaignProgress:
    campaign: ReenrollmentCampaign
    state: ReenrollmentCampaign.State
    url: str
    statuses: list = field(default_factory=list)  # Figure per status
    disciplines: list = field(default_factory=list)  # DisciplineProgress


def changelist(model, **params):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def visible(request, model):
    """The admin of `model` when the staff member may see its list, else None."""
    model_admin = admin.site.get_model_admin(model)
    return model_admin if model_admin.has_view_permission(request) else None


def documents(request):
    """The documents waiting to be checked, each kind of owner its list."""
    figures = []
    for model, label in [
        (FamilyDocument, _("Family documents to check")),
        (StudentDocument, _("Student documents to check")),
    ]:
        if (model_admin := visible(request, model)) is None:
            continue
        found = (
            model_admin.get_queryset(request)
            .filter(status=PENDING)
            .aggregate(count=Count("pk"), oldest=Min("uploaded_at"))
        )
        figures.append(
            Figure(
                label,
                found["count"],
                changelist(model, status__exact=PENDING),
                oldest=found["oldest"],
            )
        )
    return figures


def campaigns(request):
    """The progress of the site's latest campaign to have opened (open, or
    closed and still being processed); one per site for network
    administrators. Three queries, whatever the number of requests."""
    model_admin = visible(request, ReenrollmentRequest)
    if model_admin is None:
        return None
    now = timezone.now()
    latest = (
        ReenrollmentCampaign.objects.filter(site=OuterRef("site"), opens_at__lte=now)
        .order_by("-opens_at")
        .values("pk")[:1]
    )
    found = ReenrollmentCampaign.objects.filter(pk=Subquery(latest)).select_related(
        "site", "school_year"
    )
    if (site_id := staff_site_id(request)) is not None:
        found = found.filter(site_id=site_id)
    progress = {
        c.pk: CampaignProgress(c, c.state(now), changelist(ReenrollmentRequest, **_of(c)))
        for c in found.order_by("site__name")
    }
    if not progress:
        return []
    requests = model_admin.get_queryset(request).filter(campaign__in=progress)
    counts = {
        (row["campaign"], row["status"]): row["n"]
        for row in requests.values("campaign", "status").annotate(n=Count("pk")).order_by()
    }
    for pk, item in progress.items():
        item.statuses = [
            Figure(
                label,
                counts.get((pk, status), 0),
                changelist(ReenrollmentRequest, **_of(item.campaign), status__exact=status),
            )
            for status, label in Status.choices
        ]
    # As the requests' list filters by discipline: a course continued or a
    # new discipline wished, not a course stopped.
    wishes = (
        Wish.objects.filter(request__in=requests)
        .exclude(choice=Wish.Choice.STOP)
        .values("request__campaign", "discipline", "request__status")
        # The name as an aggregate, not a key: grouping by a text sorts by
        # collation a row per wish.
        .annotate(n=Count("request", distinct=True), discipline__name=Min("discipline__name"))
        .order_by()
    )
    names, by_discipline = {}, {}
    for row in wishes:
        key = (row["request__campaign"], row["discipline"])
        names[key] = row["discipline__name"]
        by_discipline.setdefault(key, {})[row["request__status"]] = row["n"]
    for key in sorted(by_discipline, key=lambda key: names[key].casefold()):
        campaign_pk, discipline_pk = key
        statuses = by_discipline[key]
        params = {**_of(progress[campaign_pk].campaign), "discipline": discipline_pk}
        progress[campaign_pk].disciplines.append(
            DisciplineProgress(
                names[key],
                [
                    Figure(
                        Status(status).label,
                        statuses.get(status, 0),
                        changelist(ReenrollmentRequest, **params, status__exact=status),
                    )
                    for status in PROGRESS
                ],
                # No request counts twice: one status each.
                Figure(
                    _("in all"), sum(statuses.values()), changelist(ReenrollmentRequest, **params)
                ),
            )
        )
    return list(progress.values())


def _of(campaign):
    return {"campaign__id__exact": campaign.pk}


def payments(request):
    figures = []
    if (model_admin := visible(request, OnlinePayment)) is not None:
        anomalies = OnlinePayment.Status.ANOMALY
        figures.append(
            Figure(
                _("Online payments to check"),
                model_admin.get_queryset(request).filter(status=anomalies).count(),
                changelist(OnlinePayment, status__exact=anomalies),
            )
        )
    if visible(request, Invoice) is not None:
        # The reminders' own answer, the one the invoices' "overdue" filter gives.
        overdue = overdue_amounts(staff_site_id(request), timezone.localdate())
        figures.append(
            Figure(
                _("Overdue invoices"),
                len(overdue),
                changelist(Invoice, retard="yes"),
                amount=money(sum(overdue.values(), Decimal(0))),
            )
        )
    model_admin = visible(request, Payment)
    if model_admin is not None and visible(request, ChequeDeposit) is not None:
        # The cheques recorded and not yet on a deposit slip: the bank wants
        # them within days.
        found = undeposited(model_admin.get_queryset(request)).aggregate(
            count=Count("pk"), total=Sum("amount")
        )
        figures.append(
            Figure(
                _("Cheques to deposit at the bank"),
                found["count"],
                changelist(Payment, remise="no"),
                total=money(found["total"] or Decimal(0)),
            )
        )
    return figures


def accounts(request):
    """Families without an account, never signed in, invited and not come."""
    if (model_admin := visible(request, Family)) is None:
        return []
    labels = {
        "none": _("Families without an account"),
        "never": _("Families never signed in"),
        "invited": _("Invitations sent, not used yet"),
    }
    counts = account_states.counts(model_admin.get_queryset(request), labels)
    # The names are the values of the families' "account" list filter.
    return [
        Figure(label, counts[name], changelist(Family, compte=name))
        for name, label in labels.items()
    ]


def current_site(request):
    """The site the figures are about; None for every site."""
    site_id = staff_site_id(request)
    if site_id is None or site_id == request.user.site_id:
        return request.user.site
    return Site.objects.get(pk=site_id)


def context(request):
    return {
        "today": timezone.localdate(),
        "today_site": current_site(request),
        "documents": documents(request),
        "campaigns": campaigns(request),
        "payments": payments(request),
        "accounts": accounts(request),
    }
