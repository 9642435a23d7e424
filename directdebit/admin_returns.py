"""Admin: what the bank returns. The camt.054 files imported (each with
its report), the import page, and a rejection recorded by hand on one
debit."""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from extranet.admin_scoping import RecordAdminMixin, SiteScopedAdmin, staff_site_id
from extranet.formatting import eur
from extranet.models import Site
from extranet.responses import base_url

from . import returns
from .models import Debit, ReturnFile
from .rejections import reason_choices, reason_of, reject


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("camt.054 file"),
        help_text=_("The XML file of rejected debits sent by the bank (5 MB at most)."),
    )

    def __init__(self, *args, site_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.site_id = site_id
        self.site = None
        self.content = b""

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > returns.MAX_BYTES:
            raise ValidationError(
                _("This file is too large for a bank return file (%(max)d MB at most).")
                % {"max": returns.MAX_BYTES // (1024 * 1024)}
            )
        content = upload.read(returns.MAX_BYTES + 1)
        site_id = self.site_id
        if site_id is None:  # A network administrator: the file says whose it is.
            site_id = returns.creditor_site(content)
            if site_id is None:
                raise ValidationError(
                    _("This file names no site's creditor account or ICS: nothing was imported.")
                )
        notice = returns.parse(content)
        self.site = Site.objects.get(pk=site_id)
        returns.check(notice, self.site)
        self.content = content
        return upload


class RejectForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("reason given by the bank"), choices=reason_choices)
    date = forms.DateField(
        label=_("date of the rejection"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("The day the bank debited the account back (booking date)."),
    )

    def __init__(self, *args, debit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.debit = debit

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise ValidationError(_("A rejection cannot be dated in the future."))
        if self.debit.payment_id and day < self.debit.payment.date:
            raise ValidationError(
                _("The debit was collected on %(date)s: the rejection cannot be earlier.")
                % {"date": date_format(self.debit.payment.date, "SHORT_DATE_FORMAT")}
            )
        return day


@admin.register(ReturnFile)
class ReturnFileAdmin(RecordAdminMixin, SiteScopedAdmin):
    list_display = ["name", "message_id", "imported_at", "imported_by", "applied", "skipped"]
    list_select_related = ["imported_by"]
    search_fields = ["name", "message_id"]
    date_hierarchy = "imported_at"
    fields = ["site", "name", "message_id", "imported_at", "imported_by", "report_display"]
    readonly_fields = fields
    change_list_template = "admin/directdebit/returnfile/change_list.html"

    def has_import_permission(self, request):
        return request.user.has_perm("directdebit.add_returnfile")

    @admin.display(description=_("applied"))
    def applied(self, returned):
        return len(returned.report.get("applied", []))

    @admin.display(description=_("skipped"))
    def skipped(self, returned):
        return len(returned.report.get("skipped", []))

    @admin.display(description=_("report"))
    def report_display(self, returned):
        report = dict(returned.report)
        for key in ["applied", "skipped"]:
            report[key] = [
                {
                    **row,
                    "amount_display": eur(Decimal(row["amount"])),
                    "date_display": date_format(
                        date.fromisoformat(row["date"]), "SHORT_DATE_FORMAT"
                    ),
                }
                for row in report.get(key, [])
            ]
        return render_to_string("admin/directdebit/returnfile/report.html", {"report": report})

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="directdebit_returnfile_import",
            ),
            path(
                "debit/<int:pk>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="directdebit_debit_reject",
            ),
            *super().get_urls(),
        ]

    def context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    def import_view(self, request):
        """Upload a camt.054: checked whole, then applied; the report shown."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(
            request.POST or None, request.FILES or None, site_id=staff_site_id(request)
        )
        if request.method == "POST" and form.is_valid():
            try:
                returned = returns.import_file(
                    form.content,
                    form.cleaned_data["file"].name,
                    form.site,
                    user=request.user,
                    base_url=base_url(request),
                )
            except ValidationError as error:
                form.add_error("file", error)
            else:
                applied = len(returned.report["applied"])
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d rejected debit recorded.",
                        "%(count)d rejected debits recorded.",
                        applied,
                    )
                    % {"count": applied},
                    messages.SUCCESS,
                )
                if returned.report["skipped"]:
                    self.message_user(
                        request,
                        gettext("Some returns were left aside: see the report."),
                        messages.WARNING,
                    )
                return redirect("admin:directdebit_returnfile_change", returned.pk)
        return TemplateResponse(
            request,
            "admin/directdebit/returnfile/import.html",
            self.context(
                request, gettext("Import a file of rejected debits (camt.054)"), form=form
            ),
        )

    def debits(self, request):
        debits = Debit.objects.select_related(
            "batch", "mandate__family", "instalment__invoice", "payment"
        )
        site_id = staff_site_id(request)
        return debits if site_id is None else debits.filter(batch__site_id=site_id)

    def reject_view(self, request, pk):
        """Record by hand a rejection the bank told otherwise (a letter, its
        website): on a collected debit, or one still at the bank."""
        if not request.user.has_perm("directdebit.change_debit"):
            raise PermissionDenied
        debit = get_object_or_404(self.debits(request), pk=pk)
        open_ = debit.status != Debit.Status.REJECTED
        form = RejectForm(
            request.POST if request.method == "POST" and open_ else None,
            debit=debit,
            initial={"date": timezone.localdate()},
        )
        if request.method == "POST" and open_ and form.is_valid():
            try:
                reject(
                    debit,
                    form.cleaned_data["date"],
                    form.cleaned_data["reason_code"],
                    user=request.user,
                    base_url=base_url(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext("The rejection is recorded; the family is told by e-mail."),
                    messages.SUCCESS,
                )
                return redirect("admin:directdebit_debit_reject", debit.pk)
        return TemplateResponse(
            request,
            "admin/directdebit/returnfile/reject.html",
            self.context(
                request,
                gettext("Record a rejection"),
                form=form,
                debit=debit,
                open=open_,
                reason=reason_of(debit.reason_code) if debit.reason_code else "",
                statement_url=reverse(
                    "admin:billing_familyaccount_change", args=[debit.mandate.family_id]
                ),
            ),
        )
