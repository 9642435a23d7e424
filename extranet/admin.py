from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .admin_phones import PhoneInput, e164_of
from .admin_scoping import SiteScopedAdmin, staff_site_id
from .formatting import phone_fr
from .models import Site, User


class ServedLogo:
    """The current logo as the file widget shows it: its link leads to the
    view that serves it (stored files have no address of their own)."""

    def __init__(self, site):
        self.url = reverse("site_logo", args=[site.slug])
        self.name = site.logo.name

    def __str__(self):
        return self.name


class LogoInput(forms.ClearableFileInput):
    site = None

    def is_initial(self, value):
        # Django asks the file for its address, which stored files refuse.
        return bool(value) and isinstance(value, (FieldFile, ServedLogo))

    def format_value(self, value):
        if self.is_initial(value) and self.site is not None:
            return ServedLogo(self.site)
        return super().format_value(value)


class SiteForm(forms.ModelForm):
    """The secretariat's phone, a free text, shown in French and kept in
    E.164 when it is a phone number (for the tel: links of the pages)."""

    class Meta:
        model = Site
        fields = "__all__"
        widgets = {"phone": PhoneInput, "logo": LogoInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.logo and "logo" in self.fields:
            self.fields["logo"].widget.site = self.instance
        if self.instance.phone:
            self.initial["phone"] = phone_fr(self.instance.phone)

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        return e164_of(phone) or phone


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = ["name", "slug", "phone_display", "email", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "login_address", "is_active", "logo"]}),
        (_("Secretariat"), {"fields": ["address", "phone", "email"]}),
        (_("Home page"), {"fields": ["welcome_text"]}),
        (
            _("Accessibility statement"),
            {
                "fields": [
                    "accessibility_conformity",
                    "accessibility_statement_date",
                    "accessibility_statement",
                    "accessibility_contact",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        site_id = staff_site_id(request)
        return queryset if site_id is None else queryset.filter(pk=site_id)

    def get_readonly_fields(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            # Read only, the logo is a link to the view that serves it
            # (stored files have no address of their own).
            return ["slug", "logo_link", "login_address"]
        if staff_site_id(request) is not None:
            return ["slug", "login_address", "is_active"]
        return ["login_address"]

    def get_prepopulated_fields(self, request, obj=None):
        if "slug" in self.get_readonly_fields(request, obj):
            return {}
        return super().get_prepopulated_fields(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": ["logo_link" if f == "logo" else f for f in options["fields"]],
                },
            )
            for name, options in fieldsets
        ]

    @admin.display(description=_("logo"))
    def logo_link(self, obj):
        if not obj.logo:
            return self.get_empty_value_display()
        return format_html(
            '<a href="{}">{}</a>', reverse("site_logo", args=[obj.slug]), obj.logo.name
        )

    @admin.display(description=_("secretariat phone"), ordering="phone")
    def phone_display(self, site):
        return phone_fr(site.phone) or self.get_empty_value_display()

    @admin.display(description=_("login address"))
    def login_address(self, obj):
        """The site's own login page, to give families (site pre-selected)."""
        return obj.get_login_path() if obj and obj.pk else "–"

    def has_add_permission(self, request):
        return staff_site_id(request) is None and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return staff_site_id(request) is None and super().has_delete_permission(request, obj)


class AccountCreationForm(forms.ModelForm):
    """A new account, without a password: its holder chooses one through the
    first-connection link (e-mail or letter); nobody else ever knows it.

    The identifiant is unique per site, not globally: the model's constraint on
    (site, username) is checked when the form validates the instance."""

    class Meta:
        model = User
        fields = ("site", "username", "family", "email", "is_staff")

    def clean(self):
        cleaned = super().clean()
        username = cleaned.get("username")
        taken = User.objects.filter(site=cleaned.get("site"), username__iexact=username)
        if username and taken.exists():
            # Said next to the field, rather than the database constraint's name.
            self.add_error(
                "username",
                _("This site already has an account with this identifiant (capitals aside)."),
            )
        return cleaned

    def save(self, commit=True):
        account = super().save(commit=False)
        account.set_unusable_password()
        if commit:
            account.save()
            self.save_m2m()
        return account


class AccountChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(SiteScopedAdmin, BaseUserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    list_display = ["username", "site", "family", "email", "is_staff", "is_active", "last_login"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "is_staff", "is_active"]
    search_fields = ["username", "email", "first_name", "last_name", "family__name"]
    list_select_related = ["site", "family"]
    autocomplete_fields = ["family"]
    filter_horizontal = [*BaseUserAdmin.filter_horizontal, "other_sites"]
    ordering = ["site", "username"]
    fieldsets = [
        (None, {"fields": ["site", "username", "password"]}),
        (_("Family and contact"), {"fields": ["family", "first_name", "last_name", "email"]}),
        (
            _("Permissions"),
            {
                "fields": [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                    "other_sites",
                ]
            },
        ),
        (
            _("Display preferences"),
            {
                "fields": [
                    "pref_large_text",
                    "pref_high_contrast",
                    "pref_reduced_motion",
                    "pref_dyslexia_font",
                ]
            },
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined", "invited_at"]}),
    ]
    add_form_template = "admin/extranet/user/add_form.html"
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["site", "username", "family", "email"]})
    ]
    readonly_fields = ["last_login", "date_joined", "invited_at"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if staff_site_id(request) is not None:
            # A secretary manages families' accounts and her own, never other
            # staff accounts (their passwords or e-mail addresses included).
            queryset = queryset.filter(Q(is_staff=False) | Q(pk=request.user.pk))
        return queryset

    def get_prepopulated_fields(self, request, obj=None):
        if "slug" in self.get_readonly_fields(request, obj):
            return {}
        return super().get_prepopulated_fields(request, obj)

    def get_fieldsets(self, request, obj=None):
        if obj is None and staff_site_id(request) is None:
            # A network administrator opens staff accounts too.
            options = self.add_fieldsets[0][1]
            return [(None, {**options, "fields": [*options["fields"], "is_staff"]})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if staff_site_id(request) is not None:
            # A secretary manages families' accounts, not staff rights.
            fields += ["is_staff", "is_superuser", "groups", "user_permissions", "other_sites"]
        return fields
