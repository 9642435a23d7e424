"""Cheque deposit slips in the admin: the cheques not yet deposited are
selected on the list of payments, gathered on a slip, and the slip printed
for the bank (and printed again at will)."""

import io
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from extranet.admin_scoping import SiteScopedAdmin, staff_site_id
from extranet.formatting import eur
from extranet.money import money
from extranet.responses import private_file

from . import deposits
from .models import ChequeDeposit
from .pdfs import deposit_pdf_bytes

# Refusals listed one by one before « … and N other payments ».
PROBLEMS_SHOWN = 10


def undeposited_cheques_url():
    """The list of payments showing only the cheques still to deposit."""
    return reverse("admin:billing_payment_changelist") + f"?{DepositFilter.parameter_name}=no"


class DepositFilter(admin.SimpleListFilter):
    title = _("cheque deposit")
    parameter_name = "remise"

    def lookups(self, request, model_admin):
        return [("no", _("cheques to deposit")), ("yes", _("deposited cheques"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return deposits.undeposited(queryset)
        if self.value() == "yes":
            return queryset.filter(deposit__isnull=False)
        return queryset


class DepositForm(forms.ModelForm):
    class Meta:
        model = ChequeDeposit
        fields = ["date", "bank", "account"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Today by default, without the hidden copy of the initial value
        # (which would carry the field's aria attributes, invalid there).
        self.fields["date"].show_hidden_initial = False


def last_bank_of(site_id):
    """The bank and account of the site's last slip: most régies always
    deposit at the same place."""
    last = ChequeDeposit.objects.filter(site_id=site_id).order_by("-created_at", "-pk").first()
    return {"bank": last.bank, "account": last.account} if last else {}


@admin.action(description=_("Make a cheque deposit slip"), permissions=["deposit"])
def make_deposit_slip(modeladmin, request, queryset):
    """First the cheques selected and the slip's bank, then (confirmed) the
    slip, made by billing.deposits under a lock."""
    selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
    cheques = list(queryset.select_related("family", "site").order_by("date", "pk"))
    if not cheques:
        modeladmin.message_user(request, gettext("Select at least one cheque."), messages.ERROR)
        return None
    if request.POST.get("select_across") != "1" and len(cheques) != len(set(selected)):
        # Ids the secretary's list does not hold (another site's): refuse all.
        modeladmin.message_user(
            request, gettext("A selected payment belongs to another site."), messages.ERROR
        )
        return None
    site = cheques[0].site
    problems = deposits.refusals(queryset, staff_site_id(request) or site.pk)
    if problems:
        modeladmin.message_user(
            request,
            gettext("Only cheques not yet deposited go on a slip; nothing was made."),
            messages.ERROR,
        )
        # A whole page selected by mistake: the first few, then how many more.
        for problem in problems[:PROBLEMS_SHOWN]:
            modeladmin.message_user(request, problem, messages.ERROR)
        if len(problems) > PROBLEMS_SHOWN:
            modeladmin.message_user(
                request,
                gettext(
                    "… and %(count)d other payments. The filter “cheques to deposit” "
                    "lists only the cheques that may go on a slip."
                )
                % {"count": len(problems) - PROBLEMS_SHOWN},
                messages.ERROR,
            )
        return None
    form = DepositForm(
        request.POST if "confirm" in request.POST else None, initial=last_bank_of(site.pk)
    )
    if form.is_valid():
        try:
            deposit = deposits.make_deposit(
                site,
                [c.pk for c in cheques],
                bank=form.cleaned_data["bank"],
                account=form.cleaned_data["account"],
                date=form.cleaned_data["date"],
                user=request.user,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                for message in error.messages:
                    modeladmin.message_user(request, message, messages.ERROR)
                return None
        else:
            count, total = len(cheques), money(sum((c.amount for c in cheques), Decimal(0)))
            modeladmin.message_user(
                request,
                ngettext(
                    "Deposit slip %(number)s made: %(count)d cheque, %(total)s.",
                    "Deposit slip %(number)s made: %(count)d cheques, %(total)s.",
                    count,
                )
                % {"number": deposit.number, "count": count, "total": eur(total)},
                messages.SUCCESS,
            )
            return redirect("admin:billing_chequedeposit_change", deposit.pk)
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": gettext("Make a cheque deposit slip"),
        "form": form,
        "cheques": cheques,
        "total": money(sum((c.amount for c in cheques), Decimal(0))),
        "site": site,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
        "selected": [c.pk for c in cheques],
    }
    return TemplateResponse(request, "admin/billing/payment/deposit_confirm.html", context)


@admin.register(ChequeDeposit)
class ChequeDepositAdmin(SiteScopedAdmin):
    """A slip is made from the list of payments and never changed: its
    cheques were handed to the bank together."""

    list_display = ["number", "date", "bank", "count_display", "total_display", "created_by"]
    search_fields = ["number", "bank", "cheques__reference", "cheques__family__name"]
    date_hierarchy = "date"
    fields = [
        "number",
        "site",
        "date",
        "bank",
        "account",
        "created_by",
        "created_at",
        "count_display",
        "total_display",
        "cheques_table",
    ]
    readonly_fields = fields
    change_form_template = "admin/billing/chequedeposit/change_form.html"

    class Media:
        css = {"all": ["css/billing-admin.css"]}

    def get_queryset(self, request):
        return deposits.with_totals(super().get_queryset(request)).select_related(
            "site", "created_by"
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        # A slip starts from the cheques to deposit, chosen on the list of payments.
        if not self.has_add_permission(request):
            raise PermissionDenied
        return redirect(undeposited_cheques_url())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Another site's slip is a 404, as everywhere else.
        get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("cheques"), ordering="count")
    def count_display(self, deposit):
        return deposit.count

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, deposit):
        return eur(deposit.total)

    @admin.display(description=_("cheques deposited"))
    def cheques_table(self, deposit):
        cheques, total = deposits.cheques_of(deposit)
        return render_to_string(
            "admin/billing/chequedeposit/cheques.html", {"cheques": cheques, "total": total}
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="billing_chequedeposit_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        deposit = get_object_or_404(self.get_queryset(request), pk=pk)
        return private_file(
            io.BytesIO(deposit_pdf_bytes(deposit)),
            f"bordereau-{deposit.number}.pdf",
            "application/pdf",
            as_attachment=False,
        )
