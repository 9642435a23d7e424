"""The accounts' admin with the first connection: « Envoyer le lien de première
connexion » and « Imprimer la lettre », as actions on the list and buttons on
an account's page, through `families.onboarding` like `send_invitations`.

The accounts' admin itself belongs to `extranet`, which knows nothing of
families (the letters need their postal addresses): families extends the
class registered there and registers its extension in its place."""

from io import BytesIO

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from extranet.responses import portal_url, private_file

from . import onboarding

User = get_user_model()
RegisteredAccountAdmin = type(admin.site.get_model_admin(User))
# Names listed in a message before « … and N others ».
NAMES_SHOWN = 10

# Letters are drawn while the secretary waits: beyond this, the command does it.
MAX_LETTERS = 300


class FirstConnectionFilter(admin.SimpleListFilter):
    title = gettext_lazy("first connection")
    parameter_name = "first_connection"

    def lookups(self, request, model_admin):
        return [
            ("waiting", gettext_lazy("password not chosen yet")),
            ("never_invited", gettext_lazy("never invited")),
            ("letter", gettext_lazy("password not chosen, no e-mail address")),
            ("chosen", gettext_lazy("password chosen")),
        ]

    def queryset(self, request, queryset):
        waiting = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        without_email = Q(email="") & (Q(family__isnull=True) | Q(family__reference_email=""))
        if self.value() == "waiting":
            return queryset.filter(waiting)
        if self.value() == "never_invited":
            return queryset.filter(waiting, invited_at__isnull=True)
        if self.value() == "letter":
            return queryset.filter(waiting & without_email)
        if self.value() == "chosen":
            return queryset.exclude(waiting)
        return queryset


class OnboardingAccountAdmin(RegisteredAccountAdmin):
    change_form_template = "admin/families/account_change_form.html"
    actions = ["send_first_connection_link", "print_invitation_letter"]
    list_display = [*RegisteredAccountAdmin.list_display, "invited_at"]
    list_filter = [*RegisteredAccountAdmin.list_filter, FirstConnectionFilter]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/premiere-connexion/",
                view(self.send_link_view),
                name="extranet_user_first_connection_link",
            ),
            path(
                "<int:pk>/premiere-connexion/lettre/",
                view(self.letter_view),
                name="extranet_user_first_connection_letter",
            ),
            *super().get_urls(),
        ]

    @admin.action(
        description=gettext_lazy("Send the first-connection link"), permissions=["change"]
    )
    def send_first_connection_link(self, request, queryset):
        self.send_links(request, queryset.order_by("username"))

    @admin.action(description=gettext_lazy("Print the letter"), permissions=["change"])
    def print_invitation_letter(self, request, queryset):
        return self.print_letters(request, queryset.order_by("username"))

    @staticmethod
    def tell_skipped(request, selection):
        if selection.with_password:
            messages.info(
                request,
                ngettext(
                    "%(count)d account skipped: its holder has already chosen a password "
                    "(“Lost your password?” on the sign-in page is there for a forgotten one).",
                    "%(count)d accounts skipped: their holders have already chosen a password "
                    "(“Lost your password?” on the sign-in page is there for a forgotten one).",
                    len(selection.with_password),
                )
                % {"count": len(selection.with_password)},
            )
        if selection.inactive:
            messages.warning(
                request,
                ngettext(
                    "%(count)d account skipped: it is deactivated.",
                    "%(count)d accounts skipped: they are deactivated.",
                    len(selection.inactive),
                )
                % {"count": len(selection.inactive)},
            )

    def send_links(self, request, accounts):
        selection = onboarding.select(accounts)
        self.tell_skipped(request, selection)
        queued, without_email = onboarding.send_first_connection_links(
            selection.ready, portal_url(request)
        )
        if queued:
            messages.success(
                request,
                ngettext(
                    "%(count)d first-connection e-mail queued: it holds the identifiant and "
                    "a link to choose the password.",
                    "%(count)d first-connection e-mails queued, %(rate)d a minute: each holds "
                    "the identifiant and a link to choose the password.",
                    queued,
                )
                % {"count": queued, "rate": onboarding.DEFAULT_RATE},
            )
        if without_email:
            messages.warning(
                request,
                ngettext(
                    "%(count)d account has no e-mail address: print its letter "
                    "(“Print the letter”): %(names)s.",
                    "%(count)d accounts have no e-mail address: print their letters "
                    "(“Print the letter”): %(names)s.",
                    len(without_email),
                )
                % {"count": len(without_email), "names": names_of(without_email)},
            )

    def print_letters(self, request, accounts):
        selection = onboarding.select(accounts)
        self.tell_skipped(request, selection)
        if not selection.ready:
            messages.error(request, _("No letter to print."))
            return None
        if len(selection.ready) > MAX_LETTERS:
            messages.error(
                request,
                _(
                    "At most %(max)d letters at a time here; for more, ask for the "
                    "send_invitations command, which prints them all in one file."
                )
                % {"max": MAX_LETTERS},
            )
            return None
        letters = onboarding.invitation_letters(selection.ready, portal_url(request))
        if letters.without_address:
            messages.warning(
                request,
                _("No postal address for %(names)s: complete the letter by hand.")
                % {"names": names_of(letters.without_address)},
            )
        return private_file(
            BytesIO(letters.pdf), "lettres-premiere-connexion.pdf", "application/pdf"
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            return
        if obj.is_staff:
            # A colleague: her first-connection link leaves at once.
            self.send_links(request, [obj])
        else:
            messages.info(
                request,
                _(
                    "The account has no password: when the family should sign in, send it "
                    "the first-connection link or print its letter with the buttons at the top "
                    "of the page."
                ),
            )

    def changeable_account(self, request, pk):
        """The account, when this staff member may see and change it: 404 for
        another site's account (it does not exist, as far as she knows)."""
        account = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        return account

    @method_decorator(require_POST)
    def send_link_view(self, request, pk):
        account = self.changeable_account(request, pk)
        self.send_links(request, [account])
        return redirect("admin:extranet_user_change", account.pk)

    @method_decorator(require_POST)
    def letter_view(self, request, pk):
        account = self.changeable_account(request, pk)
        return self.print_letters(request, [account]) or redirect(
            "admin:extranet_user_change", account.pk
        )


def names_of(accounts):
    """« dupont (Dupont), martin (Martin) and 3 others »"""
    names = [
        f"{account.username} ({account.family.name})" if account.family else account.username
        for account in accounts[:NAMES_SHOWN]
    ]
    rest = len(accounts) - len(names)
    if rest:
        return ngettext("%(names)s and %(count)d other", "%(names)s and %(count)d others", rest) % {
            "names": ", ".join(names),
            "count": rest,
        }
    return ", ".join(names)
