"""The secretariat's side of reminders: each site's policy, the reminders
sent and the letters to print, and the debtors list with its export for the
Trésor public."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from extranet import tables
from extranet.admin_scoping import SiteScopedAdmin, staff_site_id
from extranet.formatting import eur
from extranet.models import Site
from extranet.responses import serve_stored_file

from . import debtors as debtors_module
from .models import Reminder, ReminderPolicy
from .reminders import KIND_LABELS, ensure_letter_pdf, parse_delays

DEBTORS_LINK_TEMPLATE = "admin/billing/debtors_link_change_list.html"


class ReminderPolicyForm(forms.ModelForm):
    email_delays = forms.CharField(
        label=_("e-mail reminders (days overdue)"),
        required=False,
        help_text=_(
            "Days after the due date, separated by commas, for example “7, 30”: a first "
            "e-mail 7 days after, a second one 30 days after. Empty: no e-mail."
        ),
    )

    class Meta:
        model = ReminderPolicy
        fields = ["site", "email_delays", "letter_delay", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        delays = self.instance.email_delays if self.instance.pk else [7, 30]
        if isinstance(delays, list):
            self.initial["email_delays"] = ", ".join(str(d) for d in delays)

    def clean_email_delays(self):
        return parse_delays(self.cleaned_data["email_delays"])

    def clean_letter_delay(self):
        delay = self.cleaned_data["letter_delay"]
        if delay is not None and delay < 1:
            raise ValidationError(_("Each delay must be at least one day."))
        return delay


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(SiteScopedAdmin):
    form = ReminderPolicyForm
    list_display = ["site", "delays_display", "letter_delay", "is_active"]
    list_select_related = ["site"]
    change_list_template = DEBTORS_LINK_TEMPLATE

    @admin.display(description=_("e-mail reminders (days overdue)"))
    def delays_display(self, policy):
        delays = policy.email_delays if isinstance(policy.email_delays, list) else []
        return ", ".join(str(d) for d in delays) or "–"


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return list(KIND_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() in KIND_LABELS:
            return queryset.filter(kind=self.value())
        return queryset


class ToPrintFilter(admin.SimpleListFilter):
    title = _("printing")
    parameter_name = "impression"

    def lookups(self, request, model_admin):
        return [("to_print", _("to print")), ("printed", _("printed"))]

    def queryset(self, request, queryset):
        if self.value() == "to_print":
            return queryset.filter(kind=Reminder.Kind.LETTER, printed_at__isnull=True)
        if self.value() == "printed":
            return queryset.filter(kind=Reminder.Kind.LETTER, printed_at__isnull=False)
        return queryset


@admin.register(Reminder)
class ReminderAdmin(SiteScopedAdmin):
    """Recorded by `send_reminders`, read here; the letters are printed from here."""

    site_path = "invoice__site"
    list_display = [
        "created_on",
        "invoice",
        "family",
        "kind_display",
        "level",
        "amount_display",
        "due_since",
        "printed_at",
        "letter_link",
    ]
    list_filter = [KindFilter, ToPrintFilter]
    list_select_related = ["invoice__family"]
    search_fields = ["invoice__number", "invoice__family__name"]
    date_hierarchy = "created_on"
    actions = ["mark_printed"]
    fields = [
        "invoice",
        "kind_display",
        "level",
        "amount",
        "due_since",
        "created_on",
        "printed_at",
        "letter_link",
    ]
    readonly_fields = fields
    change_list_template = DEBTORS_LINK_TEMPLATE

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # A reminder is read, never edited; marking letters printed is an action.
    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("family"), ordering="invoice__family__name")
    def family(self, reminder):
        return reminder.invoice.family

    @admin.display(description=_("kind"), ordering="kind")
    def kind_display(self, reminder):
        return KIND_LABELS[reminder.kind]

    @admin.display(description=_("amount overdue"), ordering="amount")
    def amount_display(self, reminder):
        return eur(reminder.amount)

    @admin.display(description=_("letter"))
    def letter_link(self, reminder):
        if reminder.pk is None or reminder.kind != Reminder.Kind.LETTER:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:billing_reminder_letter", args=[reminder.pk]),
            gettext("Open the letter (PDF)"),
        )

    @admin.action(description=_("Mark as printed"), permissions=["change"])
    def mark_printed(self, request, queryset):
        count = queryset.filter(kind=Reminder.Kind.LETTER, printed_at__isnull=True).update(
            printed_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d letter marked as printed.", "%(count)d letters marked as printed.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/lettre/",
                self.admin_site.admin_view(self.letter_view),
                name="billing_reminder_letter",
            ),
            path(
                "debiteurs/",
                self.admin_site.admin_view(self.debtors_view),
                name="billing_reminder_debtors",
            ),
            *super().get_urls(),
        ]

    def letter_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        reminder = get_object_or_404(
            self.get_queryset(request).filter(kind=Reminder.Kind.LETTER), pk=pk
        )
        reminder = ensure_letter_pdf(reminder)
        return serve_stored_file(
            reminder.pdf,
            f"relance-{reminder.invoice.number}.pdf",
            "application/pdf",
            as_attachment=False,
        )

    def debtors_view(self, request):
        """The families with something overdue, by age; CSV and Excel exports
        for the Trésor public."""
        if not (
            self.has_view_permission(request) and request.user.has_perm("billing.view_invoice")
        ):
            raise PermissionDenied
        site_id = staff_site_id(request)
        sites = []
        if site_id is None:  # A network administrator chooses the site.
            sites = list(Site.objects.order_by("name"))
            chosen = request.GET.get("site", "")
            site_id = next((s.pk for s in sites if str(s.pk) == chosen), None)
        today = timezone.localdate()
        rows = debtors_module.debtors(site_id, today) if site_id is not None else []
        export = request.GET.get("format")
        if export in {"csv", "xlsx"} and site_id is not None:
            name = f"debiteurs-{today:%Y-%m-%d}"
            headers = debtors_module.export_headers()
            lines = debtors_module.export_rows(rows)
            if export == "csv":
                return tables.csv_response(name, headers, lines)
            return tables.xlsx_response(name, gettext("Debtors"), headers, lines)
        by_age, total = debtors_module.totals(rows)
        query = f"site={site_id}&" if sites and site_id is not None else ""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Debtors"),
            "rows": rows,
            "buckets": [label for _low, _high, label in debtors_module.BUCKETS],
            "by_age": by_age,
            "total": total,
            "today": today,
            "sites": sites,
            "site_id": site_id,
            "csv_url": f"?{query}format=csv",
            "xlsx_url": f"?{query}format=xlsx",
        }
        return TemplateResponse(request, "admin/billing/debtors.html", context)
