import io
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from extranet import tables
from extranet.admin_scoping import SiteScopedAdmin, SiteScopedInlineMixin, staff_site_id
from extranet.formatting import eur
from extranet.money import money
from extranet.responses import base_url, private_file, serve_stored_file
from fees.models import FeeGrid

from . import ledger
from .admin_deposits import DepositFilter, make_deposit_slip
from .debtors import overdue_amounts
from .generation import GenerationError, generate, periods_of, report
from .models import (
    Allocation,
    FamilyAccount,
    Invoice,
    InvoiceLine,
    OnlinePayment,
    Payment,
    PaymentGateway,
    PaymentMode,
    Refund,
)
from .pdfs import draft_preview_pdf, ensure_invoice_pdf
from .statement import reversal_of, statement
from .treasury import treasury_headers, treasury_rows


class InvoiceLineForm(forms.ModelForm):
    """Narrow widgets: the whole line, up to its amount, fits a 1280 px
    screen beside the admin's menu (sizes in static/css/billing-admin.css)."""

    class Meta:
        model = InvoiceLine
        fields = "__all__"
        widgets = {
            "position": forms.NumberInput(attrs={"class": "billing-line-position"}),
            "label": forms.TextInput(attrs={"class": "billing-line-label"}),
            "explanation": forms.Textarea(attrs={"class": "billing-line-explanation", "rows": 2}),
            "quantity": forms.NumberInput(attrs={"class": "billing-line-number", "step": "any"}),
            "unit_price": forms.NumberInput(attrs={"class": "billing-line-number", "step": "0.01"}),
        }


