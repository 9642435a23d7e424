"""What happens to a request: the family saves its wishes and sends it, the
secretariat takes it up, marks it incomplete, validates or refuses it.

The rules of each step live here and nowhere else: the pages and the admin
call these functions and show the `NotAllowed` they raise. The `check_*`
functions let a form show the error next to its field before anything is
saved; each step checks again on the locked row, since the family or another
secretary may have acted meanwhile. Each step saves, then queues its e-mails
for after the commit."""

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from students import capacity
from students.models import Course, Discipline, Enrollment

from . import emails, queries
from .models import ReenrollmentRequest, Wish

Status = ReenrollmentRequest.Status


class NotAllowed(Exception):
    """The request is not in a state that allows this step, or the step lacks
    what it needs. `message` is for the person who asked (translated);
    `field` is the form field it is about, None for the form as a whole."""

    def __init__(self, message, field=None, code=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


def _locked(request):
    # Only the request's row: locking the site or the campaign would make
    # every family of the site wait for each other.
    return (
        ReenrollmentRequest.objects.select_for_update(of=("self",))
        .select_related("campaign__site", "campaign__school_year", "student__family__site")
        .get(pk=request.pk)
    )


# The family's side.


def check_editable(request):
    if not request.family_may_edit():
        raise NotAllowed(_("This request can no longer be changed."), code="read_only")


def check_sendable(request):
    check_editable(request)
    if request.pk is None or request.wishes_saved_at is None:
        raise NotAllowed(_("Fill in the wishes first."), code="no_wishes")


def save_wishes(campaign, student, wishes, musicianship_level="", comment=""):
    """The wishes step: the request made if need be, its wishes replaced by
    `wishes` (unsaved Wish objects). A change to a sent request is marked
    for the secretariat."""
    with transaction.atomic():
        request, _created = ReenrollmentRequest.objects.select_for_update().get_or_create(
            campaign=campaign, student=student
        )
        check_editable(request)
        now = timezone.now()
        request.musicianship_level = musicianship_level
        request.comment = comment
        request.wishes_saved_at = now
        if request.status == Status.SUBMITTED:
            request.changed_after_sending_at = now
        request.save()
        request.wishes.all().delete()
        for wish in wishes:
            wish.request = request
        Wish.objects.bulk_create(wishes)
    return request


def mark_changed_after_sending(request):
    """Something the request is made of (a document) changed: if it was sent
    already, the secretariat sees it changed since."""
    if request.pk is not None:
        ReenrollmentRequest.objects.filter(pk=request.pk, status=Status.SUBMITTED).update(
            changed_after_sending_at=timezone.now()
        )


def send(request, user, rules, base_url):
    """The family's "Valider": acceptance of the rules recorded, e-mails queued."""
    check_sendable(request)
    with transaction.atomic():
        request = _locked(request)
        check_sendable(request)
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


# The secretariat's side.

DECISIONS = [Status.IN_REVIEW, Status.INCOMPLETE, Status.VALIDATED, Status.REFUSED]

# What the secretary chose for a course already full, when validating: its
# wish goes on the course's waiting list, or the student is enrolled beyond
# the capacity. Without a choice, nobody is enrolled beyond it.
WAITING_LIST = "waiting_list"
FORCE = "force"
WHEN_FULL = {WAITING_LIST, FORCE}


def may_decide(request):
    return request.status in ReenrollmentRequest.DECIDABLE


def check_decision(
    request, decision, seen=None, note="", reason="", courses=(), answers=None, when_full=""
):
    """Raise NotAllowed if `decision` (a Status of DECISIONS) cannot be taken
    on `request` with these notes and courses. `seen` is the request's
    `updated_at` when the secretary looked at it: a decision on a request
    the family changed since is refused. `answers` ({wish id: (answer,
    note)}) answer the wishes the courses do not grant, at validation;
    `when_full` (one of WHEN_FULL) says what to do with a course that is
    full. A validation returns its placement (see `placement()`)."""
    if decision not in DECISIONS:
        raise ValueError(f"Not a decision: {decision!r}")
    if seen is not None and request.updated_at != seen:
        raise NotAllowed(
            _(
                "The family changed the request while you were looking at it: look "
                "at it again before deciding."
            ),
            code="stale",
        )
    if decision == Status.IN_REVIEW:
        if request.status != Status.SUBMITTED:
            raise NotAllowed(
                _("Only a request that has been sent can be taken up."), "decision", "not_sent"
            )
        return
    if not may_decide(request):
        raise NotAllowed(
            _("Only a request that has been sent can be decided on."), "decision", "not_decidable"
        )
    if decision == Status.INCOMPLETE and not note.strip():
        raise NotAllowed(
            _("Say what is missing: the family receives this text."), "missing_note", "required"
        )
    if decision == Status.REFUSED and not reason.strip():
        raise NotAllowed(
            _("Say why the request is refused: the family receives this reason."),
            "refusal_reason",
            "required",
        )
    if decision == Status.VALIDATED:
        if not courses:
            raise NotAllowed(
                _("Choose next year's courses before validating."), "assigned_courses", "required"
            )
        year_id = request.campaign.school_year_id
        if any(course.school_year_id != year_id for course in courses):
            raise NotAllowed(
                _("Choose courses of the school year of the re-enrollment."),
                "assigned_courses",
                "other_year",
            )
        request_wishes = list(request.wishes.all())
        enrolled, waiting = placement(request, request_wishes, courses, when_full)
        check_answers(request_wishes, enrolled, answers or {}, waiting)
        return enrolled, waiting


def placement(request, request_wishes, courses, when_full=""):
    """(the courses the student is enrolled in, {wish id: full course whose
    waiting list the wish goes on}). A course full without `when_full`
    raises NotAllowed, naming it and its places."""
    full = capacity.full_courses(courses, request.student)
    if not full or when_full == FORCE:
        return list(courses), {}
    if when_full != WAITING_LIST:
        raise NotAllowed(
            " ".join(item.message for item in full)
            + " "
            + _("Put the wish on the waiting list, or enroll the student all the same."),
            "when_full",
            "full",
        )
    full_ids = {item.course.pk for item in full}
    enrolled = [course for course in courses if course.pk not in full_ids]
    granted = granted_discipline_ids(enrolled)
    waiting = {}
    for item in full:
        wish = next(
            (
                w
                for w in request_wishes
                if w.is_wanted
                and w.discipline_id == item.course.discipline_id
                and w.discipline_id not in granted
                and w.pk not in waiting
            ),
            None,
        )
        if wish is None:
            raise NotAllowed(
                _(
                    "No wish of the family waits for %(course)s: take the course out of "
                    "the list, or enroll the student all the same."
                )
                % {"course": item.course},
                "when_full",
                "no_wish",
            )
        waiting[wish.pk] = item.course
    return enrolled, waiting


def granted_discipline_ids(courses):
    return {course.discipline_id for course in courses}


def check_answers(request_wishes, courses, answers, waiting=None):
    """Each wish the courses do not grant has an answer: refused, with the
    reason the family receives, or on the waiting list. Never dropped.
    `waiting` are the wishes put on the waiting list of a full course."""
    granted = granted_discipline_ids(courses)
    for wish in request_wishes:
        if not wish.is_wanted or wish.discipline_id in granted or wish.pk in (waiting or {}):
            continue
        answer, note = answers.get(wish.pk, ("", ""))
        if answer not in Wish.NOT_GRANTED:
            raise NotAllowed(
                _(
                    "No course of %(discipline)s is chosen: say whether this wish is refused "
                    "or on the waiting list."
                )
                % {"discipline": wish.discipline},
                answer_field(wish),
                "unanswered",
            )
        if answer == Wish.Answer.REFUSED and not note.strip():
            raise NotAllowed(
                _("Say why this wish is refused: the family receives this reason."),
                answer_note_field(wish),
                "required",
            )


def answer_field(wish):
    return f"wish_{wish.pk}_answer"


def answer_note_field(wish):
    return f"wish_{wish.pk}_note"


def save_answers(request, courses, answers, waiting=None):
    """Every wish answered: granted when a course of its discipline is
    given, on the waiting list of the full course it was meant for, else
    as the secretariat said."""
    granted = granted_discipline_ids(courses)
    waiting = waiting or {}
    request_wishes = list(request.wishes.all())
    for wish in request_wishes:
        wish.waiting_course = waiting.get(wish.pk)
        if not wish.is_wanted:
            wish.answer, wish.answer_note = "", ""
        elif wish.discipline_id in granted:
            wish.answer, wish.answer_note = Wish.Answer.GRANTED, ""
        elif wish.pk in waiting:
            wish.answer, wish.answer_note = Wish.Answer.WAITING_LIST, ""
        else:
            wish.answer, wish.answer_note = answers[wish.pk]
    Wish.objects.bulk_update(request_wishes, ["answer", "answer_note", "waiting_course"])


def decide(
    request,
    decision,
    user,
    base_url,
    seen=None,
    note="",
    reason="",
    courses=(),
    answers=None,
    when_full="",
):
    """The secretariat's decision as chosen in the admin form."""
    if decision == Status.IN_REVIEW:
        return start_review(request, user, seen)
    if decision == Status.INCOMPLETE:
        return mark_incomplete(request, note, user, base_url, seen)
    if decision == Status.REFUSED:
        return refuse(request, reason, user, base_url, seen)
    return validate(request, courses, user, base_url, seen, answers, when_full)


def start_review(request, user, seen=None):
    """Taken up: the family can no longer change the request."""
    with transaction.atomic():
        request = _locked(request)
        check_decision(request, Status.IN_REVIEW, seen)
        request.status = Status.IN_REVIEW
        request.decided_by = user
        request.save(update_fields=["status", "decided_by", "updated_at"])
    return request


def mark_incomplete(request, note, user, base_url, seen=None):
    return _decide(request, Status.INCOMPLETE, user, base_url, seen, note=note)


def refuse(request, reason, user, base_url, seen=None):
    return _decide(request, Status.REFUSED, user, base_url, seen, reason=reason)


def validate(request, courses, user, base_url, seen=None, answers=None, when_full=""):
    """Next year's enrollments created from the courses assigned; the wishes
    they do not grant answered with `answers`; a course full, as `when_full`
    says (see `placement()`)."""
    return _decide(
        request,
        Status.VALIDATED,
        user,
        base_url,
        seen,
        courses=list(courses),
        answers=answers,
        when_full=when_full,
    )


def _decide(
    request,
    status,
    user,
    base_url,
    seen=None,
    note="",
    reason="",
    courses=(),
    answers=None,
    when_full="",
):
    answers = {pk: (answer, (text or "").strip()) for pk, (answer, text) in (answers or {}).items()}
    with transaction.atomic():
        request = _locked(request)
        if courses:
            # The places are counted on locked courses: two secretaries
            # validating at once cannot both take the last one.
            list(
                Course.objects.select_for_update()
                .filter(pk__in=[course.pk for course in courses])
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        placed = check_decision(
            request,
            status,
            seen,
            note=note,
            reason=reason,
            courses=courses,
            answers=answers,
            when_full=when_full,
        )
        request.status = status
        request.decided_at = timezone.now()
        request.decided_by = user
        if status == Status.INCOMPLETE:
            request.missing_note = note
        elif status == Status.REFUSED:
            request.refusal_reason = reason
        request.save()
        if status == Status.VALIDATED:
            enrolled, waiting = placed
            save_answers(request, enrolled, answers, waiting)
            request.assigned_courses.set(enrolled)
            for course in enrolled:
                Enrollment.objects.get_or_create(
                    student=request.student, course=course, defaults={"level": course.level}
                )
            emails.request_validated(request, enrolled, base_url)
        elif status == Status.INCOMPLETE:
            emails.request_incomplete(request, base_url)
        else:
            emails.request_refused(request, base_url)
    return request


def save_notes(request, user):
    """The secretariat's notes (`missing_note`, `refusal_reason`, as set on
    `request`) saved without a decision: only them, never the family's
    fields, which the family may be saving at this very moment."""
    request._history_user = user
    request.save(update_fields=["missing_note", "refusal_reason", "updated_at"])


def take_up(requests, user):
    """The sent requests among `requests` taken up; how many were."""
    count = 0
    for request in requests.filter(status=Status.SUBMITTED):
        try:
            start_review(request, user)
        except NotAllowed:
            continue  # Taken up or changed meanwhile.
        count += 1
    return count


def validate_simple(requests, user, base_url):
    """The requests with nothing but courses continued, every document there
    and a course found for each, validated with the courses proposed.
    Returns (validated, incomplete, left): those whose documents are missing
    or refused are not validated (the guide: only a complete file is), and
    the others (a course full among them) are for a look one by one."""
    # Not those marked incomplete: what is missing may be more than a document.
    decidable = requests.filter(status__in=[Status.SUBMITTED, Status.IN_REVIEW])
    owing = set(queries.requests_missing_documents(decidable))
    candidates = {}
    validated, incomplete, left = [], [], []
    wishes = Wish.objects.select_related("discipline", "enrollment__course")
    for request in (
        decidable.prefetch_related(None)
        .select_related("campaign", "student")
        .prefetch_related(Prefetch("wishes", wishes))
    ):
        if request.pk in owing:
            incomplete.append(request)
            continue
        request_wishes = list(request.wishes.all())
        if request.campaign_id not in candidates:
            candidates[request.campaign_id] = next_year_courses(request.campaign)
        courses = suggested_courses(request, request_wishes, candidates[request.campaign_id])
        kept = [w for w in request_wishes if w.choice == Wish.Choice.CONTINUE]
        if not is_simple(request_wishes) or len(courses) < len(kept):
            left.append(request)
            continue
        try:
            validated.append(validate(request, courses, user, base_url, request.updated_at))
        except NotAllowed:
            left.append(request)
    return validated, incomplete, left


def proposed_courses(request):
    """What the decision form proposes: next year's courses continuing the
    wishes, while the request can be decided on."""
    if not may_decide(request):
        return []
    return suggested_courses(
        request, list(request.wishes.all()), next_year_courses(request.campaign)
    )


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
                not (
                    before
                    and (course.weekday, course.start_time) == (before.weekday, before.start_time)
                ),
                course.pk,
            )

        suggested.append(min(options, key=score))
    return suggested


def next_year_courses(campaign):
    return list(
        Course.objects.filter(school_year=campaign.school_year_id).select_related(
            "discipline", "teacher", "room"
        )
    )


def is_simple(request_wishes):
    """Only courses continued (or stopped): no new discipline to place."""
    return any(w.choice == Wish.Choice.CONTINUE for w in request_wishes) and not any(
        w.choice == Wish.Choice.NEW for w in request_wishes
    )


def enroll_from_waiting_list(wish, base_url):
    """A place freed up: the student of `wish`, on a course's waiting list,
    is enrolled in it, the wish granted, the family told by e-mail after the
    commit. Refused while the course is still full. Returns (the wish, the
    address told, "" when the family has none)."""
    with transaction.atomic():
        course = (
            Course.objects.select_for_update(of=("self",))
            .select_related("discipline", "teacher", "room", "school_year")
            .get(pk=wish.waiting_course_id)
        )
        wish = (
            Wish.objects.select_for_update(of=("self",))
            .select_related("request__student__family__site")
            .get(pk=wish.pk)
        )
        if wish.answer != Wish.Answer.WAITING_LIST or wish.waiting_course_id != course.pk:
            raise NotAllowed(_("This wish is no longer on the waiting list."), code="gone")
        student = wish.request.student
        if full := capacity.full_courses([course], student):
            raise NotAllowed(full[0].message, code="full")
        Enrollment.objects.get_or_create(
            student=student, course=course, defaults={"level": course.level}
        )
        wish.answer, wish.answer_note = Wish.Answer.GRANTED, ""
        wish.save(update_fields=["answer", "answer_note"])
        wish.request.assigned_courses.add(course)
        told = emails.enrolled_from_waiting_list(wish.request, course, base_url)
    return wish, told
