"""Where a family stands with its account: none, never used, invited and
the link not used yet. Conditions on Family, for the secretariat's list
filter and the day's figures alike. Only active accounts count: a closed
account is no way in.

Each condition has two forms meaning the same: a filter on Family (EXISTS
subqueries, for the list filter), and a test on the counts that `tallies()`
gives (for the day's figures: one pass over the accounts, grouped by family,
where the filters would probe the accounts five times per family)."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q

# The state names, values of the families' "account" list filter.
STATES = ("none", "never", "invited", "used")


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


CONDITIONS = {
    "none": without_account,
    "never": never_signed_in,
    "invited": invitation_unused,
    "used": signed_in,
}


def tallies():
    """Per family: its active accounts, those signed in once, those invited."""
    active = Q(accounts__is_active=True)
    return {
        "active_accounts": Count("accounts", filter=active),
        "signed_accounts": Count("accounts", filter=active & Q(accounts__last_login__isnull=False)),
        "invited_accounts": Count(
            "accounts", filter=active & Q(accounts__invited_at__isnull=False)
        ),
    }


# The same states as tests on tallies(): zero or not, whatever a join multiplies.
ON_TALLIES = {
    "none": Q(active_accounts=0),
    "never": Q(active_accounts__gt=0, signed_accounts=0),
    "invited": Q(invited_accounts__gt=0, signed_accounts=0),
    "used": Q(signed_accounts__gt=0),
}


def counts(families, states=STATES):
    """{state: number of `families` in it}, in one query."""
    return families.alias(**tallies()).aggregate(
        **{state: Count("pk", filter=ON_TALLIES[state]) for state in states}
    )
