"""SEPA direct debit (prélèvement): the site as creditor, the families'
mandates signed online, the bank files and what the bank returns."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models import Instalment, Payment
from documents.models import documents_storage
from extranet.models import Site
from families.models import Family


def file_path(instance, filename):
    return f"directdebit/{instance.site_id}/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


class Creditor(models.Model):
    """The régie as SEPA creditor: its ICS and the account debits are paid
    into."""

    site = models.OneToOneField(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="creditor"
    )
    name = models.CharField(
        _("creditor's name"), max_length=70, help_text=_("As printed on the mandate.")
    )
    address = models.TextField(_("creditor's address"))
    ics = models.CharField(
        _("creditor identifier (ICS)"),
        max_length=35,
        help_text=_("Identifiant créancier SEPA, for example FR12ZZZ123456."),
    )
    iban = models.CharField(_("IBAN of the account credited"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11)
    prenotice_days = models.PositiveSmallIntegerField(
        _("pre-notification (days)"),
        default=14,
        validators=[MinValueValidator(2), MaxValueValidator(30)],
        help_text=_("Families are told dates and amounts this many days before a debit."),
    )
    rejection_fee = models.DecimalField(
        _("fee for a rejected debit"),
        max_digits=8,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Billed to the family for each rejection; 0 for none."),
    )

    class Meta:
        verbose_name = _("SEPA creditor")
        verbose_name_plural = _("SEPA creditors")

    def __str__(self):
        return f"{self.name} ({self.ics})"

    def clean(self):
        from .banking import check_creditor

        check_creditor(self)


class Mandate(models.Model):
    """A family's SEPA Core mandate: signed online with a one-time code,
    amended when the IBAN changes (same RUM), revoked by the family or lapsed
    after 36 months without a debit."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting the code")
        ACTIVE = "active", _("active")
        REVOKED = "revoked", _("revoked")
        LAPSED = "lapsed", _("lapsed (36 months unused)")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.PROTECT, related_name="mandates"
    )
    rum = models.CharField(_("mandate reference (RUM)"), max_length=35, editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status, default=Status.PENDING, editable=False
    )
    holder_name = models.CharField(_("account holder"), max_length=70)
    holder_address = models.TextField(_("holder's address"))
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11)
    # Before the first bank file after an amendment: what the bank knew.
    original_iban = models.CharField(_("previous IBAN"), max_length=34, blank=True, editable=False)
    original_bic = models.CharField(_("previous BIC"), max_length=11, blank=True, editable=False)
    amended_at = models.DateTimeField(_("amended"), null=True, blank=True, editable=False)
    # The one-time code, hashed; a new code replaces the previous one.
    code_hash = models.CharField(max_length=128, blank=True, editable=False)
    code_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    code_tries = models.PositiveSmallIntegerField(default=0, editable=False)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    signed_from = models.GenericIPAddressField(_("signed from"), null=True, blank=True)
    last_debit_on = models.DateField(_("last debit"), null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, editable=False)
    pdf = models.FileField(
        _("signed mandate"),
        storage=documents_storage,
        upload_to=file_path,
        blank=True,
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("SEPA mandate")
        verbose_name_plural = _("SEPA mandates")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["site", "rum"], name="unique_rum_per_creditor"),
            models.UniqueConstraint(
                fields=["family"],
                condition=Q(status="active"),
                name="one_active_mandate_per_family",
            ),
        ]

    def __str__(self):
        return self.rum

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE

    @property
    def iban_masked(self):
        from .banking import masked

        return masked(self.iban)


class Batch(models.Model):
    """A remise de prélèvements: the pain.008 file sent to the bank for one
    collection date. Kept as it was written, downloaded again as it is."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    collection_date = models.DateField(_("collection date"))
    message_id = models.CharField(_("message id"), max_length=35, unique=True, editable=False)
    count = models.PositiveIntegerField(_("debits"), default=0, editable=False)
    total = models.DecimalField(
        _("total"), max_digits=12, decimal_places=2, default=0, editable=False
    )
    file = models.FileField(
        _("pain.008 file"),
        storage=documents_storage,
        upload_to=file_path,
        blank=True,
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("prepared"), auto_now_add=True)
    collected_at = models.DateTimeField(
        _("payments recorded"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("direct debit batch")
        verbose_name_plural = _("direct debit batches")
        ordering = ["-collection_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "collection_date"], name="one_batch_per_collection_date"
            )
        ]

    def __str__(self):
        return _("Debits of %(date)s") % {"date": self.collection_date}


class Debit(models.Model):
    """One instalment presented to the bank under a mandate."""

    class Sequence(models.TextChoices):
        FIRST = "FRST", _("first")
        RECURRENT = "RCUR", _("recurrent")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("sent to the bank")
        COLLECTED = "collected", _("collected")
        REJECTED = "rejected", _("rejected")

    batch = models.ForeignKey(
        Batch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="debits"
    )
    mandate = models.ForeignKey(
        Mandate, verbose_name=_("mandate"), on_delete=models.PROTECT, related_name="debits"
    )
    instalment = models.ForeignKey(
        Instalment, verbose_name=_("instalment"), on_delete=models.PROTECT, related_name="debits"
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, unique=True)
    sequence = models.CharField(_("sequence type"), max_length=4, choices=Sequence)
    # The amendment reported with this debit, as it was written in the file.
    amendment = models.JSONField(_("amendment"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=9, choices=Status, default=Status.SUBMITTED)
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="debit",
    )
    rejected_on = models.DateField(_("rejected on"), null=True, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=4, blank=True)

    class Meta:
        verbose_name = _("direct debit")
        verbose_name_plural = _("direct debits")
        ordering = ["batch", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="debit_amount_positive"),
        ]

    def __str__(self):
        return self.end_to_end_id


class ReturnFile(models.Model):
    """A camt.054 the secretariat imported: what it said and what was done."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("file name"), max_length=200)
    message_id = models.CharField(_("message id"), max_length=35, blank=True)
    report = models.JSONField(_("report"), default=dict)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("bank return file")
        verbose_name_plural = _("bank return files")
        ordering = ["-imported_at"]

    def __str__(self):
        return self.name
