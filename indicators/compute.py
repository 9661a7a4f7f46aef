"""Indicators computed in the database: one INSERT … SELECT per family of indicators, over
every area and period of a computation at once (GROUP BY), rows never passing through
Python. The same statements run on PostGIS and SpatiaLite; only the date arithmetic and
the projection call differ (`_Dialect`).

A computation has a *scope*: rows of ComputeScope, one per area and period (month,
quarter, year) to replace, under one job number. Its values are deleted and inserted
again in one transaction, family by family (a full computation from the first record on
PostgreSQL writes them to temporary tables first and merges them: _stage, _merge; an
update computes its two parts at once: MAIN, BESIDE):

1. effort per month (from TrackSegment: the area rows with no zone, and each zone's);
2. counts per month: records and summed counts per category subtree, vertical, taxon and
   IUCN category (ObservationPlace: every area and zone containing the observation);
3. quarters and years of the additive families above, summed from the months in SQL;
4. encounter rates (CPUE) are not stored: models.IndicatorRow derives them when read from
   the counts and the effort of the same area, zone and period, with Garwood's interval
   joined from PoissonBound (two rows stored per subject instead of eight);
5. the grid (indicators.coverage): tracks cut by the cells once (TrackPiece), then one
   CellFigure row per cell and period with its effort and records;
6. biodiversity for every period, from counts per species per period (not additive:
   richness, Chao1, Shannon and Pielou are recomputed from the species counts), read from
   the counts per taxon the same computation has just written;
7. METT per WCPA element and finance per year; coverage, resource use, species
   accumulation and suggested METT scores (their modules).

The formulas are those of indicators.formulas, written in SQL; tests compare the two.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, connections, transaction
from scipy.special import gammaincinv

from indicators import accumulation, coverage, evidence, resource_use, sql
from indicators.models import CELL_M, LARGE_AREA_KM2, LARGE_CELL_M, PoissonBound
from indicators.sql import (
    CELLS,
    COLUMNS,
    IN_KEY_ORDER,
    IV,
    SCOPE,
    Z95,
    N,
    Where,
    dialect,
)

# Seconds spent in each step since the process started (bench/indicators.py prints them).
TIMINGS: dict[str, float] = {}
# Rows a staged computation's merges deleted and inserted, per table.
WRITTEN: dict[str, int] = {}

# e^-n for n at or above this is left out of Chao1's sums (below 1e-130): PostgreSQL raises an
# underflow error where Python returns 0.
EXP_LIMIT = 300

# Effort units rates are given per, and the scale (formulas.DEFAULT_SCALE).
RATE_UNITS = (("km", 10.0), ("field_hours", 100.0), ("person_days", 100.0))

INDICATORS: dict[str, str] = {
    "effort.km": "km patrolled (tracks clipped to the area or zone)",
    "effort.patrol_hours": "patrol hours, apportioned by distance",
    "effort.field_hours": "field hours, apportioned by distance",
    "effort.person_days": "person-days, apportioned by distance",
    "effort.leg_days": "leg-days with effort in the area or zone",
    "count.records": "records (subject: category, vertical, taxon or IUCN category)",
    "count.individuals": "summed counts of the records",
    "cell.records": "records in a grid cell (subject: vertical)",
    **{
        f"cpue.{n}.{unit}": f"{n} per {scale:g} {unit.replace('_', ' ')}, Garwood 95 % interval"
        for n in ("records", "individuals")
        for unit, scale in RATE_UNITS
    },
    "bio.richness": "observed species richness",
    "bio.chao1": "bias-corrected Chao1 with its log-normal 95 % interval",
    "bio.chao1_variance": "variance of Chao1",
    "bio.shannon": "Shannon H′ on individual counts (natural log)",
    "bio.pielou": "Pielou evenness J = H′ / ln S",
    "bio.species": "species seen (subject: IUCN category)",
    "mett.percent": "METT score as % of the applicable maximum (subject: WCPA element or '')",
    "finance.spend_per_km2": "actual spending per km² (subject: currency)",
    "finance.budget_per_km2": "planned spending per km² (subject: currency)",
    "finance.spend_per_km": "actual spending per km patrolled (subject: currency)",
    "finance.spend": "actual spending by category (subject: currency:category)",
    "finance.income": "actual income by source (subject: currency:source)",
    "finance.gap_basic": "basic need − actual income (subject: currency)",
    "finance.gap_optimal": "optimal need − actual income (subject: currency)",
    # indicators.coverage: effort.* and cell.records with a cell, and cpue.records.km per cell, too.
    "coverage.area": "share (0–1) of the area or zone within 500 m of a track",
    "coverage.cells": "share (0–1) of the area's grid cells patrolled",
    # indicators.resource_use
    "resource.records": "records of resource use (subject: kind[:permitted|purpose|users:<value>])",
    "resource.quantity": "summed quantity in one unit (subject: kind:unit[:permitted|purpose|users:<value>])",
    # indicators.accumulation
    "bio.accumulation": "expected species after t leg-days, Mao Tau (subject: t; numerator: observed)",
    # indicators.evidence
    "mett.suggested": "METT score suggested by field data, beside the assessors' (subject: question)",
}


def new_job() -> int:
    return random.getrandbits(62)


# --- Scope ----------------------------------------------------------------------------------------


def scope_months_with_data(job: int, area_ids: list[int] | None, since: date | None) -> None:
    """Scope rows for every month that has effort or observations (full computation)."""
    d = dialect()
    where_ts, where_op = "", ""
    params: list[Any] = []
    if area_ids is not None:
        marks = ", ".join(["%s"] * len(area_ids)) or "NULL"
        where_ts += f" AND ts.area_id IN ({marks})"
        where_op += f" AND op.area_id IN ({marks})"
        params += area_ids
    if since is not None:
        where_ts += " AND ts.day >= %s"
        where_op += " AND op.day >= %s"
        params.append(since)
    ts_params = params
    area_params = list(area_ids or [])

    def where_yearly(alias: str) -> str:
        # METT and budgets belong to a year (January's month row stands for it).
        if area_ids is None:
            return "1 = 1"
        return f"{alias}.area_id IN ({', '.join(['%s'] * len(area_ids)) or 'NULL'})"

    sql.execute(
        f"""
        INSERT INTO {SCOPE} (job, area_id, period_kind, period_start, period_end)
        SELECT %s, area_id, 'M', m, {d.end("m", 1)} FROM (
            SELECT DISTINCT ts.area_id, {d.month("ts.day")} AS m
            FROM observations_tracksegment ts
            WHERE ts.zone_id IS NULL {where_ts}
            UNION
            SELECT DISTINCT op.area_id, {d.month("op.day")} AS m
            FROM observations_observationplace op
            WHERE op.zone_id IS NULL AND op.day IS NOT NULL {where_op}
            UNION
            SELECT DISTINCT a.area_id, {d.year_start("a.year")} AS m
            FROM observations_mettassessment a WHERE {where_yearly("a")}
            UNION
            SELECT DISTINCT b.area_id, {d.year_start("b.fiscal_year")} AS m
            FROM observations_budgetreturn b WHERE {where_yearly("b")}
        ) months
        """,
        [job, *ts_params, *ts_params, *area_params, *area_params],
    )
    _scope_years(job)


def scope_months(job: int, keys: Iterable[tuple[int, date]]) -> None:
    """Scope rows for the given (area, first day of month) keys and their quarters and
    years, in one statement."""
    periods: set[tuple[int, str, date, date]] = set()
    for area_id, month in set(keys):
        quarter = date(month.year, month.month - (month.month - 1) % 3, 1)
        periods |= {
            (area_id, "M", month, _month_end(month)),
            (area_id, "Q", quarter, _month_end(date(quarter.year, quarter.month + 2, 1))),
            (area_id, "Y", date(month.year, 1, 1), date(month.year, 12, 31)),
        }
    if periods:
        rows = sorted(periods)
        sql.execute(
            f"INSERT INTO {SCOPE} (job, area_id, period_kind, period_start, period_end) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows)),
            [value for row in rows for value in (job, *row)],
        )


def _month_end(month: date) -> date:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def _scope_years(job: int) -> None:
    d = dialect()
    for kind, start, months in (("Q", d.quarter("period_start"), 3), ("Y", d.year("period_start"), 12)):
        sql.execute(
            f"""
            INSERT INTO {SCOPE} (job, area_id, period_kind, period_start, period_end)
            SELECT %s, area_id, '{kind}', p, {d.end("p", months)} FROM (
                SELECT DISTINCT area_id, {start} AS p FROM {SCOPE} WHERE job = %s AND period_kind = 'M'
            ) periods
            """,
            [job, job],
        )


def clear_scope(job: int) -> None:
    sql.execute(f"DELETE FROM {SCOPE} WHERE job = %s", [job])


# --- Poisson bounds ---------------------------------------------------------------------------------

# Counts up to this have their exact bounds in PoissonBound; above it, Wilson and Hilferty's
# cube-root approximation of the same chi-square quantiles (relative error < 1e-5 there).
POISSON_TABLE = 10_000


def ensure_poisson_bounds(upto: int = POISSON_TABLE) -> None:
    """Tabulate Garwood's 95 % bounds for every count up to `upto` (formulas.poisson_interval,
    vectorised: the same gamma quantiles)."""
    if PoissonBound.objects.filter(k=upto).exists():
        return
    have = PoissonBound.objects.count()
    ks = np.arange(have, upto + 1)
    lower = np.where(ks == 0, 0.0, gammaincinv(np.maximum(ks, 1), 0.025))
    upper = gammaincinv(ks + 1, 0.975)
    PoissonBound.objects.bulk_create(
        [
            PoissonBound(k=int(k), lower=float(lo), upper=float(up))
            for k, lo, up in zip(ks, lower, upper, strict=True)
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )


# --- The families -----------------------------------------------------------------------------------
#
# Every family reads the records of the scope's areas within the scope's dates once,
# groups them by month first (a hash aggregate over the rows, whatever their number), and
# only then joins the few grouped rows to the scope's periods: a month row counts in its
# month, its quarter and its year, each summed from the months (additive figures) or from
# the counts per species (biodiversity).


def _delete(job: int, area_ids: list[int] | None, since: date | None, full: bool, part: str = "all") -> None:
    """The old values and grid-cell figures of the scope's periods (and, for a full
    computation, of the areas from `since`); of an update's `part` only (PARTS)."""
    if part != "all":
        # One part of an update: its own indicators (and, for the main part, the cells).
        mine = "IN" if part == BESIDE else "NOT IN"
        codes = ", ".join(f"'{code}'" for code in BESIDE_CODES)
        scope = f"""(area_id, period_kind, period_start) IN
            (SELECT area_id, period_kind, period_start FROM {SCOPE} WHERE job = %s)"""
        sql.execute(f"DELETE FROM {IV} WHERE {scope} AND indicator {mine} ({codes})", [job])
        if part == MAIN:
            sql.execute(f"DELETE FROM {CELLS} WHERE {scope}", [job])
        return
    where: list[str] = []
    params: list[Any] = []
    if full:
        # Months that lost all their records have no scope row: clear the area from `since`.
        if area_ids is not None:
            where.append(f"area_id IN ({', '.join(['%s'] * len(area_ids)) or 'NULL'})")
            params += area_ids
        if since is not None:
            where.append("period_start >= %s")
            params.append(date(since.year, since.month, 1))
    for table in (IV, CELLS):
        if not full or since is not None:
            sql.execute(
                f"""DELETE FROM {table} WHERE (area_id, period_kind, period_start) IN
                    (SELECT area_id, period_kind, period_start FROM {SCOPE} WHERE job = %s)""",
                [job],
            )
        if full:
            sql.execute(f"DELETE FROM {table} WHERE {' AND '.join(where) or '1 = 1'}", params)


