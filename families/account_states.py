"""Where a family stands with its account: none, never used, invited and
the link not used yet. Conditions on Family, for the secretariat's list
filter and the day's figures alike. Only active accounts count: a closed
account is no way in."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q


def _accounts(**conditions):
    return Exists(
        get_user_model().objects.filter(family=OuterRef("pk"), is_active=True, **conditions)
    )


def without_account():
    return ~Q(_accounts())


def never_signed_in():
    """An account, never used to sign in (invited or not)."""
    return Q(_accounts()) & ~Q(_accounts(last_login__isnull=False))


def invitation_unused():
    """A first-connection link or letter sent, and no account signed in since."""
    return Q(_accounts(invited_at__isnull=False)) & ~Q(_accounts(last_login__isnull=False))


def signed_in():
    return Q(_accounts(last_login__isnull=False))
