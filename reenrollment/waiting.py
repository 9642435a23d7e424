"""The waiting lists: the wishes the secretariat put on the list of a full
course, first come first served, in the order the families sent their
requests. A wish answered “waiting list” without a course waits on its
discipline's list."""

from dataclasses import dataclass, field
from datetime import time

from django.db.models import F

from students import capacity
from students.models import Course

from .models import Wish

WAITING = Wish.Answer.WAITING_LIST


def _in_request_order(wishes):
    return wishes.order_by(
        F("request__submitted_at").asc(nulls_last=True), "request__created_at", "request_id", "pk"
    )


def _key(wish):
    return (wish.waiting_course_id, None if wish.waiting_course_id else wish.discipline_id)


@dataclass
class WaitingList:
    """One course's list (or one discipline's, without a course): its
    wishes, each with its rank."""

    course: Course | None
    discipline: object
    entries: list = field(default_factory=list)

    def add(self, wish):
        self.entries.append((len(self.entries) + 1, wish))


def waiting_lists(site_id=None, course_id=None):
    """The waiting lists of the site (all sites for None), or of one course,
    each in request order; in a fixed number of queries."""
    wishes = Wish.objects.filter(answer=WAITING).select_related(
        "request__student__family",
        "request__campaign__school_year",
        "discipline",
        "waiting_course__discipline",
        "waiting_course__school_year",
    )
    if site_id is not None:
        wishes = wishes.filter(request__campaign__site_id=site_id)
    if course_id is not None:
        wishes = wishes.filter(waiting_course_id=course_id)
    lists = {}
    for wish in _in_request_order(wishes):
        key = _key(wish)
        if key not in lists:
            lists[key] = WaitingList(wish.waiting_course, wish.discipline)
        lists[key].add(wish)
    courses = [found.course.pk for found in lists.values() if found.course is not None]
    counts = dict(
        capacity.with_enrolled(Course.objects.filter(pk__in=courses)).values_list("pk", "enrolled")
    )
    for found in lists.values():
        if found.course is not None:
            found.course.enrolled = counts.get(found.course.pk, 0)
    return sorted(
        lists.values(),
        key=lambda found: (
            found.course is None,
            -(found.course.school_year.start_date.toordinal() if found.course else 0),
            found.discipline.name,
            (found.course.weekday, found.course.start_time) if found.course else (0, time.min),
        ),
    )


def rank_of(wish):
    """Where `wish` stands on its list now: 1 for the next to get a place."""
    waiting_course_id, discipline_id = _key(wish)
    same = Wish.objects.filter(answer=WAITING, waiting_course_id=waiting_course_id)
    if discipline_id is not None:
        same = same.filter(discipline_id=discipline_id)
    ids = list(_in_request_order(same).values_list("pk", flat=True))
    return ids.index(wish.pk) + 1 if wish.pk in ids else None