def _activity(job: int, where: Where, whole_years: bool = False) -> None:
    """Effort and counts per subject, for every period in scope: effort from TrackSegment,
    counts from ObservationPlace (the same areas and zones), for the months in scope from
    their records (their quarters and years: sql.roll_up, summing the stored months, those
    just written and the others). Encounter rates (CPUE) are derived from these
    rows when read (models.IndicatorRow): count ÷ effort × scale with Garwood's bounds
    scaled alike (formulas.encounter_rate, summed_count_rate); no effort (none, or 0) →
    value NULL: no data, never 0.

    `whole_years`: every month with records of the scope's years is in scope (a full
    computation from the first record on), so the counts of quarters and years are summed
    in the same statement from the months it has just grouped, not read back: the same
    sums, counts being whole numbers (exact in any order)."""
    d = dialect()
    ts_where, ts_params = where.sql("ts.area_id", "ts.day")
    op_where, op_params = where.sql("op.area_id", "op.day")
    period = f"CASE WHEN p.kind = 'Q' THEN {d.quarter('m')} ELSE {d.year('m')} END"
    whole_years_counts = f"""
        UNION ALL
        SELECT area_id, zone_id, 0, kind, start, code, subject, n, n, {N}, {N}, {N}, {N} FROM (
            SELECT area_id, zone_id, p.kind, {period} AS start, c.code, subject,
                SUM(CASE WHEN c.code = 'count.records' THEN records ELSE individuals END) AS n
            FROM ct
            CROSS JOIN (SELECT 'Q' AS kind UNION ALL SELECT 'Y') p
            CROSS JOIN (SELECT 'count.records' AS code UNION ALL SELECT 'count.individuals') c
            GROUP BY area_id, zone_id, p.kind, {period}, c.code, subject
        ) qy"""
    effort_rows = " UNION ALL ".join(
        f"SELECT area_id, zone_id, 0, 'M', m, 'effort.{code}', '', {col}, {col}, {N}, {N}, {N}, {col} FROM eb"
        for code, col in (
            ("km", "km"),
            ("patrol_hours", "ph"),
            ("field_hours", "fh"),
            ("person_days", "pd"),
            ("leg_days", "legdays"),
        )
    )
    sql.execute(
        f"""
        INSERT INTO {IV} ({COLUMNS})
        WITH anc AS (
            SELECT c.slug AS slug, a.slug AS ancestor FROM observations_category c
            JOIN observations_category a
              ON c.slug = a.slug OR substr(c.slug, 1, length(a.slug) + 1) = a.slug || '.'
        ),
        eb AS (
            SELECT ts.area_id, COALESCE(ts.zone_id, 0) AS zone_id, {d.month("ts.day")} AS m,
                {sql.exact_sum("ts.distance_km")} AS km, {sql.exact_sum("ts.patrol_hours")} AS ph,
                {sql.exact_sum("ts.field_hours")} AS fh, {sql.exact_sum("ts.person_days")} AS pd,
                COUNT(*) AS legdays
            FROM observations_tracksegment ts
            {sql.in_scope_month("ts.area_id", d.month("ts.day"))}
            WHERE {ts_where}
            GROUP BY ts.area_id, COALESCE(ts.zone_id, 0), {d.month("ts.day")}
        ),
        ob AS (
            SELECT op.area_id, COALESCE(op.zone_id, 0) AS zone_id, {d.month("op.day")} AS m, o.category,
                o.vertical, t.slug AS taxon, t.iucn_category AS iucn, COUNT(*) AS records,
                SUM(COALESCE(o.count, 1)) AS n, SUM(COALESCE(sp.individual_count, o.count, 1)) AS sn
            FROM observations_observationplace op
            JOIN observations_observation o ON o.id = op.observation_id
            LEFT JOIN observations_speciesobservation sp ON sp.observation_id = o.id AND sp.is_occurrence
            LEFT JOIN observations_taxon t ON t.id = sp.taxon_id
            {sql.in_scope_month("op.area_id", d.month("op.day"))}
            WHERE {op_where}
            GROUP BY op.area_id, COALESCE(op.zone_id, 0), {d.month("op.day")}, o.category, o.vertical,
                t.slug, t.iucn_category
        ),
        subj AS (
            SELECT area_id, zone_id, m, 'category:' || anc.ancestor AS subject, records, n
            FROM ob JOIN anc ON anc.slug = ob.category
            UNION ALL
            SELECT area_id, zone_id, m, 'vertical:' || vertical, records, n FROM ob
            UNION ALL
            SELECT area_id, zone_id, m, 'taxon:' || taxon, records, sn FROM ob WHERE taxon IS NOT NULL
            UNION ALL
            SELECT area_id, zone_id, m, 'iucn:' || iucn, records, sn FROM ob WHERE taxon IS NOT NULL
        ),
        ct AS (
            SELECT area_id, zone_id, m, subject, SUM(records) AS records, SUM(n) AS individuals
            FROM subj GROUP BY area_id, zone_id, m, subject
        )
        {effort_rows}
        UNION ALL
        SELECT area_id, zone_id, 0, 'M', m, 'count.records', subject,
            records, records, {N}, {N}, {N}, {N} FROM ct
        UNION ALL
        SELECT area_id, zone_id, 0, 'M', m, 'count.individuals', subject,
            individuals, individuals, {N}, {N}, {N}, {N} FROM ct
        {whole_years_counts if whole_years else ""}
        {IN_KEY_ORDER}
        """,
        [job, *ts_params, job, *op_params],
    )


