"""Sessions in the shared cache, refreshed without being rewritten.

The idle timeout (``SESSION_COOKIE_AGE`` with ``SESSION_SAVE_EVERY_REQUEST``) makes
Django save the session after every request. Django's cache store does that with a
read (does the session still exist?) and a write of the whole session. When the
request changed nothing, this store only moves the expiry forward (one ``EXPIRE``):
the same data with the same new lifetime. A session that vanished meanwhile (logged
out elsewhere, expired) falls back to Django's save, which refuses it as before.
"""

from __future__ import annotations

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore


class SessionStore(CacheSessionStore):
    def save(self, must_create: bool = False) -> None:
        if (
            not must_create
            and not self.modified
            and self.session_key is not None
            and self._cache.touch(  # type: ignore[attr-defined]
                self.cache_key, self.get_expiry_age()
            )
        ):
            return
        super().save(must_create=must_create)
