"""The secretariat's side of direct debit, one module per concern."""

from . import admin_batches, admin_mandates, admin_returns  # noqa: F401 - they register
