"""Admin classes shared by every app: a secretary sees and changes only her
own site's objects."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.shortcuts import get_object_or_404
from simple_history.admin import SimpleHistoryAdmin

from .admin_phones import FrenchPhonesHistory, FrenchPhonesMixin
from .models import Site


def staff_site_id(request):
    """The site a staff member is limited to; None for network administrators."""
    return request.user.site_id


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