def _additive(whole_years: bool) -> tuple[str, ...]:
    """The codes whose quarters and years sum their months: effort, counts (unless summed
    with their months: _activity's whole_years) and resource use."""
    counts = () if whole_years else ("count.records", "count.individuals")
    return (*EFFORT_CODES, *counts, "resource.records", "resource.quantity")


EFFORT_CODES = (
    "effort.km",
    "effort.patrol_hours",
    "effort.field_hours",
    "effort.person_days",
    "effort.leg_days",
)


def _biodiversity(job: int, where: Where) -> None:
    """Richness, Chao1 (bias-corrected, Chao 1987; variance and interval as
    formulas.chao1), Shannon H′ and Pielou J for every period in scope, from counts per
    species per period: none of them is a sum of the months'. Those counts are the
    count.individuals rows of subject taxon:<slug> that _activity has just written for the
    same area, zone and period (the same records: occurrences, individuals counted as
    COALESCE(individual count, count, 1)), so no record is read again."""
    z = Z95
    sql.execute(
        f"""
        INSERT INTO {IV} ({COLUMNS})
        WITH species AS (
            SELECT v.period_kind, v.area_id, v.zone_id, v.period_start, t.id AS taxon_id,
                t.iucn_category AS iucn, v.value AS n
            FROM {SCOPE} s
            JOIN {IV} v ON v.area_id = s.area_id AND v.period_kind = s.period_kind
                AND v.period_start = s.period_start AND v.indicator = 'count.individuals'
                AND v.cell_id = 0
            JOIN observations_taxon t ON v.subject = 'taxon:' || t.slug
            WHERE s.job = %s
        ),
        st AS (
            SELECT period_kind, area_id, zone_id, period_start,
                CAST(COUNT(*) AS double precision) AS s_obs,
                CAST(SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END) AS double precision) AS f1,
                CAST(SUM(CASE WHEN n = 2 THEN 1 ELSE 0 END) AS double precision) AS f2,
                CAST(SUM(n) AS double precision) AS total,
                SUM(n * ln(n)) AS nlogn,
                SUM(CASE WHEN n < {EXP_LIMIT} THEN exp(-n) - exp(-2.0 * n) ELSE 0 END) AS v0a,
                SUM(CASE WHEN n < {EXP_LIMIT} THEN n * exp(-n) ELSE 0 END) AS v0b,
                SUM(CASE WHEN n < {EXP_LIMIT} THEN exp(-n) ELSE 0 END) AS p0
            FROM species WHERE n > 0
            GROUP BY period_kind, area_id, zone_id, period_start
        ),
        ch AS (
            SELECT st.*, f1 * (f1 - 1) / (2 * (f2 + 1)) AS unseen,
                CASE
                    WHEN f1 > 1 AND f2 > 0 THEN
                        f1 * (f1 - 1) / (2 * (f2 + 1))
                        + f1 * (2 * f1 - 1) * (2 * f1 - 1) / (4 * (f2 + 1) * (f2 + 1))
                        + f1 * f1 * f2 * (f1 - 1) * (f1 - 1) / (4 * (f2 + 1) * (f2 + 1) * (f2 + 1) * (f2 + 1))
                    WHEN f1 > 1 THEN
                        f1 * (f1 - 1) / 2 + f1 * (2 * f1 - 1) * (2 * f1 - 1) / 4
                        - f1 * f1 * f1 * f1 / (4 * (s_obs + f1 * (f1 - 1) / 2))
                    ELSE CASE WHEN v0a - v0b * v0b / total > 0 THEN v0a - v0b * v0b / total ELSE 0 END
                END AS var
            FROM st
        ),
        ci AS (
            SELECT ch.*,
                CASE WHEN unseen > 0 THEN exp({z} * sqrt(ln(1 + var / (unseen * unseen)))) END AS c,
                p0 / s_obs AS p
            FROM ch
        ),
        out AS (
            SELECT ci.*, s_obs + unseen AS chao,
                CASE WHEN unseen > 0 THEN s_obs + unseen / c
                     WHEN s_obs / (1 - p) - {z} * sqrt(var) / (1 - p) > s_obs
                        THEN s_obs / (1 - p) - {z} * sqrt(var) / (1 - p)
                     ELSE s_obs END AS lo,
                CASE WHEN unseen > 0 THEN s_obs + unseen * c
                     ELSE s_obs / (1 - p) + {z} * sqrt(var) / (1 - p) END AS hi,
                ln(total) - nlogn / total AS h
            FROM ci
        )
        SELECT area_id, zone_id, 0, period_kind, period_start,
            'bio.richness', '', s_obs, s_obs, {N}, {N}, {N}, {N}
            FROM out
        UNION ALL
        SELECT area_id, zone_id, 0, period_kind, period_start,
            'bio.chao1', '', chao, s_obs, {N}, lo, hi, {N}
            FROM out
        UNION ALL
        SELECT area_id, zone_id, 0, period_kind, period_start,
            'bio.chao1_variance', '', var, {N}, {N}, {N}, {N}, {N}
            FROM out
        UNION ALL
        SELECT area_id, zone_id, 0, period_kind, period_start,
            'bio.shannon', '', h, total, {N}, {N}, {N}, {N}
            FROM out
        UNION ALL
        SELECT area_id, zone_id, 0, period_kind, period_start,
            'bio.pielou', '',
            CASE WHEN s_obs > 1 THEN h / ln(s_obs) END, {N}, {N}, {N}, {N}, {N}
            FROM out
        UNION ALL
        SELECT area_id, zone_id, 0, period_kind, period_start,
            'bio.species', 'iucn:' || iucn,
            COUNT(*), COUNT(*), {N}, {N}, {N}, {N} FROM species WHERE n > 0
            GROUP BY area_id, zone_id, period_kind, period_start, iucn
        {IN_KEY_ORDER}
        """,
        [job],
    )


