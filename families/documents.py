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
        return self.state in {"missing", "refused", "expired", "outdated"}


STATE_LABELS = {
    "missing": _("Missing"),
    "pending": _("To be checked"),
    "accepted": _("Accepted"),
    "refused": _("Refused"),
    "expired": _("Expired"),
    "outdated": _("A new one is needed (address changed)"),
}


def state_of(kind, document, address_changed_at=None):
    if document is None:
        return "missing"
    if document.status == Status.REFUSED:
        return "refused"
    if kind.proves_address and address_changed_at and document.uploaded_at < address_changed_at:
        return "outdated"
    if document.is_expired:
        return "expired"
    return document.status


def checklist(kinds, documents, address_changed_at=None):
    """One item per kind: the latest document of that kind and its state.

    `documents` must be ordered newest first (the model's default ordering).
    """
    latest = {}
    for document in documents:
        latest.setdefault(document.kind_id, document)
    items = []
    for kind in kinds:
        document = latest.get(kind.pk)
        state = state_of(kind, document, address_changed_at)
        items.append(ChecklistItem(kind, document, state, STATE_LABELS[state]))
    return items


def family_kinds(site):
    return DocumentKind.objects.filter(site=site, scope=DocumentKind.Scope.FAMILY, is_active=True)
