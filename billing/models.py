import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from documents.models import documents_storage
from extranet.models import Site
from extranet.money import money
from families.models import Family, Guardian
from students.models import Discipline, SchoolYear, Student


class IssuedInvoiceError(ValidationError):
    """An issued invoice or credit note never changes: correct it with a credit note."""

    def __init__(self):
        super().__init__(
            _("An issued invoice cannot be changed or deleted: make a credit note."), code="issued"
        )


def pdf_path(instance, filename):
    return f"billing/{instance.site_id}/{uuid.uuid4().hex}.pdf"


def reminder_path(instance, filename):
    return pdf_path(instance.invoice, filename)


class InvoiceQuerySet(models.QuerySet):
    def issued(self):
        return self.filter(status=Invoice.Status.ISSUED)

    # Bulk changes bypass save() and delete(): they must not reach issued
    # invoices either.
    def update(self, **kwargs):
        if set(kwargs) - {"pdf"} and self.filter(status=Invoice.Status.ISSUED).exists():
            raise IssuedInvoiceError()
        return super().update(**kwargs)

    def delete(self):
        if self.filter(status=Invoice.Status.ISSUED).exists():
            raise IssuedInvoiceError()
        return super().delete()


class Invoice(models.Model):
    """A facture, or an avoir (credit note) that corrects one. Drafts are
    edited freely; issuing numbers it without gaps, copies the names and
    addresses and freezes it."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("invoice")
        CREDIT_NOTE = "credit_note", _("credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ISSUED = "issued", _("issued")

    PREFIXES = {Kind.INVOICE: "FAC", Kind.CREDIT_NOTE: "AV"}

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="invoices"
    )
    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.PROTECT, related_name="invoices"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.INVOICE)
    status = models.CharField(
        _("status"), max_length=8, choices=Status, default=Status.DRAFT, editable=False
    )
    school_year = models.ForeignKey(
        SchoolYear,
        verbose_name=_("school year"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    label = models.CharField(
        _("label"), max_length=120, help_text=_("For example “Cotisations 2026-2027”.")
    )
    credited_invoice = models.ForeignKey(
        "self",
        verbose_name=_("invoice corrected"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        help_text=_("For a credit note: the issued invoice it corrects."),
    )
    number = models.CharField(_("number"), max_length=20, blank=True, editable=False)
    issue_date = models.DateField(_("issue date"), null=True, blank=True, editable=False)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    payer = models.ForeignKey(
        Guardian,
        verbose_name=pgettext_lazy("invoice", "payer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "With split billing, the responsable this invoice is addressed to; "
            "otherwise the family's payer."
        ),
    )
    total = models.DecimalField(
        _("total"), max_digits=10, decimal_places=2, default=0, editable=False
    )
    plan = models.ForeignKey(
        "fees.InstalmentPlan",
        verbose_name=_("instalment plan"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    # Copied at issue: the invoice keeps what it said, even if the family moves.
    family_name = models.CharField(_("family's name"), max_length=200, blank=True, editable=False)
    family_address = models.TextField(_("family's address"), blank=True, editable=False)
    site_name = models.CharField(_("site's name"), max_length=200, blank=True, editable=False)
    site_address = models.TextField(_("site's address"), blank=True, editable=False)
    pdf = models.FileField(
        _("PDF"), storage=documents_storage, upload_to=pdf_path, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-number", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "number"],
                condition=~Q(number=""),
                name="unique_invoice_number_per_site",
            ),
        ]
        indexes = [models.Index(fields=["family", "status"])]

    def __str__(self):
        return self.number or _("Draft %(kind)s: %(label)s") % {
            "kind": self.get_kind_display(),
            "label": self.label,
        }

    @property
    def is_issued(self):
        return self.status == self.Status.ISSUED

    @property
    def is_credit_note(self):
        return self.kind == self.Kind.CREDIT_NOTE

    def issued_in_database(self):
        """Asked of the database, not of this object, which may be older."""
        return (
            self.pk is not None
            and Invoice._base_manager.filter(pk=self.pk, status=self.Status.ISSUED).exists()
        )

    def save(self, *args, **kwargs):
        # Once issued, only the PDF may still be stored (it is made after
        # the commit); anything else is refused here, not just in the admin.
        if set(kwargs.get("update_fields") or ["*"]) != {"pdf"} and self.issued_in_database():
            raise IssuedInvoiceError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_issued or self.issued_in_database():
            raise IssuedInvoiceError()
        return super().delete(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.kind == self.Kind.CREDIT_NOTE:
            if self.credited_invoice_id is None:
                errors["credited_invoice"] = _("Say which issued invoice the credit note corrects.")
            elif (
                self.credited_invoice.kind != self.Kind.INVOICE
                or not self.credited_invoice.is_issued
                or self.credited_invoice.family_id != self.family_id
            ):
                errors["credited_invoice"] = _("Choose an issued invoice of the same family.")
        elif self.credited_invoice_id is not None:
            errors["credited_invoice"] = _("Only a credit note corrects an invoice.")
        if self.family_id and self.site_id and self.family.site_id != self.site_id:
            errors["family"] = _("This belongs to another site.")
        if errors:
            raise ValidationError(errors)


class InvoiceLineQuerySet(models.QuerySet):
    def _refuse_issued(self):
        if self.filter(invoice__status=Invoice.Status.ISSUED).exists():
            raise IssuedInvoiceError()

    def update(self, **kwargs):
        self._refuse_issued()
        return super().update(**kwargs)

    def delete(self):
        self._refuse_issued()
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if Invoice._base_manager.filter(
            pk__in={o.invoice_id for o in objs}, status=Invoice.Status.ISSUED
        ).exists():
            raise IssuedInvoiceError()
        return super().bulk_create(objs, *args, **kwargs)


def refuse_if_issued(invoice_id):
    """Within a transaction: wait for an issue in progress, then refuse if
    the invoice is issued."""
    status = (
        Invoice._base_manager.select_for_update(of=("self",))
        .filter(pk=invoice_id)
        .values_list("status", flat=True)
        .first()
    )
    if status == Invoice.Status.ISSUED:
        raise IssuedInvoiceError()


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines"
    )
    label = models.CharField(_("label"), max_length=200)
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    discipline = models.ForeignKey(
        Discipline,
        verbose_name=_("discipline"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    explanation = models.TextField(
        pgettext_lazy("invoice line", "explanation"),
        blank=True,
        help_text=_("How the price was computed, as families read it."),
    )
    # Where a generated line comes from: what generation compares with what is due.
    fee_item = models.ForeignKey(
        "fees.FeeItem",
        verbose_name=pgettext_lazy("invoice line", "fee item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    period = models.PositiveSmallIntegerField(
        pgettext_lazy("invoice line", "term"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Empty when billed yearly."),
    )
    band = models.CharField(
        pgettext_lazy("invoice line", "band"), max_length=10, blank=True, editable=False
    )
    zone = models.CharField(
        pgettext_lazy("invoice line", "zone"), max_length=80, blank=True, editable=False
    )
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2, default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2, editable=False)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.label

    def clean(self):
        if self.quantity is not None and self.quantity <= 0:
            raise ValidationError({"quantity": _("The quantity must be more than zero.")})
        if self.unit_price is not None and self.unit_price < 0:
            raise ValidationError(
                {"unit_price": _("A price cannot be negative: use a credit note.")}
            )
        # The invoice may not be saved yet (added with its lines in the admin).
        invoice = self.invoice if InvoiceLine.invoice.is_cached(self) else None
        student = self.student if self.student_id else None
        if student is not None and invoice is not None and student.family_id != invoice.family_id:
            raise ValidationError({"student": _("This student belongs to another family.")})

    def save(self, *args, **kwargs):
        self.unit_price = money(self.unit_price)
        self.amount = money(self.quantity * self.unit_price)
        with transaction.atomic():
            refuse_if_issued(self.invoice_id)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            refuse_if_issued(self.invoice_id)
            return super().delete(*args, **kwargs)


class PaymentMode(models.Model):
    """A mode of payment of the site's own, beside the usual ones."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="payment_modes"
    )
    name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("other payment mode")
        verbose_name_plural = _("other payment modes")
        ordering = ["site", "name"]

    def __str__(self):
        return self.name


