"""SQL pieces the map queries share: a point's coordinates, a record's location as a user
may see it, and how a map query runs. The same text on PostGIS and SpatiaLite."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import FloatField, Func

from accounts.access import Capability
from accounts.generalisation import CELL_DEGREES, STRICTNESS
from observations import sensitivity


class STX(Func):
    function = "ST_X"
    output_field = FloatField()


class STY(Func):
    function = "ST_Y"
    output_field = FloatField()


def ids_sql(ids: frozenset[int] | set[int]) -> str:
    """A list of ids for `IN (...)`, written from integers only; never empty."""
    return ", ".join(str(int(i)) for i in sorted(ids)) or "NULL"


def exact_sql(view: sensitivity.UserView) -> str:
    """SQL true for rows whose exact point this user may see: open records, and any record
    of an area where the user holds VIEW_EXACT_SENSITIVE_LOCATIONS."""
    areas = view.by_capability[Capability.VIEW_EXACT_SENSITIVE_LOCATIONS]
    if areas is None:
        return "1 = 1"
    ids = ", ".join(str(int(a)) for a in sorted(areas))
    return f"(t.sensitivity_rank = 0 OR t.aid IN ({ids}))" if ids else "t.sensitivity_rank = 0"


def generalised_sql(column: str, exact: str) -> str:
    """The coordinate as the user may see it: exact, or the centre of the record's grid
    cell (accounts.generalisation.CELL_DEGREES, in SQL)."""
    whens = [f"WHEN {exact} THEN t.{column}"]
    for level, cell in CELL_DEGREES.items():
        if cell:
            size = float(cell)
            whens.append(
                f"WHEN t.sensitivity_rank = {STRICTNESS[level]} "
                f"THEN FLOOR(t.{column} / {size!r}) * {size!r} + {size / 2!r}"
            )
    return f"CASE {' '.join(whens)} END"


# Keeps the database from folding the derived table into the outer query, which would
# compute each record's level once per use of it instead of once (PostgreSQL's OFFSET 0
# optimisation fence; SQLite's equivalent, a LIMIT that limits nothing).
FENCE = {"postgresql": " OFFSET 0", "sqlite": " LIMIT -1 OFFSET 0"}


def query(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run a map query. On PostgreSQL without JIT compilation: these queries are short, and
    compiling them took longer than running them."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return list(cursor.fetchall())
