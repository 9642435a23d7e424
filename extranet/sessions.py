"""Sessions in the database, written once per sign-in."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class WrittenOnceAtSignIn:
    def cycle_key(self):
        """A new key at sign-in (no session fixation), as Django's, but the new
        session is written once, with its data, when the response goes out:
        Django's writes an empty session first, then updates it, one more
        transaction for every sign-in."""
        data = self._session
        key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)


class SessionStore(WrittenOnceAtSignIn, DatabaseSessionStore):
    pass
