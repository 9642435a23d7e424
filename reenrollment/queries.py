"""What a re-enrollment request is made of, fetched in a fixed number of
queries whatever the size of the family."""

import re

from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)

from documents.checklist import next_year, owed, owes, this_year
from documents.models import DocumentKind
from families.documents import family_checklist, family_owes
from students.models import Course, Discipline, Enrollment, SchoolYear, StudentDocument
from students.queries import student_checklist

from .models import ReenrollmentCampaign, ReenrollmentRequest, Wish


def family_requests(campaign, family):
    """The family's students, each with its request of the campaign (or None).
    A validated request carries its `schedule` (see `next_year_schedule()`)
    and its wishes, with the secretariat's answers."""
    students = list(family.students.all())
    requests = {}
    found = ReenrollmentRequest.objects.filter(
        campaign=campaign, student__family=family
    ).prefetch_related(
        Prefetch("assigned_courses", assigned_courses()),
        Prefetch("wishes", Wish.objects.select_related("discipline")),
    )
    for r in found:
        r.campaign = campaign
        if r.status == ReenrollmentRequest.Status.VALIDATED:
            r.schedule = next_year_schedule(r.assigned_courses.all())
        requests[r.student_id] = r
    return [(student, requests.get(student.pk)) for student in students]


def assigned_courses():
    return Course.objects.select_related("discipline", "teacher", "room")


def next_year_schedule(courses):
    """What a validated request gives the family, as the validation e-mail
    and the Réinscription tab show it: the collective courses and the
    individual lessons with day, time, room and teacher, the parent–teacher
    meetings of instrument lessons, the methods to buy."""
    courses = sorted(courses, key=lambda c: (c.weekday, c.start_time))
    return {
        "collective": [c for c in courses if c.is_collective],
        "individual": [c for c in courses if not c.is_collective],
        "meetings": sorted(
            (
                c
                for c in courses
                if c.parent_meeting and c.discipline.category == Discipline.Category.INSTRUMENT
            ),
            key=lambda c: c.parent_meeting,
        ),
        "methods": [c for c in courses if c.methods],
    }


def not_granted(request_wishes):
    """The wishes the secretariat answered without a course: refused or on
    the waiting list, each with its note."""
    return [w for w in request_wishes if w.answer in Wish.NOT_GRANTED]


def _level_key(level):
    # "Cycle 1 – 10e année" after "Cycle 1 – 9e année".
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", level)]


YEAR_OF_CYCLE = r"(\d+)\s*(?:e|re|ère|er|ème)\b"


def implied_musicianship_level(enrollments, levels):
    """The formation musicale level of next year that this year's result
    implies: a level the result names, the same level for a student kept
    in it, the year the result names ("Passage en 3e année") in the same
    cycle, else the level after this year's. "" when there is no telling."""
    musicianship = [
        e for e in enrollments if e.course.discipline.category == Discipline.Category.MUSICIANSHIP
    ]
    if not musicianship or not levels:
        return ""
    enrollment = musicianship[0]
    current = enrollment.level or enrollment.course.level
    result = enrollment.result.casefold()
    ordered = sorted(set(levels), key=_level_key)
    for level in sorted(ordered, key=len, reverse=True):
        if level.casefold() in result:
            return level
    if current in ordered and re.search(r"maintien|redoubl|reste", result):
        return current
    if match := re.search(YEAR_OF_CYCLE, result):
        year = match.group(1)
        named = [
            level
            for level in ordered
            if (found := re.search(YEAR_OF_CYCLE, level.casefold())) and found.group(1) == year
        ]
        cycle = current.split("–")[0].strip().casefold()
        same_cycle = [level for level in named if cycle and level.casefold().startswith(cycle)]
        if same_cycle or named:
            return (same_cycle or named)[0]
    if current in ordered:
        position = ordered.index(current)
        return ordered[min(position + 1, len(ordered) - 1)]
    return ""


def current_enrollments(student, previous_year):
    """The student's enrollments of the year that ends, to continue or stop."""
    if previous_year is None:
        return []
    return list(
        Enrollment.objects.filter(student=student, course__school_year=previous_year)
        .select_related("course__discipline", "course__teacher")
        .order_by("course__discipline__name", "course__weekday", "course__start_time")
    )


def next_year_first(campaign, previous_year, query):
    """`query(year_id)` for next year; while next year's courses are not
    created yet (empty answer), for this year."""
    years = [campaign.school_year_id] + ([previous_year.pk] if previous_year else [])
    for year_id in years:
        if found := list(query(year_id)):
            return found
    return []


