import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from documents.models import DocumentKind, documents_storage
from extranet.models import Site
from students.models import Course, Discipline, Enrollment, SchoolYear, Student


def rules_path(instance, filename):
    return f"rules/{uuid.uuid4().hex}.pdf"


class SchoolRules(models.Model):
    """One version of a site's règlement intérieur. A new version is a new
    row, so that what a family accepted stays readable."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="school_rules"
    )
    version = models.CharField(
        _("version"), max_length=40, help_text=_("For example “2027” or “adopted 12 May 2027”.")
    )
    text = models.TextField(
        _("text"), blank=True, help_text=_("Shown to families before they accept.")
    )
    file = models.FileField(_("PDF"), storage=documents_storage, upload_to=rules_path, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("school rules")
        verbose_name_plural = _("school rules")
        ordering = ["site", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "version"], name="unique_rules_version_per_site"
            )
        ]

    def __str__(self):
        return _("School rules, version %(version)s") % {"version": self.version}

    def clean(self):
        if not self.text.strip() and not self.file:
            raise ValidationError(_("Give the text of the rules, or their PDF, or both."))


class CampaignQuerySet(models.QuerySet):
    def for_portal(self, site, now=None):
        """The campaign a family sees: the open one, else the next one, else
        the last one that closed."""
        now = now or timezone.now()
        campaigns = self.filter(site=site).select_related("school_year", "rules")
        return (
            campaigns.filter(opens_at__lte=now, closes_at__gt=now).order_by("closes_at").first()
            or campaigns.filter(opens_at__gt=now).order_by("opens_at").first()
            or campaigns.filter(closes_at__lte=now).order_by("-closes_at").first()
        )


class ReenrollmentCampaign(models.Model):
    class State(models.TextChoices):
        """Where the campaign stands at a given time (computed, not stored)."""

        UPCOMING = "upcoming", pgettext_lazy("campaign", "upcoming")
        OPEN = "open", pgettext_lazy("campaign", "open")
        CLOSED = "closed", pgettext_lazy("campaign", "closed")

    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        related_name="reenrollment_campaigns",
    )
    school_year = models.ForeignKey(
        SchoolYear,
        verbose_name=_("school year of the re-enrollment"),
        on_delete=models.PROTECT,
        related_name="reenrollment_campaigns",
        help_text=_("The coming year the families re-enroll for."),
    )
    opens_at = models.DateTimeField(_("opens on"))
    closes_at = models.DateTimeField(_("closes on"))
    instructions = models.TextField(_("instructions for families"), blank=True)
    rules = models.ForeignKey(
        SchoolRules,
        verbose_name=_("school rules to accept"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    family_documents = models.ManyToManyField(
        DocumentKind,
        verbose_name=_("documents asked of each family"),
        blank=True,
        related_name="campaigns_as_family_document",
        limit_choices_to={"scope": DocumentKind.Scope.FAMILY},
        help_text=_(
            "For example a proof of address of less than 3 months, the tax notice, "
            "the civil liability certificate."
        ),
    )
    student_documents = models.ManyToManyField(
        DocumentKind,
        verbose_name=_("documents asked of each student"),
        blank=True,
        related_name="campaigns_as_student_document",
        limit_choices_to={"scope": DocumentKind.Scope.STUDENT},
        help_text=_(
            "Documents required by a discipline (a medical certificate for dance) "
            "are added for its students."
        ),
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("re-enrollment campaign")
        verbose_name_plural = _("re-enrollment campaigns")
        ordering = ["-opens_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "school_year"], name="unique_campaign_per_year"
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="campaign_closes_after_opening",
            ),
        ]

    def __str__(self):
        return _("Re-enrollment %(year)s") % {"year": self.school_year}

    def clean(self):
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("The campaign must close after it opens.")
        for name in ["school_year", "rules"]:
            related = getattr(self, name) if getattr(self, f"{name}_id") else None
            if related is not None and self.site_id and related.site_id != self.site_id:
                errors[name] = _("This belongs to another site.")
        if errors:
            raise ValidationError(errors)

    def state(self, now=None):
        now = now or timezone.now()
        if now < self.opens_at:
            return self.State.UPCOMING
        if now >= self.closes_at:
            return self.State.CLOSED
        return self.State.OPEN

    def previous_year(self):
        """The year being completed, whose enrollments the families continue."""
        return (
            SchoolYear.objects.filter(site=self.site_id, start_date__lt=self.school_year.start_date)
            .order_by("-start_date")
            .first()
        )


class ReenrollmentRequest(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("sent")
        IN_REVIEW = "in_review", _("being processed")
        INCOMPLETE = "incomplete", _("incomplete")
        VALIDATED = "validated", _("validated")
        REFUSED = "refused", _("refused")

    # What the family may still change: before the secretariat takes it up.
    FAMILY_EDITABLE = {Status.DRAFT, Status.SUBMITTED, Status.INCOMPLETE}
    # What the secretariat may decide on.
    DECIDABLE = {Status.SUBMITTED, Status.IN_REVIEW, Status.INCOMPLETE}
    # Decided: nothing left to change, for anyone.
    DECIDED = {Status.VALIDATED, Status.REFUSED}

    campaign = models.ForeignKey(
        ReenrollmentCampaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        on_delete=models.CASCADE,
        related_name="reenrollment_requests",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.DRAFT)
    musicianship_level = models.CharField(_("formation musicale level"), max_length=60, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    wishes_saved_at = models.DateTimeField(_("wishes saved"), null=True, blank=True)
    rules_accepted = models.ForeignKey(
        SchoolRules,
        verbose_name=_("school rules accepted"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rules_version = models.CharField(_("version of the rules accepted"), max_length=40, blank=True)
    rules_accepted_at = models.DateTimeField(_("rules accepted on"), null=True, blank=True)
    rules_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rules accepted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("sent on"), null=True, blank=True)
    changed_after_sending_at = models.DateTimeField(
        _("changed after sending on"), null=True, blank=True
    )
    missing_note = models.TextField(
        _("what is missing"),
        blank=True,
        max_length=2000,
        help_text=_("When the request is incomplete: the family receives this text."),
    )
    refusal_reason = models.TextField(
        _("reason for refusal"),
        blank=True,
        max_length=2000,
        help_text=_("When the request is refused: the family receives this text."),
    )
    assigned_courses = models.ManyToManyField(
        Course,
        verbose_name=_("courses for next year"),
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("re-enrollment request")
        verbose_name_plural = _("re-enrollment requests")
        ordering = ["campaign", "student__family__name", "student__first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "student"], name="one_request_per_student_and_campaign"
            )
        ]

    def __str__(self):
        return _("Re-enrollment of %(student)s for %(year)s") % {
            "student": self.student,
            "year": self.campaign.school_year,
        }

    def family_may_edit(self, now=None):
        if self.status not in self.FAMILY_EDITABLE:
            return False
        # The secretariat asked for something: it can be sent after the closing date.
        return (
            self.status == self.Status.INCOMPLETE
            or self.campaign.state(now) == ReenrollmentCampaign.State.OPEN
        )

    @property
    def is_sent(self):
        return self.status != self.Status.DRAFT

    @property
    def is_taken_up(self):
        """In the secretariat's hands: taken up or decided."""
        return self.status == self.Status.IN_REVIEW or self.is_decided

    @property
    def is_decided(self):
        return self.status in self.DECIDED


