"""Sessions read from the cache (Redis), written through to the database, written
once per sign-in."""

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseSessionStore

from .sessions import WrittenOnceAtSignIn


class SessionStore(WrittenOnceAtSignIn, CachedDatabaseSessionStore):
    pass