def _mett(job: int) -> None:
    """METT % of the applicable maximum per WCPA element and overall (formulas.mett_score,
    mett_by_element): N/A questions count nowhere; a bonus point counts (in total and
    maximum, one point) only where its question applies."""
    d = dialect()
    sql.execute(
        f"""
        INSERT INTO {IV} ({COLUMNS})
        WITH items AS (
            SELECT a.area_id, {d.year_start("a.year")} AS period_start, q.element, q.second_element,
                CASE WHEN q.is_bonus THEN CASE WHEN p.score IS NOT NULL THEN COALESCE(q.score, 0) END
                     ELSE q.score END AS points,
                CASE WHEN q.is_bonus THEN CASE WHEN p.score IS NOT NULL THEN 1 END
                     WHEN q.score IS NOT NULL THEN 3 END AS top
            FROM observations_mettassessment a
            JOIN {SCOPE} s ON s.job = %s AND s.period_kind = 'Y' AND s.area_id = a.area_id
                AND s.period_start = {d.year_start("a.year")}
            JOIN observations_mettscore q ON q.assessment_id = a.id
            LEFT JOIN observations_mettscore p ON q.is_bonus AND p.assessment_id = a.id
                AND p.question = substr(q.question, 1, length(q.question) - 1)
        ),
        tagged AS (
            SELECT area_id, period_start, element AS subject, points, top FROM items
            UNION ALL
            SELECT area_id, period_start, second_element, points, top FROM items WHERE second_element <> ''
            UNION ALL
            SELECT area_id, period_start, '', points, top FROM items
        )
        SELECT area_id, 0, 0, 'Y', period_start, 'mett.percent', subject,
            CASE WHEN SUM(top) > 0 THEN 100.0 * SUM(points) / SUM(top) END,
            COALESCE(SUM(points), 0), COALESCE(SUM(top), 0), {N}, {N}, {N}
        FROM tagged GROUP BY area_id, period_start, subject
        """,
        [job],
    )


