from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from extranet.models import Site
from families.models import Family
from students.models import Course, Discipline, Teacher


class Message(models.Model):
    """What the secretariat writes once to the families of a course, a
    discipline, a teacher, a level or the whole site. Sent once."""

    class Audience(models.TextChoices):
        COURSE = "course", _("the families of a course")
        DISCIPLINE = "discipline", _("the families of a discipline")
        TEACHER = "teacher", _("the families of a teacher's students")
        LEVEL = "level", _("the families of a level")
        SITE = "site", _("every family of the site")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="messages"
    )
    subject = models.CharField(_("subject"), max_length=150)
    body = models.TextField(
        _("text"),
        max_length=10000,
        help_text=_(
            "Plain text: a blank line between paragraphs; web and e-mail addresses become "
            "links. “Hello,” comes before it and the site's signature after it."
        ),
    )
    audience = models.CharField(_("to"), max_length=12, choices=Audience, default=Audience.COURSE)
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    discipline = models.ForeignKey(
        Discipline,
        verbose_name=_("discipline"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    teacher = models.ForeignKey(
        Teacher,
        verbose_name=_("teacher"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    level = models.CharField(_("level"), max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("written on"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent on"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("message to families")
        verbose_name_plural = _("messages to families")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.subject

    @property
    def is_sent(self):
        return self.sent_at is not None

    def target(self):
        """The course, discipline, teacher or level the audience names; None
        for the whole site."""
        return {
            self.Audience.COURSE: self.course,
            self.Audience.DISCIPLINE: self.discipline,
            self.Audience.TEACHER: self.teacher,
            self.Audience.LEVEL: self.level,
        }.get(self.audience)

    def audience_text(self):
        """“the families of a course: Piano (Wednesday 14:00)”."""
        target = self.target()
        if not target:
            return str(self.get_audience_display())
        return _("%(audience)s: %(target)s") % {
            "audience": self.get_audience_display(),
            "target": target,
        }


class Delivery(models.Model):
    """The message as sent to one family: the log the secretariat reads."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", pgettext_lazy("message", "sent")
        FAILED = "failed", _("failed")
        NO_EMAIL = "no_email", _("no e-mail: to phone")

    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="deliveries"
    )
    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(_("e-mail"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    queued_at = models.DateTimeField(_("queued on"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent on"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["message", "family__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["message", "family"], name="one_delivery_per_family")
        ]

    def __str__(self):
        return f"{self.message} – {self.family}"
