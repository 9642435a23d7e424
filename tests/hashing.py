"""The production password hashers, for the tests about hashing and login
timing (the suite hashes with a fast hasher, see tests/settings.py)."""

from extranet import settings as production


def use_real_hashers(settings):
    """Hash with the production list from now on (pytest-django's `settings`
    fixture restores the suite's list after the test)."""
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
