"""What a database error means for the caller: wait and try again, or a fault.

SQLite lets one writer at a time into the whole file: another writer's transaction makes it
answer "database is locked" (or "busy") once its busy timeout has run out. PostgreSQL ends
one of two deadlocked transactions, refuses a serialisation conflict, and loses connections
when it restarts. None of these says anything about the data: the same work succeeds a
moment later, so callers retry it, or tell the client to (503), rather than record a failure.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

# SQLite's messages for SQLITE_BUSY and SQLITE_LOCKED ("database is locked", "database
# table is locked", "database schema is locked", "database is busy").
_SQLITE_BUSY_WORDS = ("locked", "busy")


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is a database error that passes by itself (busy, locked, deadlock,
    serialisation conflict, lost connection), as opposed to one in the query or the data."""
    if isinstance(exc, InterfaceError):
        # The connection is closed or broken: the next one works once the server is back.
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("sqlite3"):
        message = str(exc).lower()
        return any(word in message for word in _SQLITE_BUSY_WORDS)
    # psycopg's OperationalError covers lost connections, deadlocks, serialisation failures,
    # lock and statement time-outs, and a server shutting down: all pass with time.
    return True