def _finance(job: int) -> None:
    """Per fiscal year (the Y row of the calendar year it starts in): spending and budget
    per km² and per km patrolled, spending by category, income by source, funding gaps.
    Every figure is in the return's currency and keyed by it: amounts in two currencies
    are never added (formulas.CurrencyMismatch)."""
    d = dialect()
    ys = d.year_start("b.fiscal_year")
    spent = sql.from_units("SUM(actual)", sql.CENTS)
    sql.execute(
        f"""
        INSERT INTO {IV} ({COLUMNS})
        WITH lines AS (
            SELECT b.area_id, {ys} AS period_start, b.currency, b.need_basic, b.need_optimal,
                l.kind, l.category, {sql.units("l.actual", sql.CENTS)} AS actual,
                {sql.units("l.planned", sql.CENTS)} AS planned, pa.area_km2
            FROM observations_budgetreturn b
            JOIN {SCOPE} s ON s.job = %s AND s.period_kind = 'Y' AND s.area_id = b.area_id
                AND s.period_start = {ys}
            JOIN protected_areas_protectedarea pa ON pa.id = b.area_id
            JOIN observations_budgetline l ON l.budget_id = b.id
        ),
        tot AS (
            SELECT area_id, period_start, currency, MAX(area_km2) AS km2,
                {sql.from_units("SUM(CASE WHEN kind = 'spend' THEN actual END)", sql.CENTS)} AS spend,
                {sql.from_units("SUM(CASE WHEN kind = 'spend' THEN planned END)", sql.CENTS)} AS budget,
                {sql.from_units("SUM(CASE WHEN kind = 'income' THEN actual END)", sql.CENTS)} AS income,
                CAST(MAX(need_basic) AS double precision) AS basic,
                CAST(MAX(need_optimal) AS double precision) AS optimal
            FROM lines GROUP BY area_id, period_start, currency
        )
        SELECT area_id, 0, 0, 'Y', period_start, 'finance.spend_per_km2', 'currency:' || currency,
            CASE WHEN km2 > 0 THEN spend / km2 END, spend, km2, {N}, {N}, {N}
            FROM tot WHERE spend IS NOT NULL
        UNION ALL
        SELECT area_id, 0, 0, 'Y', period_start, 'finance.budget_per_km2', 'currency:' || currency,
            CASE WHEN km2 > 0 THEN budget / km2 END, budget, km2, {N}, {N}, {N}
            FROM tot WHERE budget IS NOT NULL
        UNION ALL
        SELECT t.area_id, 0, 0, 'Y', t.period_start, 'finance.spend_per_km', 'currency:' || t.currency,
            CASE WHEN e.value > 0 THEN t.spend / e.value END, t.spend, e.value, {N}, {N}, e.value
            FROM tot t {sql.km_patrolled("e", "t.area_id", "0", "'Y'", "t.period_start")}
            WHERE t.spend IS NOT NULL
        UNION ALL
        SELECT area_id, 0, 0, 'Y', period_start, 'finance.gap_basic', 'currency:' || currency,
            basic - COALESCE(income, 0), COALESCE(income, 0), basic, {N}, {N}, {N}
            FROM tot WHERE basic IS NOT NULL
        UNION ALL
        SELECT area_id, 0, 0, 'Y', period_start, 'finance.gap_optimal', 'currency:' || currency,
            optimal - COALESCE(income, 0), COALESCE(income, 0), optimal, {N}, {N}, {N}
            FROM tot WHERE optimal IS NOT NULL
        UNION ALL
        SELECT area_id, 0, 0, 'Y', period_start,
            CASE WHEN kind = 'spend' THEN 'finance.spend' ELSE 'finance.income' END,
            'currency:' || currency || ':' || category, {spent}, {spent}, {N}, {N}, {N}, {N}
            FROM lines WHERE actual IS NOT NULL GROUP BY area_id, period_start, currency, kind, category
        """,
        [job],
    )


