from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from extranet.models import Site


class NewsQuerySet(models.QuerySet):
    def shown(self, site, today=None):
        """The site's news in their publication window on `today`, newest first."""
        today = today or timezone.localdate()
        return (
            self.filter(site=site, publish_from__lte=today)
            .filter(Q(publish_until__isnull=True) | Q(publish_until__gte=today))
            .order_by("-publish_from", "-pk")
        )


class News(models.Model):
    """A short announcement the secretariat publishes on the families' home
    page of its site: a closure, a concert, a deadline."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="news"
    )
    title = models.CharField(pgettext_lazy("news", "title"), max_length=120)
    body = models.TextField(_("text"), max_length=2000)
    publish_from = models.DateField(
        _("shown from"), default=timezone.localdate, help_text=_("First day it is shown.")
    )
    publish_until = models.DateField(
        _("shown until"),
        null=True,
        blank=True,
        help_text=_("Last day it is shown; empty: until it is removed."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = NewsQuerySet.as_manager()

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news")
        ordering = ["-publish_from", "-pk"]

    def __str__(self):
        return self.title

    def clean(self):
        if self.publish_from and self.publish_until and self.publish_until < self.publish_from:
            raise ValidationError(
                {"publish_until": _("The last day shown cannot come before the first.")}
            )

    def is_shown(self, today=None):
        today = today or timezone.localdate()
        return self.publish_from <= today and (
            self.publish_until is None or today <= self.publish_until
        )
