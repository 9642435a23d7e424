from . import admin_income  # noqa: F401
