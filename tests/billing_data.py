"""The billing builders' old name: they live in tests/factories.py. Kept for the tests
written against it."""

from .factories import draft, issued, payer, simulator  # noqa: F401