class LabelledFieldsFormSet(forms.BaseInlineFormSet):
    """A tabular inline shows its labels as column headers only: each field
    is named for screen readers too."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for field in form.fields.values():
            if not field.widget.is_hidden and field.label:
                # The admin wraps related fields' widgets; the wrapped one renders
                # (the wrapper's attrs are not the copy's, on the first form).
                widget = getattr(field.widget, "widget", field.widget)
                widget.attrs.setdefault("aria-label", str(field.label))


class InvoiceLineInline(SiteScopedInlineMixin, admin.TabularInline):
    model = InvoiceLine
    form = InvoiceLineForm
    formset = LabelledFieldsFormSet
    extra = 1
    classes = ["billing-lines"]
    fields = [
        "position",
        "label",
        "explanation",
        "student",
        "discipline",
        "quantity",
        "unit_price",
        "amount_display",
    ]
    readonly_fields = ["amount_display"]

    @admin.display(description=_("amount"))
    def amount_display(self, line):
        return eur(line.amount) if line.pk else "–"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        # Without the add/change/view icons beside the student and the
        # discipline: a line's row has no room for them.
        if field is not None and isinstance(field.widget, RelatedFieldWidgetWrapper):
            field.widget = field.widget.widget
        return field

    # An issued invoice's lines are read, never changed.
    def has_add_permission(self, request, obj=None):
        return (obj is None or not obj.is_issued) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or not obj.is_issued) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_issued) and super().has_delete_permission(request, obj)


class GridPeriodForm(forms.Form):
    """A site's fee grid and, for a grid billed per term, one term or all."""

    grid = forms.ModelChoiceField(
        label=pgettext_lazy("generation", "Fee grid"), queryset=FeeGrid.objects.none()
    )
    period = forms.TypedChoiceField(
        label=pgettext_lazy("generation", "Period"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", pgettext_lazy("generation", "The year, or every term")),
            (1, pgettext_lazy("generation", "1st term")),
            (2, pgettext_lazy("generation", "2nd term")),
            (3, pgettext_lazy("generation", "3rd term")),
        ],
    )

    def __init__(self, *args, site_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        grids = FeeGrid.objects.select_related("site", "school_year")
        if site_id is not None:
            grids = grids.filter(site_id=site_id)
        self.fields["grid"].queryset = grids
        self.fields["grid"].label_from_instance = lambda grid: f"{grid.site} – {grid}"

    def clean(self):
        cleaned = super().clean()
        grid = cleaned.get("grid")
        if grid is not None:
            try:
                periods_of(grid, cleaned.get("period"))
            except GenerationError as error:
                self.add_error("period", str(error))
        return cleaned


class TreasuryForm(GridPeriodForm):
    format = forms.ChoiceField(
        label=pgettext_lazy("generation", "Format"),
        choices=[("xlsx", "Excel"), ("csv", "CSV")],
        initial="xlsx",
    )


class PastDueFilter(admin.SimpleListFilter):
    title = _("payment")
    parameter_name = "reglement"

    def lookups(self, request, model_admin):
        return [("unpaid", _("left to pay")), ("past_due", _("left to pay, past due"))]

    def queryset(self, request, queryset):
        if self.value() not in {"unpaid", "past_due"}:
            return queryset
        # The admin's queryset carries what is paid and credited on each invoice.
        queryset = (
            queryset.issued()
            .filter(kind=Invoice.Kind.INVOICE)
            .alias(left=F("total") - F("paid") - F("credited"))
            .filter(left__gt=0)
        )
        if self.value() == "past_due":
            queryset = queryset.filter(due_date__lt=timezone.localdate())
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    """Overdue as the reminders and the debtors list count it: instalments
    fallen due included."""

    title = _("overdue")
    parameter_name = "retard"

    def lookups(self, request, model_admin):
        return [("yes", _("overdue (instalments included)"))]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        overdue = overdue_amounts(staff_site_id(request), timezone.localdate())
        return queryset.filter(pk__in=list(overdue))


@admin.register(Invoice)
class InvoiceAdmin(SiteScopedAdmin):
    list_display = [
        "__str__",
        "family",
        "kind",
        "label",
        "status",
        "issue_date",
        "due_date",
        "total_display",
        "left_to_pay",
    ]
    list_filter = [
        "status",
        "kind",
        PastDueFilter,
        OverdueFilter,
        ("school_year", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["family"]
    change_list_template = "admin/billing/invoice/change_list.html"
    change_form_template = "admin/billing/invoice/change_form.html"
    search_fields = ["number", "family__name", "label"]
    autocomplete_fields = ["family"]
    date_hierarchy = "issue_date"
    inlines = [InvoiceLineInline]
    actions = ["issue_invoices", "make_credit_note", "export_csv", "export_xlsx"]
    fields = [
        "site",
        "family",
        "kind",
        "credited_invoice",
        "school_year",
        "label",
        "due_date",
        "number",
        "status",
        "issue_date",
        "total",
        "family_name",
        "family_address",
        "pdf_link",
    ]
    readonly_fields = [
        "number",
        "status",
        "issue_date",
        "total",
        "family_name",
        "family_address",
        "pdf_link",
    ]

    class Media:
        css = {"all": ["css/billing-admin.css"]}

    def get_queryset(self, request):
        return ledger.remaining_of(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_issued:
            return self.fields
        return self.readonly_fields

    # Issued: shown, never saved again (the model would refuse anyway).
    def has_change_permission(self, request, obj=None):
        return (obj is None or not obj.is_issued) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_issued) and super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        issued = queryset.filter(status=Invoice.Status.ISSUED).count()
        queryset.filter(status=Invoice.Status.DRAFT).delete()
        if issued:
            self.message_user(
                request,
                ngettext(
                    "%(count)d issued invoice was kept: an issued invoice is corrected by a credit "
                    "note.",
                    "%(count)d issued invoices were kept: an issued invoice is corrected by "
                    "a credit note.",
                    issued,
                )
                % {"count": issued},
                messages.WARNING,
            )

    def save_model(self, request, obj, form, change):
        if staff_site_id(request) is None and obj.family_id:
            obj.site_id = obj.family.site_id
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        invoice = form.instance
        if not invoice.is_issued:  # The draft's total follows its lines.
            invoice.total = money(invoice.lines.aggregate(s=Sum("amount"))["s"] or 0)
            invoice.save(update_fields=["total"])

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, invoice):
        return eur(invoice.total)

    @admin.display(description=_("left to pay"))
    def left_to_pay(self, invoice):
        if not invoice.is_issued or invoice.kind != Invoice.Kind.INVOICE:
            return "–"
        return eur(ledger.remaining(invoice))

    # What the family sees of an issued invoice is its PDF (its page on the
    # portal is the family's only); a draft is seen nowhere else.
    def view_on_site(self, invoice):
        if not invoice.is_issued:
            return None
        return reverse("admin:billing_invoice_pdf", args=[invoice.pk])

    @admin.display(description=_("PDF"))
    def pdf_link(self, invoice):
        if invoice.pk is None:
            return "–"
        return render_to_string("admin/billing/invoice/pdf_link.html", {"invoice": invoice})

    # « Émettre » on the draft's own page: saved first, then confirmed.
    def response_add(self, request, obj, post_url_continue=None):
        if "_issue" in request.POST:
            return redirect("admin:billing_invoice_issue", obj.pk)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_issue" in request.POST:
            return redirect("admin:billing_invoice_issue", obj.pk)
        return super().response_change(request, obj)

    def get_urls(self):
        return [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="billing_invoice_pdf",
            ),
            path(
                "<int:pk>/issue/",
                self.admin_site.admin_view(self.issue_view),
                name="billing_invoice_issue",
            ),
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="billing_invoice_preview",
            ),
            path(
                "generate/",
                self.admin_site.admin_view(self.generate_view),
                name="billing_invoice_generate",
            ),
            path(
                "treasury/",
                self.admin_site.admin_view(self.treasury_view),
                name="billing_invoice_treasury",
            ),
            *super().get_urls(),
        ]

    def generate_view(self, request):
        """The drafts of a fee grid's period: a preview (a dry run), then the
        generation itself. Issuing them stays a separate act."""
        if not (self.has_add_permission(request) and self.has_delete_permission(request)):
            raise PermissionDenied
        form = GridPeriodForm(request.POST or None, site_id=staff_site_id(request))
        summary = None
        if request.method == "POST" and form.is_valid():
            grid, period = form.cleaned_data["grid"], form.cleaned_data["period"]
            if "confirm" in request.POST:
                summary = generate(grid, period)
                for line in report(summary):
                    self.message_user(request, line, messages.INFO)
                return redirect("admin:billing_invoice_changelist")
            summary = generate(grid, period, dry_run=True)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": pgettext("generation", "Generate the invoices"),
            "form": form,
            "summary": summary,
            "report": report(summary) if summary else [],
        }
        return TemplateResponse(request, "admin/billing/invoice/generate.html", context)

    def treasury_view(self, request):
        """Amounts per fee item, band and zone of a grid's period, from the
        issued invoices and credit notes."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TreasuryForm(request.GET or None, site_id=staff_site_id(request))
        if form.is_valid():
            grid, period = form.cleaned_data["grid"], form.cleaned_data["period"]
            name = f"tresorerie-{grid.site.slug}-{grid.school_year.name}"
            if period:
                name += f"-t{period}"
            rows = treasury_rows(grid, period)
            if form.cleaned_data["format"] == "csv":
                return tables.csv_response(name, treasury_headers(), rows)
            return tables.xlsx_response(
                name, pgettext("generation", "Treasury"), treasury_headers(), rows
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": pgettext("generation", "Export for the treasury"),
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/invoice/treasury.html", context)

    def pdf_view(self, request, pk):
        invoice = get_object_or_404(self.get_queryset(request).issued(), pk=pk)
        invoice = ensure_invoice_pdf(invoice)
        return serve_stored_file(
            invoice.pdf, f"{invoice.number}.pdf", "application/pdf", as_attachment=False
        )

    def preview_view(self, request, pk):
        """The draft's PDF marked « Brouillon », for the secretariat's eyes:
        rendered each time, never stored nor sent."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(
            self.get_queryset(request).filter(status=Invoice.Status.DRAFT), pk=pk
        )
        return private_file(
            io.BytesIO(draft_preview_pdf(invoice)),
            f"brouillon-{invoice.pk}.pdf",
            "application/pdf",
            as_attachment=False,
        )

    def issue_view(self, request, pk):
        """« Émettre » one draft: what it will say, then (POST) the same
        issuing as the list's action, and the issued invoice."""
        invoice = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request):
            raise PermissionDenied
        if invoice.is_issued:
            self.message_user(
                request,
                gettext("%(number)s is already issued.") % {"number": invoice.number},
                messages.INFO,
            )
            return redirect("admin:billing_invoice_change", invoice.pk)
        if request.method == "POST":
            self.issue_drafts(request, [invoice])
            return redirect("admin:billing_invoice_change", invoice.pk)
        lines = list(invoice.lines.select_related("student", "discipline"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Issue the draft"),
            "invoice": invoice,
            "original": invoice,
            "lines": lines,
            "total": money(sum((line.amount for line in lines), Decimal(0))),
        }
        return TemplateResponse(request, "admin/billing/invoice/issue.html", context)

    def issue_drafts(self, request, invoices):
        """Issue each draft, saying how many were issued and why any was not."""
        issued, refused = 0, []
        for invoice in invoices:
            try:
                ledger.issue(invoice, base_url=base_url(request))
                issued += 1
            except ValidationError as error:
                refused.append(
                    gettext("%(invoice)s: %(reasons)s")
                    % {"invoice": invoice, "reasons": " ".join(error.messages)}
                )
        if issued or not refused:
            self.message_user(
                request,
                ngettext("%(count)d invoice issued.", "%(count)d invoices issued.", issued)
                % {"count": issued},
                messages.SUCCESS,
            )
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description=_("Issue the selected drafts"), permissions=["change"])
    def issue_invoices(self, request, queryset):
        self.issue_drafts(request, queryset.filter(status=Invoice.Status.DRAFT).order_by("pk"))

    @admin.action(description=_("Make a credit note for the selected invoice"), permissions=["add"])
    def make_credit_note(self, request, queryset):
        invoices = list(queryset.issued().filter(kind=Invoice.Kind.INVOICE)[:2])
        if len(invoices) != 1:
            self.message_user(request, gettext("Select one issued invoice."), messages.ERROR)
            return None
        try:
            note = ledger.make_credit_note(invoices[0])
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        self.message_user(
            request,
            gettext("Draft credit note made: adjust its lines to what is credited, then issue it."),
            messages.SUCCESS,
        )
        return redirect("admin:billing_invoice_change", note.pk)

    def export_rows(self, queryset):
        for invoice in queryset.issued().select_related("family").order_by("issue_date", "number"):
            sign = -1 if invoice.kind == Invoice.Kind.CREDIT_NOTE else 1
            yield [
                invoice.number,
                date_format(invoice.issue_date, "SHORT_DATE_FORMAT"),
                invoice.get_kind_display(),
                invoice.family_name,
                invoice.family.name,
                invoice.label,
                sign * invoice.total,
                ledger.remaining(invoice) if sign > 0 else Decimal(0),
            ]

    def export_headers(self):
        return [
            gettext("Number"),
            gettext("Issue date"),
            gettext("Kind"),
            gettext("Payer"),
            gettext("Family"),
            gettext("Label"),
            gettext("Amount"),
            gettext("Left to pay"),
        ]

    @admin.action(description=_("Export the selected issued invoices (CSV)"), permissions=["view"])
    def export_csv(self, request, queryset):
        return tables.csv_response(
            f"factures-{timezone.localdate():%Y-%m-%d}",
            self.export_headers(),
            self.export_rows(queryset),
        )

    @admin.action(
        description=_("Export the selected issued invoices (Excel)"), permissions=["view"]
    )
    def export_xlsx(self, request, queryset):
        return tables.xlsx_response(
            f"factures-{timezone.localdate():%Y-%m-%d}",
            gettext("Invoices"),
            self.export_headers(),
            self.export_rows(queryset),
        )


