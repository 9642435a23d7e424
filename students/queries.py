"""The family's students, courses and documents, fetched in a fixed number
of queries whatever their number."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import F, Prefetch, Q
from django.utils import timezone

from documents.checklist import asked_kinds, checklist, this_year, uploadable_kinds
from documents.models import DocumentKind

from .models import ClosurePeriod, Enrollment, SchoolYear, StudentDocument


def current_year(site):
    return SchoolYear.objects.current(site)


def enrollments(year):
    return (
        Enrollment.objects.filter(course__school_year=year)
        .select_related("course__discipline", "course__teacher", "course__room")
        .order_by("course__weekday", "course__start_time")
    )


def family_students(family, year=None):
    queryset = family.students.all()
    if year is not None:
        queryset = queryset.prefetch_related(
            Prefetch("enrollments", queryset=enrollments(year), to_attr="current_enrollments")
        )
    return queryset


def student_checklist(student, discipline_ids, period=None, extra=Q()):
    """Kinds asked of the student: those flagged required for every student,
    those its disciplines require (this year's, or next year's planned ones
    for a re-enrollment) and those `extra` adds."""
    kinds = asked_kinds(
        student.family.site_id, DocumentKind.Scope.STUDENT, Q(discipline__in=discipline_ids) | extra
    )
    documents = StudentDocument.objects.filter(student=student).select_related("kind")
    return checklist(kinds, documents, period or this_year())


def students_checklists(family, students, period=None):
    """{student pk: checklist} for the family's `students` (fetched with
    their `current_enrollments`): each one student_checklist() would give,
    the kinds asked of every student and those of its disciplines. Two
    queries, whatever the number of students."""
    if not students:
        return {}
    kinds, required_by = student_kinds(family.site_id)
    documents = {}
    for document in StudentDocument.objects.filter(student__family=family).select_related("kind"):
        documents.setdefault(document.student_id, []).append(document)
    found = {}
    for student in students:
        asked = asked_of(kinds, required_by, disciplines_of(student.current_enrollments))
        found[student.pk] = checklist(asked, documents.get(student.pk, []), period or this_year())
    return found


def student_page_checklist(student, discipline_ids, period=None):
    """(student_checklist(), every kind a student may send): the fiche élève's
    checklist and its upload form's choices, from one read of the kinds."""
    kinds, required_by = student_kinds(student.family.site_id)
    asked = asked_of(kinds, required_by, set(discipline_ids))
    documents = StudentDocument.objects.filter(student=student).select_related("kind")
    return checklist(asked, documents, period or this_year()), list(kinds.values())


def student_kinds(site_id):
    """({pk: kind} of the kinds a student may send, in their order, {pk: the
    ids of the disciplines requiring it}): one query, one row per kind and
    discipline requiring it (None for none)."""
    rows = uploadable_kinds(site_id, DocumentKind.Scope.STUDENT).annotate(
        required_by=F("discipline")
    )
    kinds, required_by = {}, {}
    for kind in rows.order_by("position", "name", "pk"):
        kinds.setdefault(kind.pk, kind)
        required_by.setdefault(kind.pk, set()).add(kind.required_by)
    return kinds, required_by


def asked_of(kinds, required_by, discipline_ids):
    """Those of `kinds` asked of every student and those its disciplines require."""
    return [k for k in kinds.values() if k.required or required_by[k.pk] & discipline_ids]


def disciplines_of(enrollments):
    return {e.course.discipline_id for e in enrollments}


def timetable(students):
    """(weekday label, [(enrollment, student)]) for the days with lessons."""
    return [
        (lessons[0][0].course.get_weekday_display(), lessons)
        for _, lessons in timetable_by_weekday(students)
    ]


def monday_of(day):
    return day - timedelta(days=day.weekday())


@dataclass
class WeekDay:
    date: date
    lessons: list = field(default_factory=list)  # [(enrollment, student)]
    closure: ClosurePeriod | None = None
    outside_year: bool = False

    @property
    def has_lessons(self):
        return bool(self.lessons) and self.closure is None and not self.outside_year


@dataclass
class Week:
    monday: date
    days: list  # WeekDay of the days with lessons, in order
    closures: list  # the closure periods that touch the week

    @property
    def sunday(self):
        return self.monday + timedelta(days=6)


def family_week(students, year, monday):
    """The week from `monday`: its days with lessons, each with its date and
    the closure period that cancels it, and the closure periods that touch
    the week. One query (the closures) beyond the students'."""
    sunday = monday + timedelta(days=6)
    closures = (
        list(
            ClosurePeriod.objects.filter(
                school_year__site_id=year.site_id, start_date__lte=sunday, end_date__gte=monday
            ).order_by("start_date")
        )
        if year
        else []
    )
    days = []
    for weekday, lessons in timetable_by_weekday(students):
        day = monday + timedelta(days=weekday)
        days.append(
            WeekDay(
                date=day,
                lessons=lessons,
                closure=next((c for c in closures if c.start_date <= day <= c.end_date), None),
                outside_year=year is None or not (year.start_date <= day <= year.end_date),
            )
        )
    return Week(monday=monday, days=days, closures=closures)


def timetable_by_weekday(students):
    """(weekday number, [(enrollment, student)]) for the days with lessons."""
    days = {}
    for student in students:
        for enrollment in student.current_enrollments:
            days.setdefault(enrollment.course.weekday, []).append((enrollment, student))
    return [
        (weekday, sorted(lessons, key=lambda pair: pair[0].course.start_time))
        for weekday, lessons in sorted(days.items())
    ]


def history(student):
    """Enrollments of the years that are over, newest year first."""
    past = (
        Enrollment.objects.filter(
            student=student, course__school_year__end_date__lt=timezone.localdate()
        )
        .select_related("course__discipline", "course__teacher", "course__school_year")
        .order_by("-course__school_year__start_date", "course__discipline__name")
    )
    years = {}
    for enrollment in past:
        years.setdefault(enrollment.course.school_year, []).append(enrollment)
    return list(years.items())
