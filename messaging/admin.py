"""The secretariat writes a message, previews who receives it and who must
be phoned instead, sends it once, then reads what was sent to whom."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from extranet.admin_scoping import RecordAdminMixin, SiteScopedAdmin, staff_site_id
from extranet.models import Site

from . import audiences, sending
from .forms import MessageForm
from .models import Delivery, Message

Status = Delivery.Status
DRAFT_FIELDS = ["site", "subject", "body", "audience", "course", "discipline", "teacher", "level"]
SENT_FIELDS = [
    "site",
    "subject",
    "body",
    "audience_display",
    ("created_by", "created_at"),
    ("sent_by", "sent_at"),
    "outcome",
]


class DeliveryInline(admin.TabularInline):
    """The log of a sent message: one row per family, read only."""

    model = Delivery
    fields = ["family", "email", "status", "queued_at", "sent_at", "attempts", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("family", "message")

    def has_view_permission(self, request, obj=None):
        # Part of the message: whoever reads the message reads its log.
        return request.user.has_perm("messaging.view_message") or request.user.has_perm(
            "messaging.change_message"
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SentFilter(admin.SimpleListFilter):
    title = pgettext_lazy("message", "sent")
    parameter_name = "envoye"

    def lookups(self, request, model_admin):
        return [("yes", pgettext_lazy("message", "sent")), ("no", gettext_lazy("not sent yet"))]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(sent_at__isnull=self.value() == "no")
        return queryset


def counted(queryset):
    """Messages with the number of their deliveries in each status."""
    return queryset.annotate(
        **{
            f"count_{status}": Count("deliveries", filter=Q(deliveries__status=status))
            for status in Status.values
        }
    )


@admin.register(Message)
class MessageAdmin(SiteScopedAdmin):
    form = MessageForm
    list_display = ["subject", "audience_display", "created_at", "sent_at", "outcome"]
    list_filter = [SentFilter, "audience"]
    list_select_related = ["course__discipline", "discipline", "teacher"]
    search_fields = ["subject", "body"]
    readonly_fields = ["audience_display", "created_by", "created_at", "sent_by", "sent_at"]
    change_form_template = "admin/messaging/message/change_form.html"

    def get_queryset(self, request):
        return counted(super().get_queryset(request))

    def get_fields(self, request, obj=None):
        fields = SENT_FIELDS if obj is not None and obj.is_sent else DRAFT_FIELDS
        if staff_site_id(request) is not None:
            fields = [name for name in fields if name != "site"]  # Her own, always.
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # What the targets are checked against when the site is not chosen.
        form.staff_site_id = staff_site_id(request)
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_sent:
            return ["site", "subject", "body", *self.readonly_fields, "outcome"]
        return []

    def get_inlines(self, request, obj):
        return [DeliveryInline] if obj is not None and obj.is_sent else []

    # Once sent, a message is what the families received: read only, kept.
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_sent:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_sent:
            return False
        return super().has_delete_permission(request, obj)

    # Another site's message is not found, rather than the admin's redirection.
    def found(self, request, object_id):
        message = self.get_object(request, unquote(object_id))
        if message is None:
            raise Http404
        return message

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self.found(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self.found(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "course" and field is not None:
            # This year's courses and next year's, each with its year.
            field.queryset = (
                field.queryset.filter(school_year__end_date__gte=timezone.localdate())
                .select_related("discipline", "school_year")
                .order_by("school_year__start_date", "discipline__name", "weekday", "start_time")
            )
            field.label_from_instance = lambda course: f"{course} – {course.school_year}"
        return field

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = self._formfield(db_field, request, **kwargs)
        # A course or a teacher is chosen here, not created or changed.
        for name in [
            "can_add_related",
            "can_change_related",
            "can_delete_related",
            "can_view_related",
        ]:
            if hasattr(getattr(field, "widget", None), name):
                setattr(field.widget, name, False)
        return field

    def _formfield(self, db_field, request, **kwargs):
        if db_field.name == "level":
            site_id = staff_site_id(request)
            sites = [site_id] if site_id is not None else Site.objects.values_list("pk", flat=True)
            return forms.ChoiceField(
                label=capfirst(db_field.verbose_name),
                required=False,
                choices=[("", "---------")] + [(v, v) for v in audiences.levels(sites)],
                help_text=gettext_lazy("This school year's levels."),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def _preview_redirect(self, request, obj):
        if "_continue" in request.POST or "_addanother" in request.POST:
            return None
        return HttpResponseRedirect(reverse("admin:messaging_message_send", args=[obj.pk]))

    # Saved, a message is previewed before it is sent.
    def response_add(self, request, obj, post_url_continue=None):
        return self._preview_redirect(request, obj) or super().response_add(
            request, obj, post_url_continue
        )

    def response_change(self, request, obj):
        return self._preview_redirect(request, obj) or super().response_change(request, obj)

    @admin.display(description=gettext_lazy("to"))
    def audience_display(self, message):
        return message.audience_text()

    @admin.display(description=gettext_lazy("deliveries"))
    def outcome(self, message):
        if not message.is_sent:
            return _("not sent yet")
        counts = {s: getattr(message, f"count_{s}", 0) for s in Status.values}
        return _(
            "%(sent)s sent, %(queued)s queued, %(failed)s failed, %(no_email)s without e-mail"
        ) % {
            "sent": counts[Status.SENT],
            "queued": counts[Status.QUEUED],
            "failed": counts[Status.FAILED],
            "no_email": counts[Status.NO_EMAIL],
        }

    def get_urls(self):
        return [
            path(
                "<path:object_id>/envoyer/",
                self.admin_site.admin_view(self.send_view),
                name="messaging_message_send",
            ),
            *super().get_urls(),
        ]

    def send_view(self, request, object_id):
        """GET: who the message reaches, who must be phoned instead. POST:
        sent, once."""
        message = self.found(request, object_id)
        change_url = reverse("admin:messaging_message_change", args=[message.pk])
        if message.is_sent:
            self.message_user(
                request,
                _("This message was sent on %(date)s: it is not sent again.")
                % {"date": date_format(timezone.localtime(message.sent_at), "DATETIME_FORMAT")},
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        if not self.has_change_permission(request, message):
            raise PermissionDenied
        if request.method == "POST":
            deliveries = sending.send(message, request.user)
            if deliveries is None:
                self.message_user(request, _("This message was already sent."), messages.WARNING)
            else:
                queued = sum(d.status == Status.QUEUED for d in deliveries)
                self.message_user(
                    request,
                    ngettext(
                        "The message is on its way to %(count)d family.",
                        "The message is on its way to %(count)d families.",
                        queued,
                    )
                    % {"count": queued},
                    messages.SUCCESS,
                )
                if without := len(deliveries) - queued:
                    self.message_user(
                        request,
                        ngettext(
                            "%(count)d family has no e-mail: phone it.",
                            "%(count)d families have no e-mail: phone them.",
                            without,
                        )
                        % {"count": without},
                        messages.WARNING,
                    )
            return HttpResponseRedirect(change_url)
        found = audiences.recipients(message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Preview and send"),
            "draft": message,
            "original": message,
            "recipients": found,
            "with_email": [r for r in found if r.email],
            "without_email": [r for r in found if not r.email],
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/messaging/message/send.html", context)


@admin.register(Delivery)
class DeliveryAdmin(RecordAdminMixin, SiteScopedAdmin):
    """Every delivery, to find what a family received."""

    site_path = "message__site"
    list_display = ["family", "message", "email", "status", "queued_at", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["family", "message"]
    search_fields = ["family__name", "email", "message__subject"]
    date_hierarchy = "queued_at"
    fields = ["message", "family", "email", "status", "queued_at", "sent_at", "attempts", "error"]
    readonly_fields = fields
