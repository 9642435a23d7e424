"""A school year with its structure, for the students tests."""

from datetime import date, time

from documents.models import DocumentKind
from students.models import (ClosurePeriod, Course, Discipline, Enrollment, Room, SchoolYear,
                             Student, Teacher)


def school_year(site, name="2026-2027", start=date(2026, 9, 14), end=date(2027, 6, 27)):
    year = SchoolYear.objects.create(site=site, name=name, start_date=start, end_date=end)
    ClosurePeriod.objects.create(school_year=year, name="Toussaint",
                                 start_date=date(2026, 10, 17), end_date=date(2026, 11, 1))
    return year


def structure(site, year):
    medical = DocumentKind.objects.create(
        site=site, name="Certificat médical (danse)", scope=DocumentKind.Scope.STUDENT,
        validity=DocumentKind.Validity.SCHOOL_YEAR)
    dance = Discipline.objects.create(site=site, name="Danse classique", category="dance")
    dance.required_documents.add(medical)
    piano = Discipline.objects.create(site=site, name="Piano", category="instrument")
    fm = Discipline.objects.create(site=site, name="Formation musicale", category="musicianship")
    teacher = Teacher.objects.create(site=site, first_name="Hélène", last_name="Rivière")
    room = Room.objects.create(site=site, name="Salle Debussy")
    courses = [
        Course.objects.create(site=site, school_year=year, discipline=fm, weekday=2,
                              start_time=time(17), end_time=time(18), level="Cycle 1",
                              teacher=teacher, room=room, methods="Dandelot"),
        Course.objects.create(site=site, school_year=year, discipline=piano, weekday=2,
                              start_time=time(14), end_time=time(14, 30), teacher=teacher,
                              room=room, is_collective=False),
        Course.objects.create(site=site, school_year=year, discipline=dance, weekday=5,
                              start_time=time(10), end_time=time(11, 30), room=room),
        Course.objects.create(site=site, school_year=year, discipline=fm, weekday=4,
                              start_time=time(18), end_time=time(19), room=room),
    ]
    return {"medical": medical, "dance": dance, "piano": piano, "fm": fm, "courses": courses}


def student(family, first_name="Léa", courses=(), **fields):
    values = {"last_name": family.name, "birth_date": date(2015, 3, 12), "sex": "F"}
    values.update(fields)
    created = Student.objects.create(family=family, first_name=first_name, **values)
    for course in courses:
        Enrollment.objects.create(student=created, course=course)
    return created
