"""Django's SpatiaLite backend, keeping the busy timeout it was given.

Loading the SpatiaLite extension sets the connection's busy timeout to 5 seconds, whatever
OPTIONS["timeout"] said (Python's sqlite3 applies that one when it connects, before the
extension is loaded). Concurrent writers then fail with "database is locked" after 5 s
instead of the configured wait. This backend applies the configured timeout again.
"""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db.backends.spatialite.base import DatabaseWrapper as SpatiaLiteDatabaseWrapper

# Python's sqlite3 default, in seconds.
DEFAULT_TIMEOUT = 5.0


class DatabaseWrapper(SpatiaLiteDatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        milliseconds = int(float(conn_params.get("timeout", DEFAULT_TIMEOUT)) * 1000)
        connection.execute(f"PRAGMA busy_timeout = {milliseconds}")
        return connection
