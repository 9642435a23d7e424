from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from documents.models import BaseDocument
from extranet.models import KeepsContentVersion, Site

from . import validators
from .nomenclatures import PCS_CHOICES


class Family(KeepsContentVersion, models.Model):
    """The household that owns the account(s) and pays."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="families"
    )
    name = models.CharField(_("name"), max_length=150)
    reference_email = models.EmailField(
        _("reference e-mail"),
        blank=True,
        help_text=_("Where the secretariat's e-mails go. One per family."),
    )
    reference_mobile = PhoneNumberField(
        _("reference mobile"),
        blank=True,
        region="FR",
        help_text=_("Where the secretariat's text messages go. One per family."),
    )
    external_ref = models.CharField(
        _("external reference"),
        max_length=64,
        blank=True,
        help_text=_("Reference of the family in the previous software, for imports."),
    )
    legacy_username = models.CharField(
        _("identifiant in the previous software"),
        max_length=150,
        blank=True,
        help_text=_("Used as the identifiant when the account is created."),
    )
    address_changed_at = models.DateTimeField(
        _("address changed on"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("A proof of address uploaded before this date no longer counts."),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    # Moved with every change of what the family's pages show, by any path
    # (families.versions): part of the keys of cached page fragments. Apart
    # from ``version``, which detects concurrent edits of the family itself.
    content_version = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["version", "content_version", "updated_at"])

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")
        ordering = ["name"]
        # The secretariat's list of a site's families, by name.
        indexes = [models.Index(fields=["site", "name", "id"], name="family_site_name_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "external_ref"],
                condition=~Q(external_ref=""),
                name="unique_family_external_ref_per_site",
            )
        ]

    def __str__(self):
        return self.name

    def contact_email(self):
        """Where the family's mail goes: its reference e-mail, else its account's."""
        if self.reference_email:
            return self.reference_email
        account = self.accounts.exclude(email="").first()
        return account.email if account else ""


class Guardian(models.Model):
    """A responsable (légal) of the family."""

    class Civility(models.TextChoices):
        MR = "M", _("Mr")
        MRS = "MME", _("Mrs")

    class MaritalStatus(models.TextChoices):
        SINGLE = "single", _("single")
        MARRIED = "married", _("married")
        CIVIL_UNION = "pacs", _("civil union (PACS)")
        COHABITING = "cohabiting", _("cohabiting")
        SEPARATED = "separated", _("separated")
        DIVORCED = "divorced", _("divorced")
        WIDOWED = "widowed", _("widowed")

    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.CASCADE, related_name="guardians"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    civility = models.CharField(_("title"), max_length=3, choices=Civility)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_name = models.CharField(_("birth name"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    birth_date = models.DateField(
        _("date of birth"), null=True, blank=True, validators=[validators.validate_adult_birth_date]
    )
    birth_place = models.CharField(_("place of birth"), max_length=100, blank=True)
    birth_department = models.CharField(
        _("department of birth"),
        max_length=3,
        blank=True,
        validators=[validators.validate_department],
        help_text=_("01 to 95, 2A, 2B, 971 to 976; 99 if born abroad."),
    )
    marital_status = models.CharField(
        _("marital status"), max_length=12, choices=MaritalStatus, blank=True
    )
    pcs = models.CharField(
        _("socio-professional category"), max_length=2, choices=PCS_CHOICES, blank=True
    )
    profession = models.CharField(_("profession"), max_length=100, blank=True)
    address_line1 = models.CharField(_("address"), max_length=150)
    address_line2 = models.CharField(_("address (continued)"), max_length=150, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=60, default="France")
    home_phone = PhoneNumberField(_("home phone"), blank=True, region="FR")
    mobile_phone = PhoneNumberField(_("mobile"), blank=True, region="FR")
    work_phone = PhoneNumberField(_("work phone"), blank=True, region="FR")
    email = models.EmailField(_("e-mail"), blank=True)
    extra_phone_1 = PhoneNumberField(_("additional phone 1"), blank=True, region="FR")
    extra_phone_1_label = models.CharField(
        _("label of additional phone 1"), max_length=40, blank=True
    )
    extra_phone_2 = PhoneNumberField(_("additional phone 2"), blank=True, region="FR")
    extra_phone_2_label = models.CharField(
        _("label of additional phone 2"), max_length=40, blank=True
    )
    extra_phone_3 = PhoneNumberField(_("additional phone 3"), blank=True, region="FR")
    extra_phone_3_label = models.CharField(
        _("label of additional phone 3"), max_length=40, blank=True
    )
    is_payer = models.BooleanField(_("pays the invoices"), default=False)
    invoice_share = models.PositiveSmallIntegerField(
        _("share of the invoices (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "Split billing (for example separated parents): each payer's percentage; "
            "the shares of a family add up to 100. Empty: one payer pays everything."
        ),
    )
    external_ref = models.CharField(
        _("external reference"), max_length=64, blank=True, db_index=True
    )
    lives_elsewhere = models.BooleanField(
        _("lives at another address"),
        default=False,
        help_text=_("For example separated parents, each with their own address."),
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["version"])

    ADDRESS_FIELDS = ["address_line1", "address_line2", "postal_code", "city", "country"]

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.get_civility_display()} {self.first_name} {self.last_name}".strip()

    def clean(self):
        validators.validate_postal_code(self.postal_code, self.country)

    @property
    def extra_phones(self):
        return [
            (label, phone)
            for phone, label in [
                (self.extra_phone_1, self.extra_phone_1_label),
                (self.extra_phone_2, self.extra_phone_2_label),
                (self.extra_phone_3, self.extra_phone_3_label),
            ]
            if phone
        ]


class FamilyDocument(BaseDocument):
    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.CASCADE, related_name="documents"
    )

    storage_folder = "families"

    class Meta(BaseDocument.Meta):
        verbose_name = _("family document")
        verbose_name_plural = _("family documents")
        indexes = [models.Index(fields=["status", "uploaded_at"])]

    @property
    def owner(self):
        return self.family

    def get_portal_path(self):
        return reverse("families:family")

    def get_download_path(self):
        return reverse("families:document", args=[self.pk])

    def get_replace_path(self):
        return reverse("families:document_replace", args=[self.pk])
