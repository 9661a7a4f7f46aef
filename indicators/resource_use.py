"""Natural-resource use recorded in the field (observations.ResourceUse), per area and zone
and per month, quarter and year (indicators.compute's style): the months in one INSERT …
SELECT from their records, the quarters and years summed from the stored months.

- resource.records: records of a kind of resource, subject "<kind>", and the same split by
  permit, purpose and users: "<kind>:permitted:<yes|no|unknown>", "<kind>:purpose:<p>",
  "<kind>:users:<u>".
- resource.quantity: summed quantities of a kind *in one unit*, subject "<kind>:<unit>"
  and the same splits ("<kind>:<unit>:permitted:no", …). Quantities in different units
  (logs and m³ of timber) are never added: the unit is part of the subject. A record
  without a quantity or a unit counts in resource.records only.

Both carry the km patrolled in the same area, zone and period as `effort`, so that a
quantity per 10 km can be drawn beside them (SMART-style numeric aggregates per effort and
area; domain.md §6). A blank kind is "unspecified"; a blank purpose or users "unknown".
"""

from __future__ import annotations

from indicators import sql

# The splits of each kind: "" is the kind as a whole.
DIMENSIONS = ("", "permitted", "purpose", "users")


def resource_use(job: int, where: sql.Where) -> None:
    """Records and quantities of resource use per kind (and unit), permitted or not, by
    purpose and by users: first for the months in scope from their records (`where`: the
    records of those months), then for the quarters and years in scope from the stored
    months (counts and sums: additive; sql.roll_up, called by the computation)."""
    d = sql.dialect()
    n = sql.N
    op_where, op_params = where.sql("op.area_id", "op.day")
    month = d.month("op.day")
    split = " UNION ALL ".join(
        f"""SELECT area_id, zone_id, m, rkind, unit,
            {"''" if not dim else f"':{dim}:' || {dim}"} AS dim, records, qty, quantities FROM rb"""
        for dim in DIMENSIONS
    )
    sql.execute(
        f"""
        INSERT INTO {sql.IV} ({sql.COLUMNS})
        WITH ru AS (
            SELECT op.area_id, COALESCE(op.zone_id, 0) AS zone_id, {month} AS m,
                COALESCE(NULLIF(r.kind, ''), 'unspecified') AS rkind, NULLIF(r.unit, '') AS unit,
                r.quantity,
                CASE WHEN r.permitted IS NULL THEN 'unknown' WHEN r.permitted THEN 'yes' ELSE 'no' END
                    AS permitted,
                COALESCE(NULLIF(r.purpose, ''), 'unknown') AS purpose,
                COALESCE(NULLIF(r.users, ''), 'unknown') AS users
            FROM observations_observationplace op
            JOIN observations_observation o ON o.id = op.observation_id
            JOIN observations_resourceuse r ON r.observation_id = o.id
            {sql.in_scope_month("op.area_id", month)}
            WHERE {op_where}
        ),
        rb AS (
            SELECT area_id, zone_id, m, rkind, unit, permitted, purpose, users, COUNT(*) AS records,
                SUM({sql.units("CASE WHEN unit IS NOT NULL THEN quantity END", sql.QUANTITY)}) AS qty,
                COUNT(CASE WHEN unit IS NOT NULL THEN quantity END) AS quantities
            FROM ru
            GROUP BY area_id, zone_id, m, rkind, unit, permitted, purpose, users
        ),
        dims AS ({split}),
        pd AS (
            SELECT m, area_id, zone_id, rkind, unit, dim, SUM(records) AS records,
                SUM(qty) AS qty, SUM(quantities) AS quantities
            FROM dims
            GROUP BY m, area_id, zone_id, rkind, unit, dim
        ),
        figures AS (
            SELECT m, area_id, zone_id, 'resource.records' AS indicator, rkind || dim AS subject,
                CAST(SUM(records) AS double precision) AS v
            FROM pd GROUP BY m, area_id, zone_id, rkind, dim
            UNION ALL
            SELECT m, area_id, zone_id, 'resource.quantity', rkind || ':' || unit || dim,
                {sql.from_units("qty", sql.QUANTITY)}
            FROM pd WHERE unit IS NOT NULL AND quantities > 0
        )
        SELECT f.area_id, f.zone_id, 0, 'M', f.m, f.indicator, f.subject, f.v, f.v, {n}, {n}, {n},
            e.value
        FROM figures f
        {sql.km_patrolled("e", "f.area_id", "f.zone_id", "'M'", "f.m")}
        {sql.IN_KEY_ORDER}
        """,
        [job, *op_params],
    )
