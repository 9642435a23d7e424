"""The family's documents: what it still owes, on its page and in SQL."""

from django.db.models import OuterRef

from documents.checklist import asked_kinds, checklist, owes, this_year, uploadable_kinds
from documents.models import DocumentKind

from .models import FamilyDocument

FAMILY = DocumentKind.Scope.FAMILY


def family_checklist(family, period=None, extra=None):
    """Without `extra` (the Famille tab): every kind the site takes, the
    required ones owed. With `extra` (a re-enrollment): the kinds asked."""
    if extra is None:
        kinds = list(uploadable_kinds(family.site_id, FAMILY))
        asked_ids = {kind.pk for kind in kinds if kind.required}
    else:
        kinds = list(asked_kinds(family.site_id, FAMILY, extra))
        asked_ids = None
    documents = FamilyDocument.objects.filter(family=family).select_related("kind")
    return checklist(kinds, documents, period or this_year(), family.address_changed_at, asked_ids)


def family_owes(family="pk", period=None, **kwargs):
    """`Exists()` for a query whose `family` path leads to the family: true
    when it owes a document the family's page would show as to send."""
    prefix = "" if family == "pk" else f"{family}__"
    return owes(
        FamilyDocument.objects.filter(family=OuterRef(OuterRef(family))),
        site=OuterRef(f"{prefix}site"),
        scope=FAMILY,
        period=period or this_year(),
        address_changed_at=OuterRef(f"{prefix}address_changed_at"),
        **kwargs,
    )
