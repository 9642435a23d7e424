"""Next year's fees as the family asked for them: the courses continued and
the new disciplines wished, priced before the secretariat creates the
enrollments, by the function that will price the invoices."""

from django.db.models import Prefetch

from fees.estimates import grid_for
from fees.pricing import price_family
from students.models import Course, Enrollment

from .models import ReenrollmentRequest, Wish
from .workflow import next_year_courses, suggested_courses

Status = ReenrollmentRequest.Status


def wished_enrollments(campaign, family, previous_year):
    """({student id: [unsaved Enrollment in next year's courses]}, the
    students whose wishes are not saved yet). Those are counted as
    continuing this year's courses (those of `previous_year`, the year that
    ends); a refused request counts nothing; a validated one, the courses
    the secretariat assigned."""
    requests = {
        r.student_id: r
        for r in ReenrollmentRequest.objects.filter(
            campaign=campaign, student__family=family
        ).prefetch_related(
            Prefetch("wishes", Wish.objects.select_related("discipline", "enrollment__course")),
            Prefetch("assigned_courses", Course.objects.select_related("discipline")),
        )
    }
    current = {}
    if previous_year is not None:
        for enrollment in Enrollment.objects.filter(
            student__family=family, course__school_year=previous_year, stops_on__isnull=True
        ).select_related("course__discipline"):
            current.setdefault(enrollment.student_id, []).append(enrollment)
    candidates = next_year_courses(campaign)
    this_year = ThisYearCourses(previous_year)
    wanted, assumed = {}, []
    for student in family.students.all():
        request = requests.get(student.pk)
        if request is not None and request.status == Status.REFUSED:
            continue
        if request is not None and request.status == Status.VALIDATED:
            courses = list(request.assigned_courses.all())
        else:
            if request is not None and request.wishes_saved_at is not None:
                wishes = list(request.wishes.all())
            else:
                request = request or ReenrollmentRequest(campaign=campaign, student=student)
                wishes = [
                    Wish(
                        choice=Wish.Choice.CONTINUE,
                        discipline=e.course.discipline,
                        enrollment=e,
                    )
                    for e in current.get(student.pk, [])
                ]
                if wishes:
                    assumed.append(student.first_name)
            courses = [
                course
                for wish in wishes
                if (course := next_course(request, wish, candidates, this_year)) is not None
            ]
        if courses:
            wanted[student.pk] = [Enrollment(student=student, course=c) for c in courses]
    return wanted, assumed


class ThisYearCourses:
    """A new discipline without a course next year yet is priced as this year's:
    {discipline id: a course of `year`}, read the first time a wish needs it
    (most wishes find their course next year)."""

    def __init__(self, year):
        self.year = year
        self.courses = None

    def get(self, discipline_id):
        if self.courses is None:
            self.courses = {}
            if self.year is not None:
                courses = Course.objects.filter(school_year=self.year).select_related("discipline")
                for course in courses.order_by("pk"):
                    self.courses.setdefault(course.discipline_id, course)
        return self.courses.get(discipline_id)


def next_course(request, wish, candidates, this_year):
    """The course next year that a wish would lead to."""
    if wish.choice == Wish.Choice.STOP:
        return None
    if wish.choice != Wish.Choice.CONTINUE:
        # A new discipline: chosen among next year's courses like a continued one.
        wish = Wish(choice=Wish.Choice.CONTINUE, discipline_id=wish.discipline_id)
    if suggested := suggested_courses(request, [wish], candidates):
        return suggested[0]
    if wish.enrollment is not None:
        return wish.enrollment.course
    return this_year.get(wish.discipline_id)


def reenrollment_estimate(campaign, family, previous_year):
    """(Estimate, students counted as continuing) for the campaign's year,
    or None when no grid is voted for it."""
    grid = grid_for(campaign.site_id, campaign.school_year)
    if grid is None:
        return None
    wanted, assumed = wished_enrollments(campaign, family, previous_year)
    return price_family(family, grid, enrollments_by_student=wanted, cached_rules=True), assumed
