"""How full a course is: its students counted one way for the course admin,
the re-enrollment decision and the waiting list."""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Course


def active(today=None, prefix=""):
    """The enrollments that take a place: not stopped before `today`."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}stops_on__isnull": True}) | Q(**{f"{prefix}stops_on__gte": today})


def with_enrolled(courses, today=None):
    """`courses` annotated with `enrolled`, the students who take a place."""
    return courses.annotate(
        enrolled=Count("enrollments", filter=active(today, "enrollments__"), distinct=True)
    )


def describe(course):
    """“12/12”, or “8” for a course without limit (annotated by with_enrolled)."""
    if course.capacity is None:
        return str(course.enrolled)
    return f"{course.enrolled}/{course.capacity}"


@dataclass
class Full:
    """A course a student cannot join without going beyond its capacity."""

    course: Course
    enrolled: int

    @property
    def message(self):
        return _("The course %(course)s is full (%(enrolled)s/%(capacity)s).") % {
            "course": self.course,
            "enrolled": self.enrolled,
            "capacity": self.course.capacity,
        }


def full_courses(courses, student=None, today=None):
    """Among `courses`, those `student` would join beyond their capacity (a
    course the student already follows takes no new place). Counted now,
    from the database: call it again on locked rows before enrolling."""
    ids = [course.pk for course in courses if course.capacity is not None]
    if not ids:
        return []
    counted = with_enrolled(Course.objects.filter(pk__in=ids), today)
    if student is not None:
        counted = counted.exclude(enrollments__student=student)
    counts = dict(counted.values_list("pk", "enrolled"))
    return [
        Full(course, counts[course.pk])
        for course in courses
        if course.pk in counts and counts[course.pk] >= course.capacity
    ]