class Payment(models.Model):
    class Mode(models.TextChoices):
        CHEQUE = "cheque", _("cheque")
        CASH = "cash", _("cash")
        ONLINE_CARD = "online_card", _("online card payment")
        DIRECT_DEBIT = "direct_debit", _("direct debit")
        TRANSFER = "transfer", _("bank transfer")
        ANCV = "ancv", _("ANCV holiday vouchers")
        OTHER = "other", _("other")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="payments"
    )
    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.PROTECT, related_name="payments"
    )
    date = models.DateField(_("date"), default=timezone.localdate)
    mode = models.CharField(_("payment mode"), max_length=14, choices=Mode)
    other_mode = models.ForeignKey(
        PaymentMode, verbose_name=_("other mode"), on_delete=models.PROTECT, null=True, blank=True
    )
    reference = models.CharField(
        _("operation number"),
        max_length=80,
        blank=True,
        help_text=_("Cheque number, bank transaction reference…"),
    )
    drawer = models.CharField(
        _("drawer"),
        max_length=120,
        blank=True,
        help_text=_("For a cheque: who signed it, when not the family itself."),
    )
    bank = models.CharField(
        _("bank"),
        max_length=80,
        blank=True,
        help_text=_("For a cheque: the bank it is drawn on."),
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    invoices = models.ManyToManyField(
        Invoice, through="Allocation", verbose_name=_("invoices"), related_name="payments"
    )
    # The slip a cheque was handed to the bank with. One slip per cheque: set
    # once, under a lock (billing/deposits.py), never changed afterwards.
    deposit = models.ForeignKey(
        "ChequeDeposit",
        verbose_name=_("deposit slip"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cheques",
        editable=False,
    )
    receipt_number = models.CharField(
        _("receipt number"), max_length=20, blank=True, editable=False
    )
    receipt_pdf = models.FileField(
        _("receipt"), storage=documents_storage, upload_to=pdf_path, blank=True, editable=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "receipt_number"],
                condition=~Q(receipt_number=""),
                name="unique_receipt_number_per_site",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(deposit__isnull=True) | Q(mode="cheque"),
                name="only_cheques_are_deposited",
            ),
        ]

    def __str__(self):
        return self.receipt_number or f"{self.get_mode_display()} {self.amount} €"

    @property
    def drawer_name(self):
        """Who signed the cheque: the drawer recorded, else the family."""
        return self.drawer or self.family.name

    @property
    def mode_label(self):
        return (
            str(self.other_mode)
            if self.mode == self.Mode.OTHER and self.other_mode
            else self.get_mode_display()
        )

    mode_label.fget.short_description = _("payment mode")  # The admin's column header.

    def clean(self):
        if self.mode == self.Mode.OTHER and not self.other_mode_id:
            raise ValidationError({"other_mode": _("Choose the mode.")})
        if self.family_id and self.site_id and self.family.site_id != self.site_id:
            raise ValidationError({"family": _("This belongs to another site.")})


