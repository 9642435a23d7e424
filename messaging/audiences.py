"""Who a message reaches: the families of the students enrolled, this school
year, in a course, a discipline, with a teacher, at a level, or anywhere on
the site. A family with two children in the course is one recipient."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q

from extranet.models import User
from families.models import Family, Guardian
from students import capacity
from students.models import Course, Enrollment, SchoolYear

from .models import Message

Audience = Message.Audience


def current_year(site_id):
    return SchoolYear.objects.current(site_id)


def enrollments(message, today=None):
    """The enrollments whose families `message` reaches: this year's (the
    course's own year for a course), not stopped, of the message's site."""
    found = Enrollment.objects.filter(
        capacity.active(today),
        course__site_id=message.site_id,
        student__family__site_id=message.site_id,
    )
    if message.audience == Audience.COURSE:
        return found.filter(course_id=message.course_id)
    year = current_year(message.site_id)
    if year is None:
        return found.none()
    found = found.filter(course__school_year=year)
    if message.audience == Audience.DISCIPLINE:
        return found.filter(course__discipline_id=message.discipline_id)
    if message.audience == Audience.TEACHER:
        return found.filter(course__teacher_id=message.teacher_id)
    if message.audience == Audience.LEVEL:
        # The course's level (formation musicale, dance) or the student's
        # own in an individual lesson.
        return found.filter(Q(course__level=message.level) | Q(level=message.level))
    return found


def levels(site_ids):
    """The levels of the courses and enrollments of each site's current
    year, to choose an audience from."""
    years = [year for year in map(current_year, site_ids) if year is not None]
    courses = Course.objects.filter(school_year__in=years)
    found = set(courses.exclude(level="").values_list("level", flat=True))
    found |= set(
        Enrollment.objects.filter(course__in=courses)
        .exclude(level="")
        .values_list("level", flat=True)
    )
    return sorted(found, key=str.casefold)


@dataclass
class Recipient:
    family: Family
    email: str

    @property
    def phones(self):
        """(who, number) to call a family without e-mail: the reference
        mobile, then each guardian's phones."""
        found = []
        if self.family.reference_mobile:
            found.append(("", self.family.reference_mobile))
        for guardian in self.family.guardians.all():
            for number in [guardian.mobile_phone, guardian.home_phone, guardian.work_phone]:
                if number and all(number != known for _who, known in found):
                    found.append((guardian, number))
        return found


def email_of(family):
    """family.contact_email(), from the accounts `recipients()` fetched."""
    if family.reference_email:
        return family.reference_email
    return family.mailed_accounts[0].email if family.mailed_accounts else ""


def recipients(message, today=None):
    """The families `message` reaches, by name, each with its e-mail
    address ("" without one); in a fixed number of queries."""
    families = (
        Family.objects.filter(
            site_id=message.site_id,
            pk__in=enrollments(message, today).values("student__family_id"),
        )
        .prefetch_related(
            Prefetch(
                "accounts",
                User.objects.exclude(email="").order_by("pk"),
                to_attr="mailed_accounts",
            ),
            Prefetch("guardians", Guardian.objects.order_by("position", "pk")),
        )
        .order_by("name", "pk")
    )
    return [Recipient(family, email_of(family)) for family in families]
