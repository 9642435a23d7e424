"""What happens to a request: the family sends it, the secretariat takes it
up, marks it incomplete, validates or refuses it. Each step saves, then
queues its e-mails for after the commit."""

from django.db import transaction
from django.utils import timezone

from students.models import Course, Discipline, Enrollment

from . import emails
from .models import ReenrollmentRequest, Wish

Status = ReenrollmentRequest.Status


class NotAllowed(Exception):
    """The request is no longer in a state that allows this."""


def _locked(request):
    # Only the request's row: locking the site or the campaign would make
    # every family of the site wait for each other.
    return ReenrollmentRequest.objects.select_for_update(of=("self",)).select_related(
        "campaign__site", "campaign__school_year", "student__family__site").get(pk=request.pk)


def send(request, user, rules, base_url):
    """The family's "Valider": acceptance of the rules recorded, e-mails queued."""
    with transaction.atomic():
        request = _locked(request)
        if not request.family_may_edit():
            raise NotAllowed
        if request.status == Status.SUBMITTED and request.changed_after_sending_at is None:
            return request  # Sent already, unchanged since (a double click): no new e-mails.
        now = timezone.now()
        request.status = Status.SUBMITTED
        request.submitted_at = now
        request.changed_after_sending_at = None
        request.rules_accepted = rules
        request.rules_version = rules.version
        request.rules_accepted_at = now
        request.rules_accepted_by = user
        request.save()
        emails.request_sent(request, base_url)
    return request


def start_review(request, user):
    with transaction.atomic():
        request = _locked(request)
        if request.status != Status.SUBMITTED:
            raise NotAllowed
        request.status = Status.IN_REVIEW
        request.decided_by = user
        request.save(update_fields=["status", "decided_by", "updated_at"])
    return request


def mark_incomplete(request, note, user, base_url, seen=None):
    return _decide(request, Status.INCOMPLETE, user, base_url, seen, missing_note=note)


def refuse(request, reason, user, base_url, seen=None):
    return _decide(request, Status.REFUSED, user, base_url, seen, refusal_reason=reason)


def validate(request, courses, user, base_url, seen=None):
    """Next year's enrollments created from the courses assigned."""
    return _decide(request, Status.VALIDATED, user, base_url, seen, courses=list(courses))


def _decide(request, status, user, base_url, seen=None, courses=(), **fields):
    """`seen` is the request's `updated_at` when the secretary looked at it:
    a decision on wishes the family has changed since is refused."""
    with transaction.atomic():
        request = _locked(request)
        if request.status not in ReenrollmentRequest.DECIDABLE:
            raise NotAllowed
        if seen is not None and request.updated_at != seen:
            raise NotAllowed
        request.status = status
        request.decided_at = timezone.now()
        request.decided_by = user
        for name, value in fields.items():
            setattr(request, name, value)
        request.save()
        if status == Status.VALIDATED:
            year_id = request.campaign.school_year_id
            if any(c.school_year_id != year_id for c in courses):
                raise ValueError("Courses must belong to the campaign's school year.")
            request.assigned_courses.set(courses)
            for course in courses:
                Enrollment.objects.get_or_create(student=request.student, course=course,
                                                 defaults={"level": course.level})
            emails.request_validated(request, courses, base_url)
        elif status == Status.INCOMPLETE:
            emails.request_incomplete(request, base_url)
        else:
            emails.request_refused(request, base_url)
    return request


def suggested_courses(request, request_wishes, candidates):
    """Next year's courses that continue this year's: same discipline,
    preferably the same teacher and slot; for formation musicale, the level
    chosen. `candidates` are next year's courses. New disciplines are left
    to the secretariat."""
    by_discipline = {}
    for course in candidates:
        by_discipline.setdefault(course.discipline_id, []).append(course)
    suggested = []
    for wish in request_wishes:
        if wish.choice != Wish.Choice.CONTINUE:
            continue
        options = by_discipline.get(wish.discipline_id, [])
        if not options:
            continue
        before = wish.enrollment.course if wish.enrollment else None

        def score(course, before=before):
            level_match = (
                course.discipline.category == Discipline.Category.MUSICIANSHIP
                and bool(request.musicianship_level)
                and course.level == request.musicianship_level
            )
            return (
                not level_match,
                not (before and course.teacher_id == before.teacher_id),
                not (before and (course.weekday, course.start_time)
                     == (before.weekday, before.start_time)),
                course.pk,
            )

        suggested.append(min(options, key=score))
    return suggested


def next_year_courses(campaign):
    return list(Course.objects.filter(school_year=campaign.school_year_id)
                .select_related("discipline", "teacher", "room"))


def is_simple(request_wishes):
    """Only courses continued (or stopped): no new discipline to place."""
    return (any(w.choice == Wish.Choice.CONTINUE for w in request_wishes)
            and not any(w.choice == Wish.Choice.NEW for w in request_wishes))
