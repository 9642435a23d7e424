from django.db import models
from django.utils.translation import gettext_lazy as _

from extranet.models import Site


class Family(models.Model):
    """The household that owns the account(s) and pays."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="families"
    )
    name = models.CharField(_("name"), max_length=150)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")
        ordering = ["name"]

    def __str__(self):
        return self.name