# An update's two parts (PARTS), each in a transaction of its own on a connection of its
# own, at the same time (compute_months). BESIDE are the families that read only records
# and their own stored state (swaths), and whose rows no other family reads: the patrol
# swath's coverage, the species accumulation and METT; the MAIN part is every other family,
# which read each other's rows. A full computation runs both parts in one transaction.
MAIN, BESIDE = "main", "beside"
PARTS = ("all", MAIN, BESIDE)
BESIDE_CODES = ("coverage.area", "bio.accumulation", "mett.percent")


def compute_scope(
    job: int,
    where: Where,
    *,
    area_ids: list[int] | None = None,
    since: date | None = None,
    full: bool,
    months: Where | None = None,
    part: str = "all",
) -> None:
    """Replace the values of the scope of `job` (already written), in the caller's
    transaction: all of them, or those of one part of an update (PARTS). The additive
    families read the records of `months` (default `where`) and the stored rows of the
    other months of the scope's years; the others read `where`."""
    months = months or where
    whole_years = full and since is None
    steps: list[tuple[str, str, Callable[[], None]]] = [
        ("delete", "", lambda: _delete(job, area_ids, since, full, part)),
        ("effort, counts and rates", MAIN, lambda: _activity(job, months, whole_years)),
        ("resource use", MAIN, lambda: resource_use.resource_use(job, months)),
        ("quarters and years", MAIN, lambda: sql.roll_up(job, _additive(whole_years))),
        ("cut tracks", MAIN, lambda: coverage.cut_tracks(job, months)),
        ("cells", MAIN, lambda: coverage.cells(job, months)),
        ("biodiversity", MAIN, lambda: _biodiversity(job, where)),
        ("mett", BESIDE, lambda: _mett(job)),
        ("finance", MAIN, lambda: _finance(job)),
        ("coverage", BESIDE, lambda: coverage.area_coverage(job, months)),
        ("cell coverage", MAIN, lambda: coverage.cell_coverage(job)),
        ("accumulation", BESIDE, lambda: accumulation.accumulation(job, where)),
        ("mett evidence", MAIN, lambda: evidence.mett_suggested(job)),
    ]
    ensure_poisson_bounds()
    _tune(update=not full)
    for name, belongs, step in steps:
        if part != "all" and belongs not in ("", part):
            continue
        started = time.perf_counter()
        step()
        with _timings_lock:
            TIMINGS[name] = TIMINGS.get(name, 0.0) + time.perf_counter() - started


