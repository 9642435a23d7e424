"""The students builders' old name: they live in tests/factories.py. Kept, with the other
names that tests reach through it, for the tests written against it."""

from datetime import date, time  # noqa: F401

from students.models import Course  # noqa: F401

from .factories import school_year, structure, student  # noqa: F401