def offered_disciplines(campaign, previous_year):
    """The site's offer for next year: the disciplines with a course then."""
    return next_year_first(
        campaign,
        previous_year,
        lambda year_id: (
            Discipline.objects.filter(site=campaign.site_id, courses__school_year=year_id)
            .distinct()
            .order_by("name")
        ),
    )


def musicianship_levels(campaign, previous_year):
    """The formation musicale levels taught next year."""
    return next_year_first(
        campaign,
        previous_year,
        lambda year_id: (
            Course.objects.filter(
                site=campaign.site_id,
                school_year=year_id,
                discipline__category=Discipline.Category.MUSICIANSHIP,
            )
            .exclude(level="")
            .order_by("level")
            .values_list("level", flat=True)
            .distinct()
        ),
    )


def wishes(request):
    if request is None or request.pk is None:
        return []
    return list(request.wishes.select_related("discipline", "enrollment__course"))


def planned_discipline_ids(current, request_wishes):
    """The disciplines the student would follow next year: the courses kept
    and the new wishes; before any wish, all of this year's."""
    if not request_wishes:
        return {e.course.discipline_id for e in current}
    return {w.discipline_id for w in request_wishes if w.choice != Wish.Choice.STOP}


def checklists(request, discipline_ids):
    """(family items, student items): what the campaign asks for next year,
    judged by the same rules as the Famille and Élèves pages, so a valid
    document is never asked twice."""
    campaign = request.campaign
    period = next_year(campaign)
    return (
        family_checklist(request.student.family, period, Q(campaigns_as_family_document=campaign)),
        student_checklist(
            request.student, discipline_ids, period, Q(campaigns_as_student_document=campaign)
        ),
    )


def request_checklists(request):
    """`checklists()` for a request as it stands: its wishes, or before any
    wish, the courses of the year that ends."""
    current = current_enrollments(request.student, request.campaign.previous_year())
    return checklists(request, planned_discipline_ids(current, wishes(request)))


def requests_owing(queryset):
    """`queryset` (of requests) annotated and filtered in the database to
    those owing a document: `checklists()`'s rules in SQL, for the filters
    and exports of the secretariat."""
    campaigns = ReenrollmentCampaign.objects.filter(
        pk__in=queryset.order_by().values("campaign")
    ).select_related("school_year")
    cutoffs = [When(campaign=c.pk, then=Value(next_year(c).next_year_cutoff)) for c in campaigns]
    previous_year = (
        SchoolYear.objects.filter(
            site=OuterRef("campaign__site"),
            start_date__lt=OuterRef("campaign__school_year__start_date"),
        )
        .order_by("-start_date")
        .values("pk")[:1]
    )
    queryset = queryset.annotate(
        next_year_cutoff=Case(*cutoffs, default=None, output_field=DateTimeField()),
        previous_year=Subquery(previous_year),
    )
    request = OuterRef(OuterRef("pk"))
    planned = Wish.objects.filter(request=request, discipline__required_documents=OuterRef("pk"))
    continued = Enrollment.objects.filter(
        student=OuterRef(OuterRef("student")),
        course__school_year=OuterRef(OuterRef("previous_year")),
        course__discipline__required_documents=OuterRef("pk"),
    )
    by_discipline = Q(Exists(planned.exclude(choice=Wish.Choice.STOP))) | (
        ~Q(Exists(Wish.objects.filter(request=request))) & Q(Exists(continued))
    )
    period = this_year()
    family = family_owes(
        "student__family",
        period,
        extra=Q(campaigns_as_family_document=OuterRef("campaign")),
        next_year_cutoff=OuterRef("next_year_cutoff"),
    )
    student = owes(
        StudentDocument.objects.filter(student=OuterRef(OuterRef("student"))),
        site=OuterRef("campaign__site"),
        scope=DocumentKind.Scope.STUDENT,
        period=period,
        extra=Q(campaigns_as_student_document=OuterRef("campaign")) | by_discipline,
        next_year_cutoff=OuterRef("next_year_cutoff"),
    )
    return queryset.filter(family | student)


def requests_missing_documents(queryset):
    """Ids of the requests owing a document."""
    return requests_owing(queryset).values_list("pk", flat=True)


def missing(items):
    return owed(items)


def summarize(request_wishes, family_items, student_items):
    """What the family asked, as the pages and e-mails show it."""
    return {
        "continued": [w for w in request_wishes if w.choice == Wish.Choice.CONTINUE],
        "stopped": [w for w in request_wishes if w.choice == Wish.Choice.STOP],
        "new": [w for w in request_wishes if w.choice == Wish.Choice.NEW],
        "missing_documents": missing(family_items) + missing(student_items),
    }


def request_summary(request):
    return summarize(wishes(request), *request_checklists(request))
