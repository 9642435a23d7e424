from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.tasks import task
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .auth_backends import account_for_login
from .mail import build_message, deliver, message_from_payload
from .models import Site
from .tokens import invitation_token_generator


def login_path(site):
    """The site's own login address (the site pre-selected), else the portal's."""
    return site.get_login_path() if site else reverse("login")


def password_reset_message(user, base_url, language=None):
    """The reset e-mail. The token is made here, in the worker, so that it is
    never stored in the task queue."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    context = {
        "user": user,
        "site": user.site,
        "reset_url": f"{base_url}{path}",
        "login_url": f"{base_url}{login_path(user.site)}",
        "expiry_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
    }
    return build_message(
        "extranet/emails/password_reset",
        context,
        to=[user.contact_email],
        reply_to=user.site.email if user.site else None,
        language=language,
    )


@task()
def request_password_reset(site_id, identifier, base_url, language=None):
    """One reset e-mail to each account the identifiant or address designates."""
    accounts = get_user_model().objects.for_password_reset(site_id, identifier)
    for user in accounts:
        send_password_reset.enqueue(user.pk, base_url, language)
    return len(accounts)


@task()
def send_password_reset(user_id, base_url, language=None, attempt=1):
    user = (
        get_user_model()
        .objects.select_related("site")
        .select_related("family")
        .filter(pk=user_id, is_active=True)
        .first()
    )
    if user is None or not user.contact_email:
        return "account gone"
    deliver(
        password_reset_message(user, base_url, language),
        attempt,
        requeue=lambda run_after: send_password_reset.using(run_after=run_after).enqueue(
            user_id, base_url, language, attempt=attempt + 1
        ),
    )
    return "sent"


def invitation_context(user, base_url):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    path = reverse("invitation_confirm", kwargs={"uidb64": uid, "token": token})
    context = {
        "user": user,
        "site": user.site,
        "invitation_url": f"{base_url}{path}",
        "login_url": f"{base_url}{login_path(user.site)}",
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    return context


@task()
def send_invitation(user_id, base_url, language=None, attempt=1):
    """The first-connection e-mail: the site, the identifiant and a link to
    choose a password. Never a password."""
    user = (
        get_user_model()
        .objects.select_related("site", "family")
        .filter(pk=user_id, is_active=True)
        .first()
    )
    if user is None or not user.contact_email:
        return "no address"
    message = build_message(
        "extranet/emails/invitation",
        invitation_context(user, base_url),
        to=[user.contact_email],
        reply_to=user.site.email if user.site else None,
        language=language,
    )
    deliver(
        message,
        attempt,
        requeue=lambda run_after: send_invitation.using(run_after=run_after).enqueue(
            user_id, base_url, language, attempt=attempt + 1
        ),
    )
    return "sent"


@task()
def notify_login_failures(site_id, username, base_url, language=None, attempt=1):
    """Tell an account's holder that many sign-ins with a wrong password were
    tried on it. The account is looked up here, in the worker, so that the
    sign-in page answers alike whether the identifiant exists or not."""
    site = Site.objects.filter(pk=site_id).first()
    user = account_for_login(site, username) if site else None
    if user is None or not user.is_active or not user.contact_email:
        return "no account"
    # A network administrator has no site of their own: the one tried.
    site = user.site or site
    context = {
        "user": user,
        "site": site,
        "login_url": f"{base_url}{login_path(site)}",
        "reset_url": f"{base_url}{reverse('password_reset')}",
    }
    message = build_message(
        "extranet/emails/login_failures",
        context,
        to=[user.contact_email],
        reply_to=site.email or None,
        language=language,
    )
    deliver(
        message,
        attempt,
        requeue=lambda run_after: notify_login_failures.using(run_after=run_after).enqueue(
            site_id, username, base_url, language, attempt=attempt + 1
        ),
    )
    return "sent"


@task()
def send_password_changed(user_id, changed_at, base_url, language=None, attempt=1):
    """Tell the account holder that the password was changed (never the
    password): if it was not them, they reset it and warn the secretariat."""
    user = (
        get_user_model()
        .objects.select_related("site", "family")
        .filter(pk=user_id, is_active=True)
        .first()
    )
    if user is None or not user.contact_email:
        return "no address"
    site = user.site
    reset_path = reverse("password_reset") + (f"?site={site.slug}" if site else "")
    context = {
        "user": user,
        "site": site,
        "changed_at": datetime.fromisoformat(changed_at),
        "login_url": f"{base_url}{login_path(site)}",
        "reset_url": f"{base_url}{reset_path}",
    }
    message = build_message(
        "extranet/emails/password_changed",
        context,
        to=[user.contact_email],
        reply_to=site.email if site else None,
        language=language,
    )
    deliver(
        message,
        attempt,
        requeue=lambda run_after: send_password_changed.using(run_after=run_after).enqueue(
            user_id, changed_at, base_url, language, attempt=attempt + 1
        ),
    )
    return "sent"


@task()
def send_email(payload, attempt=1):
    """Send a message rendered when it was queued (no secret in it)."""
    sent = deliver(
        message_from_payload(payload),
        attempt,
        requeue=lambda run_after: send_email.using(run_after=run_after).enqueue(
            payload, attempt=attempt + 1
        ),
    )
    return "sent" if sent else "already sent"