class ChequeDeposit(models.Model):
    """A bordereau de remise de chèques: the cheques the régie hands to its
    bank at once, numbered without gaps per site and year (`2026REM0001`).
    Made once and never changed: a cheque that bounces later stays on it."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="cheque_deposits"
    )
    number = models.CharField(_("number"), max_length=20, editable=False)
    date = models.DateField(_("deposit date"), default=timezone.localdate)
    bank = models.CharField(
        _("bank"),
        max_length=80,
        help_text=_("Where the cheques are deposited, for example “DGFiP – Trésor public”."),
    )
    account = models.CharField(
        _("account"),
        max_length=60,
        blank=True,
        help_text=_("The régie’s account number or IBAN, as the bank asks for it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("made"), auto_now_add=True)

    class Meta:
        verbose_name = _("cheque deposit slip")
        verbose_name_plural = _("cheque deposit slips")
        ordering = ["-date", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "number"], name="unique_deposit_number_per_site"
            ),
        ]

    def __str__(self):
        return self.number


class Allocation(models.Model):
    """The part of a payment that settles an invoice."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.CASCADE, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("invoice"),
        on_delete=models.PROTECT,
        related_name="allocations",
        limit_choices_to={"status": Invoice.Status.ISSUED, "kind": Invoice.Kind.INVOICE},
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("settled invoice")
        verbose_name_plural = _("settled invoices")
        constraints = [
            models.UniqueConstraint(fields=["payment", "invoice"], name="one_allocation_per_pair"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self):
        return f"{self.invoice} – {self.amount} €"


class PaymentGateway(models.Model):
    """The site's online payment service. Secrets are never stored here: they
    come from the PAYMENT_SECRETS setting."""

    class Backend(models.TextChoices):
        PAYFIP = "payfip_ws", _("PayFiP (DGFiP)")
        SYSTEMPAY = "systempayv2", _("PayZen / SystemPay")
        DUMMY = "dummy", _("Simulated bank (development only)")

    site = models.OneToOneField(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="payment_gateway"
    )
    backend = models.CharField(_("service"), max_length=20, choices=Backend)
    options = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_(
            "The service's parameters that are not secret, for example "
            '{"numcli": "012345", "saisie": "W"} for PayFiP or '
            '{"vads_site_id": "12345678", "vads_ctx_mode": "PRODUCTION"} '
            "for PayZen."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("online payment service")
        verbose_name_plural = _("online payment services")

    def __str__(self):
        return f"{self.site} – {self.get_backend_display()}"


class OnlinePayment(models.Model):
    """A payment started on the portal: pending until the bank's server
    tells the result. Only that notification records a Payment."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PAID = "paid", _("paid")
        REFUSED = "refused", _("refused or cancelled")
        EXPIRED = "expired", _("not completed in time")
        ABANDONED = "abandoned", _("abandoned by the family")
        ANOMALY = "anomaly", _("to check: the bank's amount differs")

    # Unambiguous when read aloud or typed: no 0/O, 1/I/L, U/V.
    SHORT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.PROTECT, related_name="online_payments"
    )
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    short_reference = models.CharField(
        _("payment reference"),
        max_length=14,
        blank=True,
        editable=False,
        help_text=_("What the family reads to the secretariat, for example PAY-7K3Q-9M2X."),
    )
    backend = models.CharField(_("service"), max_length=20, choices=PaymentGateway.Backend)
    transaction_id = models.CharField(
        _("bank transaction"), max_length=120, blank=True, db_index=True
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    invoices = models.ManyToManyField(Invoice, verbose_name=_("invoices"), related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    # Where the family went to pay, while the bank lets it come back to the
    # same transaction (empty: resuming starts a new one).
    resume_url = models.URLField(max_length=500, blank=True, editable=False)
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="online_payment",
    )
    bank_data = models.JSONField(_("what the bank sent"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    expires_at = models.DateTimeField(_("abandoned after"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "short_reference"],
                condition=~Q(short_reference=""),
                name="unique_payment_reference_per_site",
            )
        ]

    def __str__(self):
        return self.short_reference or self.reference

    @classmethod
    def new_short_reference(cls, site_id):
        """`PAY-7K3Q-9M2X`, not yet used on the site."""
        while True:
            code = "".join(secrets.choice(cls.SHORT_ALPHABET) for _i in range(8))
            candidate = f"PAY-{code[:4]}-{code[4:]}"
            if not cls.objects.filter(site_id=site_id, short_reference=candidate).exists():
                return candidate


class FamilyAccount(Family):
    """A family seen from the billing side: its statement and balance."""

    class Meta:
        proxy = True
        verbose_name = _("family account")
        verbose_name_plural = _("family accounts")


class Instalment(models.Model):
    """One due date of an issued invoice's schedule (échéancier). What is
    paid covers the instalments in order; changing the plan rewrites only
    those not yet due."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="instalments"
    )
    position = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    # Set by the direct-debit side: while a debit is at the bank, the
    # instalment is neither reminded nor presented again.
    debit_pending = models.BooleanField(_("at the bank"), default=False)
    # What the family was told would be debited (pre-notification).
    notified_amount = models.DecimalField(
        _("amount notified"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    notified_on = models.DateField(_("notified on"), null=True, blank=True)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="one_instalment_per_rank"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.invoice} – {self.position}"


class Reversal(models.Model):
    """A payment that did not happen after all: a rejected direct debit, a
    bounced cheque. The payment stays as it was recorded; this line takes
    it back on the statement and what it settled is due again."""

    payment = models.OneToOneField(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="reversal"
    )
    date = models.DateField(_("date"))
    reason_code = models.CharField(_("reason code"), max_length=4, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment reversal")
        verbose_name_plural = _("payment reversals")
        ordering = ["-date", "-pk"]

    def __str__(self):
        return _("Reversal of %(payment)s") % {"payment": self.payment}


class Refund(models.Model):
    """Money given back to the family out of what a payment left unallocated
    (a late online payment of invoices paid again meanwhile, an overpayment).
    It takes that part back on the statement, as a reversal does."""

    class Mode(models.TextChoices):
        TRANSFER = "transfer", _("bank transfer")
        CARD = "card", _("refund on the bank card")
        CHEQUE = "cheque", _("cheque")
        CASH = "cash", _("cash")

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    date = models.DateField(_("date"), default=timezone.localdate)
    mode = models.CharField(_("refund mode"), max_length=10, choices=Mode)
    reference = models.CharField(
        _("operation number"),
        max_length=80,
        blank=True,
        help_text=_("Transfer or cheque number, the bank's refund reference…"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self):
        return _("Refund of %(payment)s") % {"payment": self.payment}


class ReminderPolicy(models.Model):
    """When a site reminds families of what is overdue."""

    site = models.OneToOneField(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="reminder_policy"
    )
    email_delays = models.JSONField(
        _("e-mail reminders (days overdue)"),
        default=list,
        help_text=_("For example [7, 30]: a first e-mail 7 days after the due date, then 30."),
    )
    letter_delay = models.PositiveSmallIntegerField(
        _("reminder letter (days overdue)"),
        null=True,
        blank=True,
        default=45,
        help_text=_("Then a letter for the secretariat to print. Empty: no letter."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reminder policy")
        verbose_name_plural = _("reminder policies")

    def __str__(self):
        return str(self.site)


class Reminder(models.Model):
    """A reminder sent (or a letter made) for an overdue invoice."""

    class Kind(models.TextChoices):
        EMAIL = "email", pgettext_lazy("reminder", "e-mail")
        LETTER = "letter", _("letter")

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(_("kind"), max_length=6, choices=Kind)
    level = models.PositiveSmallIntegerField(_("level"))
    amount = models.DecimalField(_("amount overdue"), max_digits=10, decimal_places=2)
    due_since = models.DateField(_("overdue since"))
    created_on = models.DateField(_("date"))
    pdf = models.FileField(
        _("letter"), storage=documents_storage, upload_to=reminder_path, blank=True, editable=False
    )
    printed_at = models.DateTimeField(_("printed"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-created_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "due_since", "kind", "level"], name="one_reminder_per_level"
            )
        ]

    def __str__(self):
        return f"{self.invoice} – {self.get_kind_display()} {self.level}"
