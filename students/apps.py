from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = _("Students and courses")

    def ready(self):
        from families import versions

        from .models import ClosurePeriod, Enrollment, StudentDocument

        versions.follow(Enrollment, family="student__family_id")
        versions.follow(StudentDocument, family="student__family_id")
        versions.follow(ClosurePeriod, site="school_year__site_id")
