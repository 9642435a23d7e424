import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from documents.models import BaseDocument, DocumentKind
from extranet.models import Site
from families.models import Family
from families.validators import validate_birth_date


def current_of(years, today=None):
    """Among a site's `years`, the year in progress; between two years
    (summer), the next one, whose courses families prepare; failing that,
    the last one."""
    today = today or timezone.localdate()
    years = sorted(years, key=lambda year: year.start_date)
    return (
        next((y for y in reversed(years) if y.start_date <= today <= y.end_date), None)
        or next((y for y in years if y.start_date > today), None)
        or max(years, key=lambda year: year.end_date, default=None)
    )


class SchoolYearQuerySet(models.QuerySet):
    def current(self, site, today=None):
        """See `current_of`."""
        # One query whatever the season: a site has a handful of years.
        return current_of(self.filter(site=site), today)


class SchoolYear(models.Model):
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="school_years"
    )
    name = models.CharField(_("name"), max_length=20, help_text=_("For example 2026-2027."))
    start_date = models.DateField(_("first day of lessons"))
    end_date = models.DateField(_("last day of lessons"))

    objects = SchoolYearQuerySet.as_manager()

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="unique_year_per_site")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": _("The year must end after it starts.")})


class ClosurePeriod(models.Model):
    """School holidays and other days without lessons."""

    school_year = models.ForeignKey(
        SchoolYear, verbose_name=_("school year"), on_delete=models.CASCADE, related_name="closures"
    )
    name = models.CharField(_("name"), max_length=80)
    start_date = models.DateField(_("first day without lessons"))
    end_date = models.DateField(_("last day without lessons"))

    class Meta:
        verbose_name = _("closure period")
        verbose_name_plural = _("closure periods")
        ordering = ["start_date"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The period must end after it starts.")})


class Discipline(models.Model):
    class Category(models.TextChoices):
        INSTRUMENT = "instrument", _("instrument")
        MUSICIANSHIP = "musicianship", _("musicianship (formation musicale)")
        DANCE = "dance", _("dance")
        THEATRE = "theatre", _("theatre")
        ENSEMBLE = "ensemble", _("ensemble practice")
        OTHER = "other", _("other")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="disciplines"
    )
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=15, choices=Category)
    required_documents = models.ManyToManyField(
        DocumentKind,
        verbose_name=_("documents required from its students"),
        blank=True,
        limit_choices_to={"scope": DocumentKind.Scope.STUDENT},
        help_text=_("For example a medical certificate for dance."),
    )

    class Meta:
        verbose_name = _("discipline")
        verbose_name_plural = _("disciplines")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Teacher(models.Model):
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="teachers"
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)

    class Meta:
        verbose_name = _("teacher")
        verbose_name_plural = _("teachers")
        ordering = ["last_name", "first_name"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class Room(models.Model):
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="rooms"
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Course(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="courses"
    )
    school_year = models.ForeignKey(
        SchoolYear, verbose_name=_("school year"), on_delete=models.PROTECT, related_name="courses"
    )
    discipline = models.ForeignKey(
        Discipline, verbose_name=_("discipline"), on_delete=models.PROTECT, related_name="courses"
    )
    level = models.CharField(
        _("level"), max_length=60, blank=True, help_text=_("For example “Cycle 1 – 3e année”.")
    )
    teacher = models.ForeignKey(
        Teacher,
        verbose_name=_("teacher"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="courses",
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday)
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    room = models.ForeignKey(
        Room,
        verbose_name=_("room"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="courses",
    )
    is_collective = models.BooleanField(_("collective lesson"), default=True)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "How many students the course takes; empty: no limit. A re-enrollment that "
            "would go beyond it is put on the waiting list or enrolled explicitly."
        ),
    )
    methods = models.TextField(_("methods and books to buy"), blank=True)
    parent_meeting = models.DateTimeField(_("parent–teacher meeting"), null=True, blank=True)
    external_ref = models.CharField(
        _("external reference"), max_length=64, blank=True, db_index=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["weekday", "start_time"]

    def __str__(self):
        level = f" – {self.level}" if self.level else ""
        return f"{self.discipline}{level} ({self.get_weekday_display()} {self.start_time:%H:%M})"

    def clean(self):
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("The lesson must end after it starts.")})
        errors = {}
        for name in ["school_year", "discipline", "teacher", "room"]:
            related = getattr(self, name, None) if getattr(self, f"{name}_id") else None
            if related is not None and self.site_id and related.site_id != self.site_id:
                errors[name] = _("This belongs to another site.")
        if errors:
            raise ValidationError(errors)


