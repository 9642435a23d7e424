from functools import partial

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.db import transaction
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from . import throttling
from .models import Site, User
from .responses import base_url
from .tasks import notify_login_failures

IDENTIFIER_MAX_LENGTH = 150


class SiteChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=Site.objects.active(),
            label=_("Site"),
            empty_label=_("Choose your site"),
            to_field_name="slug",
            error_messages={
                "required": _("Choose your site."),
                "invalid_choice": _("Choose a site from the list."),
            },
            **kwargs,
        )


def throttled_error(seconds):
    if seconds < 60:
        return forms.ValidationError(
            ngettext(
                "Too many attempts. For your security, please try again in %(seconds)d second.",
                "Too many attempts. For your security, please try again in %(seconds)d seconds.",
                seconds,
            ),
            code="throttled",
            params={"seconds": seconds},
        )
    minutes = throttling.minutes(seconds)
    return forms.ValidationError(
        ngettext(
            "Too many attempts. For your security, please try again in %(minutes)d minute.",
            "Too many attempts. For your security, please try again in %(minutes)d minutes.",
            minutes,
        ),
        code="throttled",
        params={"minutes": minutes},
    )


class LoginForm(forms.Form):
    site = SiteChoiceField()
    username = forms.CharField(
        label=_("Identifiant"),
        max_length=IDENTIFIER_MAX_LENGTH,
        error_messages={"required": _("Enter your identifiant.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        error_messages={"required": _("Enter your password.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    invalid_login_message = _(
        "Identifiant or password incorrect for this site. Check the site chosen in the list, "
        "then your identifiant and password."
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        site = cleaned.get("site")
        username = cleaned.get("username")
        password = cleaned.get("password")
        if not (site and username and password):
            return cleaned
        # Network administrators may sign in from any site: count their
        # failures once for the whole network, not once per site.
        is_network = User.objects.filter(site__isnull=True, username__iexact=username).exists()
        scope = "network" if is_network else site.pk
        wait = throttling.wait_seconds("login", self.request, scope, username)
        if wait:
            raise throttled_error(wait)
        self.user = authenticate(self.request, site=site, username=username, password=password)
        if self.user is None:
            if throttling.record("login", self.request, scope, username):
                # Once per window; whether the account exists is the worker's
                # business, so the answer here is the same either way.
                transaction.on_commit(
                    partial(
                        notify_login_failures.enqueue,
                        site.pk,
                        username,
                        base_url(self.request),
                        get_language(),
                    )
                )
            raise forms.ValidationError(self.invalid_login_message, code="invalid_login")
        throttling.signed_in(self.request, scope, username)
        return cleaned


class PasswordResetRequestForm(forms.Form):
    site = SiteChoiceField()
    identifier = forms.CharField(
        label=_("Identifiant or e-mail address"),
        max_length=254,
        error_messages={"required": _("Enter your identifiant or your e-mail address.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        site = cleaned.get("site")
        identifier = cleaned.get("identifier")
        if site and identifier:
            wait = throttling.wait_seconds("reset", self.request, site.pk, identifier)
            if wait:
                raise throttled_error(wait)
            throttling.record("reset", self.request, site.pk, identifier)
        return cleaned


class DisplayPreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "pref_large_text",
            "pref_high_contrast",
            "pref_reduced_motion",
            "pref_dyslexia_font",
        ]
        help_texts = {
            "pref_large_text": _("Text about one third larger on every page."),
            "pref_high_contrast": _(
                "Black text on a white background, underlined links, thicker borders."
            ),
            "pref_reduced_motion": _("No animations or transitions."),
            "pref_dyslexia_font": _("OpenDyslexic, a typeface designed for dyslexic readers."),
        }


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The error summary takes the focus when there are errors; two
        # autofocus elements would be invalid.
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
