"""The re-enrollment builder's old name: it lives in tests/factories.py. Kept, with the
other names that tests reach through it, for the tests written against it."""

from . import students_data  # noqa: F401
from .factories import campaign  # noqa: F401
