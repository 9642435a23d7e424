from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReenrollmentConfig(AppConfig):
    name = "reenrollment"
    verbose_name = _("Re-enrollment")

    def ready(self):
        from families import versions

        from .models import ReenrollmentRequest, Wish

        versions.follow(ReenrollmentRequest, family="student__family_id")
        versions.follow(Wish, family="request__student__family_id")
