"""Admin: the site as SEPA creditor, and the batches (remises de
prélèvements): prepared from a form, kept read-only, their file downloaded
as it was stored."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from extranet.admin_scoping import SiteScopedAdmin, staff_site_id
from extranet.formatting import eur
from extranet.models import Site
from extranet.responses import serve_stored_file

from .batches import BatchRefused, check, day, prepare, survey
from .models import Batch, Creditor, Debit

PREVIEW_LINES = 100


@admin.register(Creditor)
class CreditorAdmin(SiteScopedAdmin):
    list_display = ["name", "ics", "site", "prenotice_days"]
    fields = ["site", "name", "address", "ics", "iban", "bic", "prenotice_days", "rejection_fee"]


class DebitInline(admin.TabularInline):
    model = Debit
    fields = [
        "family",
        "rum",
        "invoice",
        "amount_display",
        "sequence",
        "status",
        "amended",
        "rejection",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("mandate__family", "instalment__invoice")
            .order_by("pk")
        )

    # Debits are seen with their batch, by whoever may see the batch.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("directdebit.view_batch")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=pgettext_lazy("direct debit", "rejection"))
    def rejection(self, debit):
        if debit.status == Debit.Status.REJECTED:
            return f"{date_format(debit.rejected_on, 'SHORT_DATE_FORMAT')} ({debit.reason_code})"
        # Recorded by hand when the bank tells it another way than a camt.054.
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:directdebit_debit_reject", args=[debit.pk]),
            _("Record a rejection"),
        )

    @admin.display(description=gettext_lazy("family"))
    def family(self, debit):
        return debit.mandate.family.name

    @admin.display(description=pgettext_lazy("direct debit", "mandate reference (RUM)"))
    def rum(self, debit):
        return debit.mandate.rum

    @admin.display(description=pgettext_lazy("direct debit", "instalment"))
    def invoice(self, debit):
        return f"{debit.instalment.invoice.number} – {debit.instalment.position}"

    @admin.display(description=gettext_lazy("amount"))
    def amount_display(self, debit):
        return eur(debit.amount)

    @admin.display(description=pgettext_lazy("direct debit", "amendment"))
    def amended(self, debit):
        if not debit.amendment:
            return "–"
        if debit.amendment.get("new_bank"):
            return _("new bank (SMNDA)")
        return _("new account, previously %(iban)s") % {
            "iban": debit.amendment.get("original_iban", "")
        }


class PrepareForm(forms.Form):
    site = forms.ModelChoiceField(label=gettext_lazy("site"), queryset=Site.objects.none())
    collection_date = forms.DateField(
        label=pgettext_lazy("direct debit", "collection date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy(
            "The day the families' accounts are debited; the bank needs the file beforehand."
        ),
    )

    def __init__(self, *args, site_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        if site_id is None:
            self.fields["site"].queryset = Site.objects.filter(creditor__isnull=False)
        else:  # A secretary prepares her own site's batches.
            del self.fields["site"]
        self.site_id = site_id

    def chosen_site(self):
        if self.site_id is not None:
            return Site.objects.get(pk=self.site_id)
        return self.cleaned_data["site"]


@admin.register(Batch)
class BatchAdmin(SiteScopedAdmin):
    list_display = [
        "collection_date",
        "count",
        "total_display",
        "collected",
        "created_at",
        "file_link",
    ]
    list_filter = ["collected_at"]
    date_hierarchy = "collection_date"
    fields = [
        "collection_date",
        "message_id",
        "count",
        "total_display",
        "created_by",
        "created_at",
        "collected_at",
        "file_link",
    ]
    readonly_fields = fields
    inlines = [DebitInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    # A batch is what was sent to the bank: never changed, never deleted.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_display(self, batch):
        return eur(batch.total)

    @admin.display(description=pgettext_lazy("direct debit", "payments recorded"), boolean=True)
    def collected(self, batch):
        return batch.collected_at is not None

    @admin.display(description=pgettext_lazy("direct debit", "pain.008 file"))
    def file_link(self, batch):
        if batch.pk is None or not batch.file:
            return "–"
        return format_html(
            '<a href="{}" download>{}</a>',
            reverse("admin:directdebit_batch_file", args=[batch.pk]),
            _("Download the file"),
        )

    def get_urls(self):
        return [
            path(
                "prepare/",
                self.admin_site.admin_view(self.prepare_view),
                name="directdebit_batch_prepare",
            ),
            path(
                "<int:pk>/file/",
                self.admin_site.admin_view(self.file_view),
                name="directdebit_batch_file",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:directdebit_batch_prepare")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Another site's batch is a 404, as everywhere else.
        get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        return super().change_view(request, object_id, form_url, extra_context)

    def file_view(self, request, pk):
        """The file as it was stored when the batch was prepared."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(self.get_queryset(request), pk=pk)
        return serve_stored_file(
            batch.file,
            f"prelevements-{batch.collection_date:%Y-%m-%d}.xml",
            "application/xml",
        )

    def prepare_view(self, request):
        """A collection date: what it would take and what waits (a preview),
        then the batch itself."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PrepareForm(request.POST or None, site_id=staff_site_id(request))
        preparation = None
        if request.method == "POST" and form.is_valid():
            site, collection_date = form.chosen_site(), form.cleaned_data["collection_date"]
            try:
                if "confirm" in request.POST:
                    batch, done = prepare(site, collection_date, user=request.user)
                    self.message_user(request, report(done), messages.SUCCESS)
                    return redirect("admin:directdebit_batch_change", batch.pk)
                preparation = survey(site.pk, collection_date, check(site.pk, collection_date))
            except BatchRefused as error:
                form.add_error("collection_date", error)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Prepare the direct debit batch"),
            "form": form,
            "preparation": preparation,
            "report": report(preparation) if preparation else "",
            "shown": preparation.lines[:PREVIEW_LINES] if preparation else [],
            "hidden": max(0, preparation.count - PREVIEW_LINES) if preparation else 0,
        }
        return TemplateResponse(request, "admin/directdebit/batch_prepare.html", context)


def report(preparation):
    """One sentence: what is taken, what waits."""
    text = ngettext(
        "%(count)d debit on %(date)s, %(total)s in all.",
        "%(count)d debits on %(date)s, %(total)s in all.",
        preparation.count,
    ) % {
        "count": preparation.count,
        "date": day(preparation.collection_date),
        "total": eur(preparation.total),
    }
    if preparation.postponed:
        text += " " + ngettext(
            "%(count)d instalment (%(total)s) postponed: not notified in time.",
            "%(count)d instalments (%(total)s) postponed: not notified in time.",
            len(preparation.postponed),
        ) % {"count": len(preparation.postponed), "total": eur(preparation.postponed_total)}
    return text
