"""What a re-enrollment request is made of, fetched in a fixed number of
queries whatever the size of the family."""

from operator import attrgetter

from django.db.models import Prefetch, Q

from families.documents import NextYear, checklist
from families.models import DocumentKind, FamilyDocument
from students.models import Course, Discipline, Enrollment, StudentDocument

from .models import ReenrollmentRequest, Wish


def family_requests(campaign, family):
    """The family's students, each with its request of the campaign (or None)."""
    students = list(family.students.all())
    requests = {}
    for r in ReenrollmentRequest.objects.filter(campaign=campaign, student__family=family):
        r.campaign = campaign
        requests[r.student_id] = r
    return [(student, requests.get(student.pk)) for student in students]


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
    return next_year_first(campaign, previous_year, lambda year_id: (
        Discipline.objects.filter(site=campaign.site_id, courses__school_year=year_id)
        .distinct().order_by("name")))


def musicianship_levels(campaign, previous_year):
    """The formation musicale levels taught next year."""
    return next_year_first(campaign, previous_year, lambda year_id: (
        Course.objects.filter(site=campaign.site_id, school_year=year_id,
                              discipline__category=Discipline.Category.MUSICIANSHIP)
        .exclude(level="").order_by("level").values_list("level", flat=True).distinct()))


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
    """(family items, student items): what the campaign asks, judged as on
    the Famille and Élèves pages, so a valid document is never asked twice."""
    campaign = request.campaign
    student = request.student
    family = student.family
    family_kinds = DocumentKind.objects.filter(
        campaigns_as_family_document=campaign, is_active=True, site=family.site_id,
        scope=DocumentKind.Scope.FAMILY).order_by("position", "name")
    student_kinds = (
        DocumentKind.objects.filter(site=family.site_id, is_active=True,
                                    scope=DocumentKind.Scope.STUDENT)
        .filter(Q(campaigns_as_student_document=campaign) | Q(discipline__in=discipline_ids))
        .distinct().order_by("position", "name")
    )
    next_year = for_next_year(campaign)
    return (
        checklist(family_kinds, FamilyDocument.objects.filter(family=family)
                  .select_related("kind"), family.address_changed_at, next_year),
        checklist(student_kinds, StudentDocument.objects.filter(student=student)
                  .select_related("kind"), next_year=next_year),
    )


def for_next_year(campaign):
    return NextYear(campaign.school_year.start_date, campaign.opens_at)


def requests_missing_documents(queryset):
    """Ids of the requests whose documents are not all there, judged exactly
    as the family's step page judges them, in a fixed number of queries."""
    by_position = attrgetter("position", "name")
    kinds = DocumentKind.objects.filter(is_active=True)
    requests = list(queryset.prefetch_related(None).select_related(
        "campaign__school_year", "student__family").prefetch_related(
        "wishes",
        Prefetch("campaign__family_documents", kinds.filter(scope=DocumentKind.Scope.FAMILY)),
        Prefetch("campaign__student_documents", kinds.filter(scope=DocumentKind.Scope.STUDENT)),
        Prefetch("student__documents", StudentDocument.objects.select_related("kind")),
        Prefetch("student__family__documents", FamilyDocument.objects.select_related("kind")),
        Prefetch("student__enrollments", Enrollment.objects.select_related("course")),
    ))
    site_ids = {r.campaign.site_id for r in requests}
    required = {
        d.pk: [k for k in d.required_documents.all()
               if k.is_active and k.scope == DocumentKind.Scope.STUDENT]
        for d in Discipline.objects.filter(site__in=site_ids).prefetch_related(
            "required_documents")
    }
    previous = {c.pk: c.previous_year() for c in {r.campaign for r in requests}}
    result = []
    for r in requests:
        year = previous[r.campaign_id]
        current = [e for e in r.student.enrollments.all()
                   if year is not None and e.course.school_year_id == year.pk]
        planned = planned_discipline_ids(current, list(r.wishes.all()))
        student_kinds = {k.pk: k for k in r.campaign.student_documents.all()}
        for discipline_id in planned:
            student_kinds.update({k.pk: k for k in required.get(discipline_id, [])})
        family = r.student.family
        next_year = for_next_year(r.campaign)
        items = checklist(sorted(r.campaign.family_documents.all(), key=by_position),
                          family.documents.all(), family.address_changed_at, next_year)
        items += checklist(sorted(student_kinds.values(), key=by_position),
                           r.student.documents.all(), next_year=next_year)
        if missing(items):
            result.append(r.pk)
    return result


def missing(items):
    return [item for item in items if item.needs_upload]


def summarize(request_wishes, family_items, student_items):
    """What the family asked, as the pages and e-mails show it."""
    return {
        "continued": [w for w in request_wishes if w.choice == Wish.Choice.CONTINUE],
        "stopped": [w for w in request_wishes if w.choice == Wish.Choice.STOP],
        "new": [w for w in request_wishes if w.choice == Wish.Choice.NEW],
        "missing_documents": missing(family_items) + missing(student_items),
    }


def request_summary(request):
    request_wishes = wishes(request)
    family_items, student_items = checklists(request, planned_discipline_ids([], request_wishes))
    return summarize(request_wishes, family_items, student_items)