_timings_lock = threading.Lock()


def _tune(update: bool) -> None:
    """Settings of this transaction only (PostgreSQL), in one round trip: enough memory for
    the sorts and hash aggregates of a whole scope to stay off disk; no JIT compilation,
    which costs more than it saves on statements of a few hundred milliseconds; and for an
    update, no merge joins: it reads one area's year, each table by the key of what it
    needs, where a merge join on the area alone would read every period the area has."""
    if connection.vendor == "postgresql":
        merge = "off" if update else "on"
        sql.execute(
            "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true),"
            " set_config('enable_mergejoin', %s, true)",
            [WORK_MEM, merge],
        )


# work_mem of a computation (per sort or hash, per worker).
WORK_MEM = "256MB"


def compute_full(area_ids: list[int] | None = None, since: date | None = None) -> None:
    """Recompute every period with data of the given areas (all: None) from `since`, in one
    transaction per call (callers partition by area: compute_indicators, the nightly task)."""
    job = new_job()
    # The scope is written and committed first, and its statistics gathered: the planner
    # must know that a scope has hundreds of periods, not the handful it had when the
    # table was last analysed (or nested loops rescan a whole family per period). ANALYZE
    # holds its lock only for the moment it runs, not for the computation.
    with transaction.atomic():
        scope_months_with_data(job, area_ids, since)
    _analyze_scope()
    try:
        with transaction.atomic():
            _lock_areas(area_ids)
            # Computed aside and merged: every period of the areas is in scope.
            staged = _stage() if since is None and connection.vendor == "postgresql" else None
            # A quarter or year that `since` falls in is recomputed whole: read from its year.
            first = date(since.year, 1, 1) if since else None
            compute_scope(job, Where(area_ids, first), area_ids=area_ids, since=since, full=True)
            if staged:
                started = time.perf_counter()
                _merge(staged, area_ids)
                TIMINGS["merge"] = TIMINGS.get("merge", 0.0) + time.perf_counter() - started
    finally:
        clear_scope(job)


# The tables a full computation stages (_stage), with the columns it writes and their keys.
_STAGED = (
    (IV, COLUMNS, "area_id, period_kind, period_start, zone_id, cell_id, indicator, subject"),
    (sql.CELLS, sql.CELL_COLUMNS, "area_id, period_kind, period_start, cell_id"),
)


def _stage() -> str:
    """Have this transaction's statements write and read the values and grid-cell figures
    in temporary tables of the same names (PostgreSQL looks a table's name up among the
    session's temporary tables first), so that _merge rewrites only the rows whose values
    changed. Deleting every value and inserting it again would make each insert check its
    key against the deleted row of the same key (a unique index keeps it until vacuumed):
    a nightly run changes few values, and wrote all of them twice over. Returns the
    schema of the tables themselves."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = str(cursor.fetchone()[0])
    for table, columns, _ in _STAGED:
        sql.execute(
            f"CREATE TEMPORARY TABLE {table} ON COMMIT DROP"
            f" AS SELECT {columns} FROM {schema}.{table} WITH NO DATA"
        )
    return schema


def _merge(schema: str, area_ids: list[int] | None) -> None:
    """The staged rows into their tables, in one pass over both (a hash full join on the
    key): rows of the areas no longer computed, or whose values changed, deleted; new and
    changed ones inserted; the others left as they are."""
    for table, columns, key in _STAGED:
        keys = key.split(", ")
        values = [c for c in columns.split(", ") if c not in keys]
        areas, params = Where(area_ids).sql("area_id", "period_start")
        old, new = (", ".join(f"{alias}.{c}" for c in values) for alias in ("v", "t"))
        sql.execute(
            f"""CREATE TEMPORARY TABLE fieldkit_changed ON COMMIT DROP AS
                SELECT v.id AS old_id, {", ".join(f"t.{c}" for c in columns.split(", "))}
                FROM pg_temp.{table} t
                FULL JOIN (SELECT * FROM {schema}.{table} WHERE {areas}) v
                    ON {" AND ".join(f"t.{k} = v.{k}" for k in keys)}
                WHERE v.id IS NULL OR t.area_id IS NULL
                    OR ({old}) IS DISTINCT FROM ({new})""",
            params,
        )
        deleted = sql.execute(
            f"""DELETE FROM {schema}.{table} WHERE id IN
                (SELECT old_id FROM fieldkit_changed WHERE old_id IS NOT NULL)"""
        )
        inserted = sql.execute(
            f"""INSERT INTO {schema}.{table} ({columns})
                SELECT {columns} FROM fieldkit_changed WHERE area_id IS NOT NULL ORDER BY {key}"""
        )
        for name, rows in (("deleted", deleted), ("inserted", inserted)):
            WRITTEN[f"{table} {name}"] = WRITTEN.get(f"{table} {name}", 0) + rows
        sql.execute(f"DROP TABLE pg_temp.fieldkit_changed, pg_temp.{table}")


def _analyze_scope() -> None:
    if connection.vendor == "postgresql":
        sql.execute(f"ANALYZE {SCOPE}")


def compute_areas(area_ids: list[int], since: date | None = None, workers: int = 1) -> None:
    """Recompute the given areas, shared among `workers` processes (forked, each with a
    connection of its own), each computing its share in one transaction: statements over
    many areas read each table once (hash joins), where one area at a time would read the
    same pages once per area. TIMINGS gets the steps' times summed over the workers."""
    ensure_poisson_bounds()
    shares = [sorted(area_ids[i::workers]) for i in range(max(1, workers))]
    shares = [share for share in shares if share]
    if len(shares) <= 1:
        for share in shares:
            compute_full(share, since)
        return
    # A forked child must not use its parent's connection: close it, each opens its own.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(len(shares)) as pool:
        for timings, written in pool.imap_unordered(_compute_in_child, [(share, since) for share in shares]):
            for name, seconds in timings.items():
                TIMINGS[name] = TIMINGS.get(name, 0.0) + seconds
            for name, rows in written.items():
                WRITTEN[name] = WRITTEN.get(name, 0) + rows