class AllocationFormSet(LabelledFieldsFormSet):
    def clean(self):
        super().clean()
        payment = self.instance
        total = Decimal(0)
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            invoice, amount = form.cleaned_data.get("invoice"), form.cleaned_data.get("amount")
            if invoice is None or amount is None:
                continue  # The field's own error says why.
            if payment.family_id and invoice.family_id != payment.family_id:
                form.add_error("invoice", _("This invoice belongs to another family."))
                continue
            current = ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get()
            if amount > ledger.remaining(current):
                form.add_error(
                    "amount",
                    _("Only %(left)s left to pay on this invoice.")
                    % {"left": eur(ledger.remaining(current))},
                )
            total += amount
        if payment.amount is not None and total > payment.amount:
            raise ValidationError(_("The invoices settled add up to more than the payment."))


class AllocationInline(SiteScopedInlineMixin, admin.TabularInline):
    model = Allocation
    formset = AllocationFormSet
    extra = 2
    autocomplete_fields = ["invoice"]

    # Settled once, when the payment is recorded.
    def has_add_permission(self, request, obj=None):
        return obj is None and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class ReversedFilter(admin.SimpleListFilter):
    title = _("reversal")
    parameter_name = "rejete"

    def lookups(self, request, model_admin):
        return [("yes", _("reversed (rejected)")), ("no", _("not reversed"))]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(reversal__isnull=self.value() == "no")
        return queryset


