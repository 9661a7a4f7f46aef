"""fieldkit.db: which database errors pass by themselves (retry, 503) and which are faults;
SpatiaLite connections that wait for another writer rather than fail."""

from __future__ import annotations

import sqlite3

import pytest
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection

from fieldkit import db


def from_sqlite(message: str, kind: type[Exception] = OperationalError) -> Exception:
    """What Django raises for an error of the sqlite3 module: its own class, caused by it."""
    try:
        try:
            raise sqlite3.OperationalError(message)
        except sqlite3.Error as exc:
            raise kind(message) from exc
    except Exception as exc:
        return exc
    raise AssertionError("unreachable")


def test_sqlite_busy_and_locked_pass() -> None:
    for message in ("database is locked", "database table is locked", "database is busy"):
        assert db.is_transient(from_sqlite(message)), message


def test_other_sqlite_errors_are_faults() -> None:
    for message in ("no such table: odk_forms_submission", "disk I/O error", "file is not a database"):
        assert not db.is_transient(from_sqlite(message)), message


def test_postgresql_operational_errors_and_lost_connections_pass() -> None:
    assert db.is_transient(OperationalError("deadlock detected"))
    assert db.is_transient(OperationalError("server closed the connection unexpectedly"))
    assert db.is_transient(InterfaceError("connection already closed"))


def test_errors_in_the_data_or_the_code_are_faults() -> None:
    assert not db.is_transient(IntegrityError("duplicate key value"))
    assert not db.is_transient(DatabaseError("syntax error"))
    assert not db.is_transient(ValueError("database is locked"))


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SpatiaLite only")
def test_spatialite_connections_keep_the_configured_busy_timeout() -> None:
    # Loading SpatiaLite would set 5 s; concurrent writers need the configured wait.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        (milliseconds,) = cursor.fetchone()
    assert milliseconds == settings.DATABASES["default"]["OPTIONS"]["timeout"] * 1000
    assert settings.DATABASES["default"]["OPTIONS"]["timeout"] >= 30


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SpatiaLite only")
def test_spatialite_transactions_take_the_write_lock_at_once() -> None:
    # A deferred transaction that reads then writes gets "database is locked" without waiting.
    assert connection.transaction_mode == "IMMEDIATE"
