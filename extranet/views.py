from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_safe

from . import throttling
from .forms import (
    DisplayPreferencesForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
)
from .models import InvitationCode, Site
from .responses import base_url
from .storage import open_stream
from .tasks import request_password_reset, send_password_changed
from .tokens import invitation_token_generator

SITE_COOKIE = "extranet_site"
SITE_COOKIE_AGE = 365 * 24 * 3600


def _initial_site(request, slug=None):
    """The site to pre-select: the one asked for (a site's own login address,
    or carried from the login page), the one chosen last time on this browser,
    or the only one."""
    for candidate in (slug, request.GET.get("site"), request.COOKIES.get(SITE_COOKIE)):
        if candidate and Site.objects.active().filter(slug=candidate).exists():
            return candidate
    slugs = list(Site.objects.active().values_list("slug", flat=True)[:2])
    return slugs[0] if len(slugs) == 1 else None


def _remember_site(response, site):
    response.set_cookie(
        SITE_COOKIE,
        site.slug,
        max_age=SITE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _safe_next(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request, site=None):
    """The login page; `/connexion/<site>/` is a site's own address, the site
    pre-selected."""
    if site is not None:
        get_object_or_404(Site.objects.active(), slug=site)
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or "home")
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        login(request, form.user)
        return _remember_site(redirect(_safe_next(request) or "home"), form.cleaned_data["site"])
    # Only a page shown needs the site to pre-select (a query or two).
    initial_site = _initial_site(request, site)
    form.initial["site"] = initial_site
    chosen = form.cleaned_data.get("site") if form.is_bound else None
    response = render(
        request,
        "extranet/login.html",
        {
            "form": form,
            "next": _safe_next(request),
            "chosen_site": chosen.slug if chosen else initial_site,
        },
    )
    # The site chosen is remembered on this browser even when the password
    # was wrong: « Mot de passe perdu » then offers it.
    return _remember_site(response, chosen) if chosen else response


def admin_login(request):
    """The admin signs in through the portal's login (site, throttling).

    The admin sends a signed-in person it refuses here; the portal's login
    would send them back to the admin, and so on: a parent goes home instead,
    with a word of why."""
    if request.user.is_authenticated:
        if request.user.is_staff:
            return redirect(_safe_next(request) or "admin:index")
        messages.error(request, _("This part of the portal is reserved for the secretariat."))
        return redirect("home")
    url = reverse("login")
    if request.GET:
        url += "?" + request.GET.urlencode()
    return redirect(url)


@csrf_protect
@never_cache
def password_reset_request(request):
    form = PasswordResetRequestForm(
        request,
        data=request.POST if request.method == "POST" else None,
        initial={"site": _initial_site(request)},
    )
    if form.is_valid():
        # The worker looks the accounts up: the answer is the same, and as
        # fast, whether an account matched or not.
        transaction.on_commit(
            partial(
                request_password_reset.enqueue,
                form.cleaned_data["site"].pk,
                form.cleaned_data["identifier"],
                base_url(request),
                get_language(),
            )
        )
        return _remember_site(redirect("password_reset_done"), form.cleaned_data["site"])
    return render(request, "extranet/password_reset_request.html", {"form": form})


@require_safe
def password_reset_done(request):
    return render(request, "extranet/password_reset_done.html")


def tell_password_changed(request, user):
    """Queue the « mot de passe modifié » e-mail once the change is committed."""
    transaction.on_commit(
        partial(
            send_password_changed.enqueue,
            user.pk,
            timezone.now().isoformat(),
            base_url(request),
            get_language(),
        )
    )


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "extranet/password_reset_confirm.html"
    post_reset_login = True
    post_reset_login_backend = "extranet.auth_backends.SiteAccountBackend"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        tell_password_changed(self.request, form.user)
        messages.success(self.request, _("Your new password is saved. You are now signed in."))
        return response


class InvitationConfirmView(PasswordResetConfirmView):
    """First connection: the link of the invitation e-mail or letter."""

    token_generator = invitation_token_generator
    extra_context = {"invitation": True}

    def form_valid(self, form):
        response = auth_views.PasswordResetConfirmView.form_valid(self, form)
        messages.success(self.request, _("Welcome! Your password is saved and you are signed in."))
        return response


@require_safe
def invitation_code(request, code):
    """The short link of a posted letter: on to a fresh first-connection link."""
    if throttling.wait_seconds("code", request, None, ""):
        return render(
            request,
            "extranet/password_reset_confirm.html",
            {"validlink": False, "invitation": True},
            status=429,
        )
    normalised = code.replace("-", "").upper()
    found = (
        InvitationCode.objects.select_related("user").filter(code=normalised).first()
        if len(normalised) == 8
        else None
    )
    if found is None or not found.is_usable():
        throttling.record("code", request, None, "")
        return render(
            request,
            "extranet/password_reset_confirm.html",
            {"validlink": False, "invitation": True},
            status=404,
        )
    uid = urlsafe_base64_encode(force_bytes(found.user.pk))
    token = invitation_token_generator.make_token(found.user)
    return redirect("invitation_confirm", uidb64=uid, token=token)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "extranet/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("password_change")

    def form_valid(self, form):
        response = super().form_valid(form)
        tell_password_changed(self.request, form.user)
        messages.success(self.request, _("Your password has been changed."))
        return response


@login_required
def accessibility(request):
    form = DisplayPreferencesForm(
        request.POST if request.method == "POST" else None, instance=request.user
    )
    if form.is_valid():
        form.save()
        messages.success(request, _("Your display preferences are saved."))
        return redirect("accessibility")
    return render(request, "extranet/accessibility.html", {"form": form})


@require_safe
def accessibility_statement(request, slug):
    site = get_object_or_404(Site.objects.active(), slug=slug)
    return render(request, "extranet/accessibility_statement.html", {"statement_site": site})


@require_safe
def accessibility_statement_index(request):
    site = getattr(request.user, "site", None)
    if site is not None:
        return redirect(site)
    sites = Site.objects.active()
    if len(sites) == 1:
        return redirect(sites[0])
    return render(request, "extranet/accessibility_statement_index.html", {"sites": sites})


@require_safe
def site_logo(request, slug):
    site = get_object_or_404(Site.objects.active(), slug=slug)
    if not site.logo:
        raise Http404
    stream, size = open_stream(site.logo)
    response = FileResponse(stream, filename=site.logo.name)
    response["Content-Length"] = size
    response["Cache-Control"] = "public, max-age=3600"
    return response
