"""What a family has provided, kind by kind: the checklist shown to families
and used by the secretariat's "missing documents" filter."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import BaseDocument, DocumentKind

Status = BaseDocument.Status


@dataclass
class ChecklistItem:
    kind: DocumentKind
    document: BaseDocument | None
    state: str  # missing, pending, accepted, refused, expired, outdated
    label: str

    @property
    def needs_upload(self):
        return self.state in {"missing", "refused", "expired", "outdated", "next_year"}


STATE_LABELS = {
    "missing": _("Missing"),
    "pending": _("To be checked"),
    "accepted": _("Accepted"),
    "refused": _("Refused"),
    "expired": _("Expired"),
    "outdated": _("A new one is needed (address changed)"),
    "next_year": _("A new one is needed for next year"),
}


@dataclass
class NextYear:
    """For a re-enrollment: a document valid for "the school year of upload"
    counts for next year only if it was sent since the campaign opened."""

    start_date: object
    sent_since: object


def state_of(kind, document, address_changed_at=None, next_year=None):
    if document is None:
        return "missing"
    if document.status == Status.REFUSED:
        return "refused"
    if kind.proves_address and address_changed_at and document.uploaded_at < address_changed_at:
        return "outdated"
    if document.is_expired:
        return "expired"
    if (next_year and kind.validity == DocumentKind.Validity.SCHOOL_YEAR
            and document.uploaded_at < next_year.sent_since
            and document.expires_on <= next_year.start_date):
        return "next_year"
    return document.status


def checklist(kinds, documents, address_changed_at=None, next_year=None):
    """One item per kind: the latest document of that kind and its state.

    `documents` must be ordered newest first (the model's default ordering).
    """
    latest = {}
    for document in documents:
        latest.setdefault(document.kind_id, document)
    items = []
    for kind in kinds:
        document = latest.get(kind.pk)
        state = state_of(kind, document, address_changed_at, next_year)
        items.append(ChecklistItem(kind, document, state, STATE_LABELS[state]))
    return items


def family_kinds(site):
    return DocumentKind.objects.filter(site=site, scope=DocumentKind.Scope.FAMILY, is_active=True)
