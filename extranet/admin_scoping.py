"""Admin classes shared by every app: a secretary sees and changes only her
own site's objects."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.shortcuts import get_object_or_404
from simple_history.admin import SimpleHistoryAdmin

from .admin_phones import FrenchPhonesHistory, FrenchPhonesMixin
from .models import Site

# The site a staff member working for several sites has chosen to work on.
CHOSEN_SITE_KEY = "staff_site_id"


def works_for_other_sites(user):
    """Whether a site's staff member also works for other sites. The
    authentication backend tells it with the user (no query per page)."""
    if not (user.is_staff and user.site_id):
        return False
    known = getattr(user, "works_for_other_sites", None)
    return user.other_sites.exists() if known is None else known


def staff_sites(user):
    """The sites a staff member switches between: her own first, then the
    others by name. Empty when there is nothing to switch."""
    if not works_for_other_sites(user):
        return []
    return [user.site, *user.other_sites.order_by("name")]


def staff_site_id(request):
    """The site a staff member is limited to: the one she has chosen among
    her own and her other sites, by default her own; None for network
    administrators."""
    user = request.user
    own = user.site_id
    session = getattr(request, "session", None)
    chosen = session.get(CHOSEN_SITE_KEY) if session is not None else None
    if own is None or chosen is None or chosen == own:
        return own
    # Checked on every request: a site taken off her list is left at once.
    checked = getattr(request, "_checked_staff_site", None)
    if checked is None or checked[0] != chosen:
        allowed = works_for_other_sites(user) and user.other_sites.filter(pk=chosen).exists()
        checked = (chosen, chosen if allowed else own)
        request._checked_staff_site = checked
    return checked[1]


def limit_choices_to_site(db_field, request, kwargs):
    """Offer a secretary only her site's objects in a foreign key."""
    site_id = staff_site_id(request)
    if site_id is None:
        return kwargs
    related = db_field.related_model
    if related is Site:
        kwargs["queryset"] = Site.objects.filter(pk=site_id)
        kwargs["required"] = True
        kwargs["initial"] = site_id
    elif any(f.name == "site" for f in related._meta.fields):
        kwargs["queryset"] = related._default_manager.filter(site_id=site_id)
    elif any(f.name == "family" for f in related._meta.fields):
        kwargs["queryset"] = related._default_manager.filter(family__site_id=site_id)
    return kwargs


class SiteScopedInlineMixin(FrenchPhonesMixin):
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        limit_choices_to_site(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SiteScopedAdmin(FrenchPhonesMixin, admin.ModelAdmin):
    """Limits a secretary to the objects of her own site.

    `site_path` is the lookup from the model to its Site. Network
    administrators (accounts without a site) see every site. Phones are
    shown and searched in French (see admin_phones).
    """

    site_path = "site"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        site_id = staff_site_id(request)
        if site_id is None:
            return queryset
        return queryset.filter(**{f"{self.site_path}__id": site_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        limit_choices_to_site(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        site_id = staff_site_id(request)
        related = db_field.related_model
        if site_id is not None and any(f.name == "site" for f in related._meta.fields):
            kwargs["queryset"] = related._default_manager.filter(site_id=site_id)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        site_id = staff_site_id(request)
        if site_id is not None and self.site_path == "site":
            obj.site_id = site_id
        super().save_model(request, obj, form, change)


class ScopedHistoryAdmin(SiteScopedAdmin, SimpleHistoryAdmin):
    """History pages limited to the staff member's site, like the rest."""

    def history_view(self, request, object_id, extra_context=None):
        get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_historical_record_context_helper(self, request, historical_record):
        return FrenchPhonesHistory(self.model, historical_record)


class RecordAdminMixin:
    """For records the application writes (signed mandates, imported bank
    files…): shown in the admin, never added, edited or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