@admin.register(Payment)
class PaymentAdmin(SiteScopedAdmin):
    """A payment is recorded once, with its receipt; a mistake is corrected
    by the accounting office, not by editing the payment. A payment that did
    not happen after all (a rejected debit) keeps its row: its reversal is
    shown beside it."""

    list_display = [
        "receipt_number",
        "date",
        "family",
        "mode_label",
        "reference",
        "amount_display",
        "reversal_display",
        "deposit",
    ]
    list_filter = [
        "mode",
        DepositFilter,
        ReversedFilter,
        ("other_mode", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["family", "other_mode", "reversal", "deposit"]
    search_fields = ["receipt_number", "reference", "family__name"]
    autocomplete_fields = ["family"]
    date_hierarchy = "date"
    inlines = [AllocationInline]
    fields = [
        "site",
        "family",
        "date",
        "mode",
        "other_mode",
        "reference",
        "drawer",
        "bank",
        "amount",
        "receipt_number",
        "recorded_by",
        "reversal_display",
        "deposit",
    ]
    readonly_fields = ["receipt_number", "recorded_by", "reversal_display", "deposit"]
    actions = [make_deposit_slip, "export_csv", "export_xlsx"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def has_deposit_permission(self, request):
        return request.user.has_perm("billing.add_chequedeposit")

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, payment):
        return eur(payment.amount)

    @admin.display(description=_("reversal"))
    def reversal_display(self, payment):
        reversal = reversal_of(payment) if payment.pk else None
        if reversal is None:
            return "–"
        return _("Rejected on %(date)s: %(reason)s") % {
            "date": date_format(reversal.date, "SHORT_DATE_FORMAT"),
            "reason": " ".join(filter(None, [reversal.reason_code, reversal.reason])),
        }

    def save_model(self, request, obj, form, change):
        pass  # Recorded with its allocations, in save_related.

    def save_related(self, request, form, formsets, change):
        if change:
            return
        payment = form.instance
        allocations = [
            (f.cleaned_data["invoice"], f.cleaned_data["amount"])
            for formset in formsets
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        saved = ledger.record_payment(
            payment.family,
            payment.amount,
            payment.mode,
            allocations,
            user=request.user,
            reference=payment.reference,
            drawer=payment.drawer,
            bank=payment.bank,
            date=payment.date,
            other_mode=payment.other_mode,
            base_url=base_url(request),
        )
        payment.pk = saved.pk
        payment.receipt_number = saved.receipt_number
        for formset in formsets:  # For the admin's log of what was added.
            formset.new_objects = list(saved.allocations.all())
            formset.changed_objects, formset.deleted_objects = [], []

    def export_rows(self, queryset):
        payments = queryset.select_related("family", "other_mode", "reversal")
        for payment in payments.order_by("date", "pk"):
            reversal = reversal_of(payment)
            yield [
                payment.receipt_number,
                date_format(payment.date, "SHORT_DATE_FORMAT"),
                payment.family.name,
                payment.mode_label,
                payment.reference,
                date_format(reversal.date, "SHORT_DATE_FORMAT") if reversal else "",
                payment.amount,
            ]

    def export_headers(self):
        return [
            gettext("Receipt"),
            gettext("Date"),
            gettext("Family"),
            gettext("Payment mode"),
            gettext("Operation number"),
            gettext("Reversed on"),
            gettext("Amount"),
        ]

    @admin.action(description=_("Export the selected payments (CSV)"), permissions=["view"])
    def export_csv(self, request, queryset):
        return tables.csv_response(
            f"reglements-{timezone.localdate():%Y-%m-%d}",
            self.export_headers(),
            self.export_rows(queryset),
        )

    @admin.action(description=_("Export the selected payments (Excel)"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return tables.xlsx_response(
            f"reglements-{timezone.localdate():%Y-%m-%d}",
            gettext("Payments"),
            self.export_headers(),
            self.export_rows(queryset),
        )


@admin.register(PaymentMode)
class PaymentModeAdmin(SiteScopedAdmin):
    list_display = ["name", "site", "is_active"]


class PaymentGatewayForm(forms.ModelForm):
    class Meta:
        model = PaymentGateway
        fields = ["site", "backend", "options", "is_active"]

    # What the secretariat may set: never an address where card forms or
    # notifications would go.
    ALLOWED = {
        PaymentGateway.Backend.PAYFIP: {"numcli", "saisie"},
        PaymentGateway.Backend.SYSTEMPAY: {
            "vads_site_id",
            "vads_ctx_mode",
            "signature_algo",
            "vads_payment_cards",
            "vads_language",
        },
        PaymentGateway.Backend.DUMMY: set(),
    }

    def clean(self):
        cleaned = super().clean()
        backend, options = cleaned.get("backend"), cleaned.get("options") or {}
        if backend and isinstance(options, dict):
            unknown = sorted(set(options) - self.ALLOWED.get(backend, set()))
            if unknown and "options" not in self.errors:
                self.add_error(
                    "options",
                    _("Not a parameter of this service: %(keys)s.") % {"keys": ", ".join(unknown)},
                )
        return cleaned

    def clean_options(self):
        options = self.cleaned_data["options"] or {}
        if not isinstance(options, dict):
            raise ValidationError(_("Give the parameters as a JSON object."))
        secret = [
            key
            for key in options
            if "secret" in key.lower() or "key" in key.lower() or "password" in key.lower()
        ]
        if secret:
            raise ValidationError(
                _(
                    "Secrets (%(keys)s) are not kept here: give them to the "
                    "server administrator for the PAYMENT_SECRETS setting."
                )
                % {"keys": ", ".join(secret)}
            )
        return options

    def clean_backend(self):
        backend = self.cleaned_data["backend"]
        if backend == PaymentGateway.Backend.DUMMY and not settings.PAYMENT_SIMULATOR:
            raise ValidationError(_("The simulated bank is only available in development."))
        return backend


@admin.register(PaymentGateway)
class PaymentGatewayAdmin(SiteScopedAdmin):
    form = PaymentGatewayForm
    list_display = ["site", "backend", "is_active"]


class ReadOnlyAdmin(SiteScopedAdmin):
    """Shown to the secretariat, written only by the portal itself."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OnlinePayment)
class OnlinePaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "short_reference",
        "family",
        "amount",
        "status",
        "created_at",
        "completed_at",
        "payment",
    ]
    list_filter = ["status", "backend"]
    search_fields = ["short_reference", "reference", "transaction_id", "family__name"]
    list_select_related = ["family", "payment"]


class RefundForm(forms.ModelForm):
    class Meta:
        model = Refund
        fields = ["payment", "amount", "date", "mode", "reference"]

    def clean(self):
        cleaned = super().clean()
        payment, amount = cleaned.get("payment"), cleaned.get("amount")
        if payment is None or amount is None:
            return cleaned
        current = ledger.with_unallocated(Payment.objects.filter(pk=payment.pk)).get()
        if hasattr(payment, "reversal"):
            self.add_error("payment", _("A reversed payment has nothing to refund."))
        elif amount > current.unallocated:
            self.add_error(
                "amount",
                _("Only %(left)s of this payment is to the family’s credit.")
                % {"left": eur(max(current.unallocated, Decimal(0)))},
            )
        date = cleaned.get("date")
        if date is not None and date < payment.date:
            self.add_error("date", _("A refund cannot come before the payment it gives back."))
        return cleaned


@admin.register(Refund)
class RefundAdmin(SiteScopedAdmin):
    """Money given back out of a payment's unallocated part, recorded once:
    a mistake is corrected by the accounting office."""

    form = RefundForm
    site_path = "payment__site"
    list_display = ["date", "family", "payment", "mode", "reference", "amount_display"]
    list_filter = ["mode"]
    list_select_related = ["payment__family"]
    search_fields = ["reference", "payment__receipt_number", "payment__family__name"]
    autocomplete_fields = ["payment"]
    date_hierarchy = "date"
    readonly_fields = ["recorded_by"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["payment", "amount", "date", "mode", "reference", "recorded_by"]
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("family"), ordering="payment__family__name")
    def family(self, refund):
        return refund.payment.family

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, refund):
        return eur(refund.amount)

    def save_model(self, request, obj, form, change):
        saved = ledger.record_refund(
            obj.payment,
            obj.amount,
            obj.mode,
            date=obj.date,
            reference=obj.reference,
            user=request.user,
        )
        obj.pk = saved.pk


@admin.register(FamilyAccount)
class FamilyAccountAdmin(ReadOnlyAdmin):
    """A family's statement and balance, as the family sees it."""

    list_display = ["name", "site"]
    search_fields = ["name", "external_ref"]
    fields = ["name", "site", "credit_display", "statement_table"]
    readonly_fields = fields
    actions = ["apply_credit"]

    class Media:
        css = {"all": ["css/billing-admin.css"]}

    def has_apply_credit_permission(self, request):
        return request.user.has_perm("billing.add_allocation")

    @admin.action(
        description=_("Apply the families' credit to their unpaid invoices"),
        permissions=["apply_credit"],
    )
    def apply_credit(self, request, queryset):
        total = sum((ledger.apply_credit(family) for family in queryset), Decimal(0))
        self.message_user(
            request,
            _("%(amount)s applied to unpaid invoices.") % {"amount": eur(total)},
            messages.SUCCESS,
        )

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("billing.view_invoice")

    @admin.display(description=_("credit in the family’s favour"))
    def credit_display(self, family):
        """What its payments left unallocated, payment by payment, with a
        link to refund each part."""
        payments = list(
            ledger.with_unallocated(Payment.objects.filter(family=family, reversal__isnull=True))
            .filter(unallocated__gt=0)
            .order_by("date", "pk")
        )
        return render_to_string(
            "admin/billing/familyaccount/credit.html",
            {
                "payments": payments,
                "credit": money(sum((p.unallocated for p in payments), Decimal(0))),
                "refund_url": reverse("admin:billing_refund_add"),
            },
        )

    @admin.display(description=_("statement"))
    def statement_table(self, family):
        return render_to_string("admin/billing/familyaccount/statement.html", statement(family))


# The plan each family pays by; reminders and the debtors list.
from . import admin_plans, admin_reminders  # noqa: E402, F401
