import uuid
from datetime import date, timedelta
from pathlib import PurePath

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from extranet.models import Site
from extranet.storage import lazy_storage


class DocumentKind(models.Model):
    """A kind of pièce justificative a site asks for, with its validity rule."""

    class Scope(models.TextChoices):
        FAMILY = "family", _("family")
        STUDENT = "student", _("student")

    class Validity(models.TextChoices):
        PERMANENT = "permanent", _("no expiry")
        MONTHS = "months", _("a number of months after upload")
        SCHOOL_YEAR = "school_year", _("the school year of upload")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="document_kinds"
    )
    name = models.CharField(_("name"), max_length=100)
    help_text = models.CharField(_("explanation for families"), max_length=250, blank=True)
    scope = models.CharField(_("concerns"), max_length=10, choices=Scope, default=Scope.FAMILY)
    required = models.BooleanField(_("required"), default=False)
    proves_address = models.BooleanField(
        _("proof of address"),
        default=False,
        help_text=_("Asked again whenever a guardian's address changes."),
    )
    proves_income = models.BooleanField(
        _("proof of income"),
        default=False,
        help_text=_("The tax notice used for the quotient familial"),
    )
    validity = models.CharField(
        _("valid for"), max_length=12, choices=Validity, default=Validity.PERMANENT
    )
    validity_months = models.PositiveSmallIntegerField(
        _("months of validity"), default=3, help_text=_("When valid for a number of months.")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("document kind")
        verbose_name_plural = _("document kinds")
        ordering = ["site", "position", "name"]

    def __str__(self):
        return self.name

    def expires_on(self, uploaded_on: date):
        """The first day the document no longer counts, or None."""
        if self.validity == self.Validity.MONTHS:
            return uploaded_on + relativedelta(months=self.validity_months)
        if self.validity == self.Validity.SCHOOL_YEAR:
            start = settings.SCHOOL_YEAR_START_MONTH
            year = uploaded_on.year + (1 if uploaded_on.month >= start else 0)
            return date(year, start, 1)
        return None

    def valid_since(self, day: date):
        """The first upload day whose document still counts on `day`, or None
        when documents of this kind never expire.

        Expiry grows with the upload day, so "expired on `day`" is exactly
        "uploaded before this date": the rule the database filters use too.
        """
        if self.validity == self.Validity.PERMANENT:
            return None
        if self.validity == self.Validity.SCHOOL_YEAR:
            start = settings.SCHOOL_YEAR_START_MONTH
            return date(day.year - (0 if day.month >= start else 1), start, 1)
        # Month lengths differ: start a few days early and step to the first
        # upload day whose expiry is still to come.
        since = day - relativedelta(months=self.validity_months) - timedelta(days=4)
        while self.expires_on(since) <= day:
            since += timedelta(days=1)
        return since


_documents_storage = lazy_storage("documents")


def documents_storage():
    return _documents_storage


def document_path(instance, filename):
    # Unguessable, and nothing from the family's file name.
    return f"{instance.storage_folder}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class BaseDocument(models.Model):
    """An uploaded pièce justificative; each concrete model gives its owner."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To be checked")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")

    kind = models.ForeignKey(DocumentKind, verbose_name=_("kind"), on_delete=models.PROTECT)
    file = models.FileField(_("file"), storage=documents_storage, upload_to=document_path)
    original_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    storage_folder = "documents"

    class Meta:
        abstract = True
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return f"{self.kind} – {self.original_name}"

    @property
    def expires_on(self):
        return self.kind.expires_on(timezone.localdate(self.uploaded_at))

    # Each concrete model also gives `family`, `owner` (who the document is
    # about), the portal page where the family sends it again and its
    # download address.
    def get_portal_path(self):
        raise NotImplementedError

    def get_download_path(self):
        raise NotImplementedError

    @property
    def is_expired(self):
        since = self.kind.valid_since(timezone.localdate())
        return since is not None and timezone.localdate(self.uploaded_at) < since
