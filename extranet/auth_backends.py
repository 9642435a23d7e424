from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, F, OuterRef, Q


def account_for_login(site, username):
    """The account an identifiant designates on a site: the site's own, or
    else a network administrator's (accounts without a site)."""
    return (
        get_user_model()
        # The site is read at once to check it is open (user_can_authenticate).
        .objects.select_related("site")
        .filter(username__iexact=username)
        .filter(Q(site=site) | Q(site__isnull=True, is_staff=True))
        .order_by(F("site").asc(nulls_last=True))
        .first()
    )


class SiteAccountBackend(ModelBackend):
    """Authenticates an identifiant on a chosen site.

    An account of another site never matches, even with the right password.
    Network administrators (accounts without a site) may log in from any site.
    """

    def authenticate(self, request, site=None, username=None, password=None, **kwargs):
        if site is None or not username or password is None:
            return None
        user = account_for_login(site, username)
        if user is None:
            # Hash anyway so that an unknown identifiant takes as long as a
            # wrong password (no account enumeration by timing).
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        User = get_user_model()
        # Whether a staff member also works for other sites, asked with the
        # user itself: the administration's site switcher needs no query of its own.
        other_sites = User.other_sites.through.objects.filter(user=OuterRef("pk"))
        try:
            user = (
                User.objects.select_related("site", "family__site")
                .annotate(works_for_other_sites=Exists(other_sites))
                .get(pk=user_id)
            )
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user):
        if not super().user_can_authenticate(user):
            return False
        # A closed site closes its families' accounts too.
        return user.site_id is None or user.site.is_active
