from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext_lazy as _


class SiteQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class KeepsContentVersion:
    """Saving an instance loaded earlier must not write back its old
    ``content_version``: a key already used could come back and serve a
    fragment cached before a change. Only bumps write it."""

    def save(self, *args, **kwargs):
        if not self._state.adding and not args and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "content_version"
            ]
        super().save(*args, **kwargs)


class Site(KeepsContentVersion, models.Model):
    """One conservatoire or cultural centre of the network."""

    class Conformity(models.TextChoices):
        FULL = "full", _("fully compliant")
        PARTIAL = "partial", _("partially compliant")
        NONE = "none", _("not compliant")

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    address = models.TextField(_("secretariat address"), blank=True)
    phone = models.CharField(_("secretariat phone"), max_length=30, blank=True)
    email = models.EmailField(_("secretariat e-mail"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="sites/logos/", blank=True)
    welcome_text = models.TextField(
        _("welcome text"), blank=True, help_text=_("Shown on the families' home page.")
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active sites are offered on the login page.")
    )
    accessibility_conformity = models.CharField(
        _("accessibility conformity"),
        max_length=10,
        choices=Conformity,
        default=Conformity.PARTIAL,
    )
    accessibility_statement = models.TextField(
        _("accessibility statement"),
        blank=True,
        help_text=_("Audit results, non-compliant content and derogations (RGAA)."),
    )
    accessibility_statement_date = models.DateField(
        _("date of the statement"), null=True, blank=True
    )
    accessibility_contact = models.CharField(
        _("contact to report an accessibility problem"),
        max_length=200,
        blank=True,
        help_text=_("An e-mail address or a web form; the secretariat's e-mail when empty."),
    )
    # Moved with every change of what all the site's families see (fee grid,
    # courses, settings): part of the keys of cached page fragments.
    content_version = models.PositiveBigIntegerField(default=0, editable=False)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("accessibility_statement", args=[self.slug])

    def get_login_path(self):
        """The site's own login address, the site pre-selected."""
        return reverse("site_login", args=[self.slug])

    @property
    def accessibility_contact_or_secretariat(self):
        return self.accessibility_contact or self.email


class AccountManager(UserManager):
    def for_password_reset(self, site_id, identifier):
        """Active accounts of the site designated by their identifiant or,
        failing that, by their e-mail address or their family's."""
        identifier = identifier.strip()
        accounts = (
            self.filter(site_id=site_id, is_active=True)
            .exclude(email="", family__reference_email="")
            .exclude(email="", family__isnull=True)
            .select_related("site", "family")
        )
        by_username = list(accounts.filter(username__iexact=identifier))
        if by_username:
            return by_username
        return list(
            accounts.filter(
                Q(email__iexact=identifier) | Q(family__reference_email__iexact=identifier)
            )
        )

    def get_by_natural_key(self, username):
        # Identifiants are unique per site only; the natural key used by
        # createsuperuser and fixtures designates network accounts.
        return self.get(username=username, site__isnull=True)


class User(AbstractUser):
    """An account: a family's login on one site, a secretary of one site, or a
    network administrator (no site, sees every site)."""

    username = models.CharField(
        _("identifiant"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Unique within the site. Letters, digits and @/./+/-/_ only."),
    )
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        help_text=_("Empty for network administrators, who see every site."),
    )
    family = models.ForeignKey(
        "families.Family",
        verbose_name=_("family"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accounts",
    )
    other_sites = models.ManyToManyField(
        Site,
        verbose_name=_("other sites"),
        blank=True,
        related_name="visiting_staff",
        help_text=_(
            "Staff only: the other sites this person also works for; she switches between "
            "them in the administration."
        ),
    )
    invited_at = models.DateTimeField(
        _("first-connection link sent"),
        null=True,
        blank=True,
        help_text=_("When the last first-connection e-mail or letter was sent or printed."),
    )
    pref_large_text = models.BooleanField(_("larger text"), default=False)
    pref_high_contrast = models.BooleanField(_("high contrast"), default=False)
    pref_reduced_motion = models.BooleanField(_("reduced motion"), default=False)
    pref_dyslexia_font = models.BooleanField(_("font for dyslexic readers"), default=False)

    objects = AccountManager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            # Case-insensitive: "Dupont" and "dupont" are one identifiant.
            models.UniqueConstraint(Lower("username"), "site", name="unique_username_per_site"),
            models.UniqueConstraint(
                Lower("username"),
                condition=Q(site__isnull=True),
                name="unique_network_username",
            ),
        ]

    def __str__(self):
        return f"{self.username} ({self.site or _('network')})"

    def clean(self):
        super().clean()
        if self.family_id and self.family.site_id != self.site_id:
            raise ValidationError(
                {"family": _("The family belongs to another site than the account.")}
            )

    @property
    def contact_email(self):
        if self.email:
            return self.email
        return self.family.reference_email if self.family_id else ""

    @property
    def display_classes(self):
        """CSS classes on <html> for the saved display preferences."""
        flags = {
            "pref-large-text": self.pref_large_text,
            "pref-high-contrast": self.pref_high_contrast,
            "pref-reduced-motion": self.pref_reduced_motion,
            "pref-dyslexia-font": self.pref_dyslexia_font,
        }
        return " ".join(name for name, on in flags.items() if on)


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # No 0/O, 1/I: typed from paper.


def new_invitation_code():
    return get_random_string(8, CODE_ALPHABET)


class InvitationCode(models.Model):
    """The short code printed on a posted invitation letter. It leads to a
    first-connection link while the account has no password yet, and for
    INVITATION_VALID_DAYS."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitation_codes")
    code = models.CharField(max_length=8, unique=True, default=new_invitation_code)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invitation code")
        verbose_name_plural = _("invitation codes")

    def __str__(self):
        return self.display

    @property
    def display(self):
        return f"{self.code[:4]}-{self.code[4:]}"

    def is_usable(self):
        expiry = self.created_at + timedelta(days=settings.INVITATION_VALID_DAYS)
        return (
            timezone.now() < expiry and self.user.is_active and not self.user.has_usable_password()
        )


class WorkerHeartbeat(models.Model):
    """A task worker still alive: `manage.py run_worker` touches its row every
    few seconds. A task left running by a worker without a recent heartbeat
    is given back to the queue (see extranet/workers.py)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("task worker")
        verbose_name_plural = _("task workers")

    def __str__(self):
        return f"{self.hostname}:{self.pid} ({self.worker_id})"


class SentEmail(models.Model):
    """An e-mail the SMTP server accepted, by a key stable across runs of its
    task: a task run again after its worker died does not send it twice."""

    key = models.CharField(max_length=200, unique=True)
    message_id = models.CharField(max_length=255)
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("sent e-mail")
        verbose_name_plural = _("sent e-mails")

    def __str__(self):
        return self.message_id
