"""Which documents does a family or a student still owe?

One answer, asked two ways that agree by construction: `checklist()` judges
the documents already fetched for a page, and `owed_kinds()` says the same
in SQL for the secretariat's filters. The Famille tab, the fiche élève, the
re-enrollment steps and the admin filters all go through here; what differs
between them is only which kinds are asked (`extra`) and for when (`Period`).
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Exists, OuterRef, Q, Subquery, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import BaseDocument, DocumentKind

Status = BaseDocument.Status


class State(TextChoices):
    MISSING = "missing", _("Missing")
    PENDING = "pending", _("To be checked")
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")
    EXPIRED = "expired", _("Expired")
    OUTDATED = "outdated", _("A new one is needed (address changed)")
    NEXT_YEAR = "next_year", _("A new one is needed for next year")


TO_SEND = {State.MISSING, State.REFUSED, State.EXPIRED, State.OUTDATED, State.NEXT_YEAR}


@dataclass(frozen=True)
class Period:
    """When the documents must count: on `day` and, for a re-enrollment, for
    next year too: a document valid only "for the school year of upload"
    counts for next year if it was sent after `next_year_cutoff`."""

    day: date
    next_year_cutoff: datetime | None = None


def this_year(day=None):
    return Period(day or timezone.localdate())


def next_year(campaign, day=None):
    """For a re-enrollment: documents sent since the campaign opened count,
    and so do those still valid on next year's first day."""
    start = DocumentKind(validity=DocumentKind.Validity.SCHOOL_YEAR).valid_since(
        campaign.school_year.start_date
    )
    return Period(day or timezone.localdate(), min(campaign.opens_at, _start_of(start)))


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class ChecklistItem:
    kind: DocumentKind
    document: BaseDocument | None
    state: State
    asked: bool = True

    @property
    def label(self):
        return self.state.label

    @property
    def needs_upload(self):
        return self.asked and self.state in TO_SEND


def state_of(kind, document, period, address_changed_at=None):
    if document is None:
        return State.MISSING
    if document.status == Status.REFUSED:
        return State.REFUSED
    if kind.proves_address and address_changed_at and document.uploaded_at < address_changed_at:
        return State.OUTDATED
    since = kind.valid_since(period.day)
    if since is not None and timezone.localdate(document.uploaded_at) < since:
        return State.EXPIRED
    if (
        period.next_year_cutoff
        and kind.validity == DocumentKind.Validity.SCHOOL_YEAR
        and document.uploaded_at < period.next_year_cutoff
    ):
        return State.NEXT_YEAR
    return State(document.status)


def asked_kinds(site_id, scope, extra=Q()):
    """The kinds a family (or student) must provide: the site's required kinds
    of that scope and those `extra` adds (a discipline's, a campaign's)."""
    return (
        DocumentKind.objects.filter(site=site_id, scope=scope, is_active=True)
        .filter(Q(required=True) | extra)
        .distinct()
        .order_by("position", "name")
    )


def uploadable_kinds(site, scope):
    # One site's kinds: ordering by the site (the model's default) would join it.
    return DocumentKind.objects.filter(site=site, scope=scope, is_active=True).order_by(
        "position", "name"
    )


def checklist(kinds, documents, period, address_changed_at=None, asked_ids=None):
    """One item per kind: the latest document of that kind and its state.

    `documents` must be ordered newest first (the model's default ordering).
    With `asked_ids`, kinds outside it are shown but owe nothing.
    """
    latest = {}
    for document in documents:
        latest.setdefault(document.kind_id, document)
    return [
        ChecklistItem(
            kind,
            latest.get(kind.pk),
            state_of(kind, latest.get(kind.pk), period, address_changed_at),
            asked=asked_ids is None or kind.pk in asked_ids,
        )
        for kind in kinds
    ]


def owed(items):
    return [item for item in items if item.needs_upload]


def owed_kinds(
    documents, *, site, scope, period, extra=Q(), address_changed_at=None, next_year_cutoff=None
):
    """The asked kinds whose latest document is to send, as a queryset meant
    for `Exists()` inside a query of owners.

    `documents` is the concrete documents queryset already filtered on its
    owner through `OuterRef(OuterRef(...))`; `site`, `address_changed_at` and
    `next_year_cutoff` are usually `OuterRef`s to the owner's query. The
    conditions are `state_of()`'s, in the same order of thought.
    """
    latest = documents.filter(kind=OuterRef("pk")).order_by("-uploaded_at", "-pk")
    kinds = (
        asked_kinds(site, scope, extra)
        .order_by()
        .annotate(
            latest_at=Subquery(latest.values("uploaded_at")[:1]),
            latest_status=Subquery(latest.values("status")[:1]),
        )
    )
    to_send = Q(latest_at__isnull=True) | Q(latest_status=Status.REFUSED)
    if address_changed_at is not None:
        to_send |= Q(proves_address=True, latest_at__lt=address_changed_at)
    to_send |= _expired(period.day)
    cutoff = next_year_cutoff if next_year_cutoff is not None else period.next_year_cutoff
    if cutoff is not None:
        to_send |= Q(validity=DocumentKind.Validity.SCHOOL_YEAR, latest_at__lt=cutoff)
    return kinds.filter(to_send)


def _expired(day):
    """Expiry as "uploaded before the first day still valid", per rule."""
    rules = [DocumentKind(validity=DocumentKind.Validity.SCHOOL_YEAR)] + [
        DocumentKind(validity=DocumentKind.Validity.MONTHS, validity_months=months)
        for months in DocumentKind.objects.filter(validity=DocumentKind.Validity.MONTHS)
        .values_list("validity_months", flat=True)
        .distinct()
        .order_by()
    ]
    expired = Q(pk__in=[])
    for rule in rules:
        expired |= Q(
            validity=rule.validity,
            latest_at__lt=_start_of(rule.valid_since(day)),
            **(
                {"validity_months": rule.validity_months}
                if rule.validity == DocumentKind.Validity.MONTHS
                else {}
            ),
        )
    return expired


def owes(documents, **kwargs):
    """`Exists()` of `owed_kinds()`, to filter or annotate owners."""
    return Exists(owed_kinds(documents, **kwargs))