class Wish(models.Model):
    """Continue or stop a course of the year, or a new discipline wished."""

    class Choice(models.TextChoices):
        CONTINUE = "continue", _("continue")
        STOP = "stop", _("stop")
        NEW = "new", _("new discipline")

    class Answer(models.TextChoices):
        """The secretariat's answer, given when it validates the request."""

        GRANTED = "granted", _("granted")
        REFUSED = "refused", pgettext_lazy("wish", "refused")
        WAITING_LIST = "waiting_list", _("on the waiting list")

    # The answers a secretary gives by hand: a granted wish is one with a course.
    NOT_GRANTED = [Answer.REFUSED, Answer.WAITING_LIST]

    request = models.ForeignKey(
        ReenrollmentRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="wishes",
    )
    choice = models.CharField(_("choice"), max_length=10, choices=Choice)
    discipline = models.ForeignKey(
        Discipline, verbose_name=_("discipline"), on_delete=models.PROTECT, related_name="+"
    )
    enrollment = models.ForeignKey(
        Enrollment,
        verbose_name=_("current enrollment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    rank = models.PositiveSmallIntegerField(
        _("preference"), default=0, help_text=_("1 for the first choice.")
    )
    answer = models.CharField(
        _("answer"),
        max_length=12,
        choices=Answer,
        blank=True,
        help_text=_("Given when the request is validated; empty until then."),
    )
    answer_note = models.TextField(
        _("note to the family"),
        blank=True,
        max_length=1000,
        help_text=_("Why the wish is refused, or where it stands on the waiting list."),
    )
    waiting_course = models.ForeignKey(
        Course,
        verbose_name=_("waiting for the course"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="waiting_wishes",
        help_text=_("On the waiting list of this course, which was full."),
    )

    class Meta:
        verbose_name = _("wish")
        verbose_name_plural = _("wishes")
        ordering = ["request", "rank", "pk"]

    def __str__(self):
        if self.choice == self.Choice.NEW:
            return _("%(discipline)s (new, choice %(rank)s)") % {
                "discipline": self.discipline,
                "rank": self.rank,
            }
        return f"{self.discipline} ({self.get_choice_display()})"

    @property
    def is_wanted(self):
        """A course continued or a new discipline: something to answer."""
        return self.choice != self.Choice.STOP
