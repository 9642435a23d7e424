from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    """Messages the secretariat writes once and sends to many families."""

    name = "messaging"
    verbose_name = _("Messages to families")