def _compute_in_child(args: tuple[list[int], date | None]) -> tuple[dict[str, float], dict[str, int]]:
    before, written = dict(TIMINGS), dict(WRITTEN)
    compute_full(*args)
    return (
        {name: seconds - before.get(name, 0.0) for name, seconds in TIMINGS.items()},
        {name: rows - written.get(name, 0) for name, rows in WRITTEN.items()},
    )


def compute_months(keys: Iterable[tuple[int, date]]) -> None:
    """Recompute the given (area, month) keys, and the quarters and years containing them.

    On PostgreSQL, outside a transaction, with INDICATORS_UPDATE_CONNECTIONS = 2: the two
    parts of the update (MAIN, BESIDE) at once, the BESIDE part on a thread with a
    connection of its own (kept from one update to the next), each part in a transaction
    of its own. Either part failing fails the update: its keys stay dirty, and the next
    update computes both parts again. Otherwise both parts in one transaction."""
    keys = set(keys)
    if not keys:
        return
    if not _beside_thread_usable():
        _compute_months_part(keys, "all")
        return
    beside = _beside_executor().submit(_compute_months_beside, keys)
    try:
        _compute_months_part(keys, MAIN)
    except BaseException:
        beside.exception()  # wait for it: its transaction ends before this one is reported
        raise
    beside.result()


def _compute_months_part(keys: set[tuple[int, date]], part: str) -> None:
    job = new_job()
    with transaction.atomic():
        _lock_areas(sorted({area_id for area_id, _ in keys}), part)
        scope_months(job, keys)
        areas, first, last = sorted({a for a, _ in keys}), min(m for _, m in keys), max(m for _, m in keys)
        where = Where(areas, date(first.year, 1, 1), date(last.year, 12, 31))
        compute_scope(job, where, full=False, months=Where(areas, first, _month_end(last)), part=part)
        clear_scope(job)


def _beside_thread_usable() -> bool:
    return (
        settings.INDICATORS_UPDATE_CONNECTIONS > 1
        and connection.vendor == "postgresql"
        # Inside a transaction (a test case's, a caller's), another connection would not see
        # its uncommitted records.
        and not connection.in_atomic_block
    )


def _compute_months_beside(keys: set[tuple[int, date]]) -> None:
    # The thread's own connection, opened on its first update and kept while it is usable.
    connection.close_if_unusable_or_obsolete()
    _compute_months_part(keys, BESIDE)


_beside: tuple[int, ThreadPoolExecutor] | None = None


def _beside_executor() -> ThreadPoolExecutor:
    """The thread computing BESIDE parts, one per process (a forked worker starts its own)."""
    global _beside
    if _beside is None or _beside[0] != os.getpid():
        _beside = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="fieldkit-indicators-beside"))
    return _beside[1]


def close_beside_connection() -> None:
    """Close the BESIDE thread's connection (a test's database is dropped after it)."""
    if _beside is not None and _beside[0] == os.getpid():
        done: Future[None] = _beside[1].submit(_close_connection)
        done.result()


def _close_connection() -> None:
    connection.close()  # the calling thread's own


# Advisory lock namespaces of indicator computations (pg_advisory_xact_lock(namespace,
# area)): one per part of an update; a whole computation takes both.
_LOCK_NAMESPACES = {MAIN: 7411, BESIDE: 7412}


def _lock_areas(area_ids: list[int] | None, part: str = "all") -> None:
    """Serialise computations of the same area: two replacing the same year at once would
    both delete, then both insert. SQLite has a single writer already."""
    if connection.vendor != "postgresql":
        return
    if area_ids is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM protected_areas_protectedarea")
            area_ids = [row[0] for row in cursor.fetchall()]
    namespaces = sorted(_LOCK_NAMESPACES.values()) if part == "all" else [_LOCK_NAMESPACES[part]]
    with connection.cursor() as cursor:
        # One round trip, in a fixed order: no two computations wait on each other in a ring.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(n, a) FROM unnest(%s::integer[]) AS n,"
            " unnest(%s::integer[]) AS a ORDER BY n, a",
            [namespaces, sorted(area_ids)],
        )


# --- The grid -----------------------------------------------------------------------------------------


def cell_size_m(area_km2: float) -> int:
    return LARGE_CELL_M if area_km2 > LARGE_AREA_KM2 else CELL_M