class Student(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", _("female")
        MALE = "M", _("male")

    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.CASCADE, related_name="students"
    )
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex, blank=True)
    birth_date = models.DateField(_("date of birth"), validators=[validate_birth_date])
    birth_place = models.CharField(_("place of birth"), max_length=100, blank=True)
    email = models.EmailField(_("own e-mail"), blank=True)
    mobile_phone = PhoneNumberField(_("own mobile"), blank=True, region="FR")
    school = models.CharField(_("school attended"), max_length=150, blank=True)
    school_class = models.CharField(_("class"), max_length=40, blank=True)
    image_rights = models.BooleanField(
        _("image rights"),
        default=False,
        help_text=_("The conservatoire may publish photos and videos where the student appears."),
    )
    may_leave_alone = models.BooleanField(
        _("may leave alone after lessons"),
        default=False,
    )
    remarks = models.TextField(
        _("remarks for the teachers"),
        blank=True,
        max_length=2000,
        help_text=_("Health, allergies, anything the teachers should know."),
    )
    guardian = models.OneToOneField(
        "families.Guardian",
        verbose_name=_("is also the guardian"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="as_student",
        help_text=_("For an adult who studies and holds the family's account."),
    )
    external_ref = models.CharField(
        _("external reference"), max_length=64, blank=True, db_index=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["first_name", "last_name"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def clean(self):
        if self.guardian_id and self.family_id and self.guardian.family_id != self.family_id:
            raise ValidationError({"guardian": _("This guardian belongs to another family.")})


class Enrollment(models.Model):
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="enrollments"
    )
    level = models.CharField(_("level"), max_length=60, blank=True)
    result = models.CharField(
        _("result"),
        max_length=120,
        blank=True,
        help_text=_("Once the year is over, e.g. “Passage en 4e année”."),
    )
    appreciation = models.TextField(_("appreciation"), blank=True)
    starts_on = models.DateField(
        _("from"),
        null=True,
        blank=True,
        help_text=_("When the student joined during the year; empty from the start."),
    )
    stops_on = models.DateField(
        _("until"),
        null=True,
        blank=True,
        help_text=_("When the student stopped during the year; empty to the end."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(fields=["student", "course"], name="unique_enrollment")
        ]

    def __str__(self):
        return f"{self.student} – {self.course}"

    def clean(self):
        # Also for a student not saved yet (added with his enrollments).
        family_id = getattr(getattr(self, "student", None), "family_id", None)
        if (
            family_id
            and self.course_id
            and Family.objects.get(pk=family_id).site_id != self.course.site_id
        ):
            raise ValidationError({"course": _("The course belongs to another site.")})


class StudentDocument(BaseDocument):
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.CASCADE, related_name="documents"
    )

    storage_folder = "students"

    class Meta(BaseDocument.Meta):
        verbose_name = _("student document")
        verbose_name_plural = _("student documents")
        indexes = [models.Index(fields=["status", "uploaded_at"])]

    @property
    def family(self):
        return self.student.family

    @property
    def owner(self):
        return self.student

    def get_portal_path(self):
        return reverse("students:detail", args=[self.student_id])

    def get_download_path(self):
        return reverse("students:document", args=[self.student_id, self.pk])

    def get_replace_path(self):
        return reverse("students:document_replace", args=[self.student_id, self.pk])


def new_token():
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The family's private calendar subscription; renewing the token
    revokes the old link."""

    family = models.OneToOneField(Family, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar link")
        verbose_name_plural = _("calendar links")

    def __str__(self):
        return str(self.family)

    def renew(self):
        self.token = new_token()
        self.save(update_fields=["token", "created_at"])
