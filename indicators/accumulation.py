"""Species accumulation over leg-days, per area and year, computed in the database
(indicators.compute's style: one INSERT … SELECT over every area-year in scope).

bio.accumulation, one row per sample: subject the sample's index t, zero-padded ("00001",
"00002", …, so that the curve sorts as text), `value` the expected richness after t
samples (sample-based rarefaction, Mao Tau: formulas.expected_accumulation),
`numerator` the observed richness after the first t leg-days in time order
(formulas.accumulation_curve), `denominator` the year's number of samples T.

Samples are the area's leg-days with effort in the year (a TrackSegment of the area), in
order of day; a leg-day's species are its occurrence records placed in the area (domain.md
§6: sample-based accumulation with patrol-days as samples). A dashboard draws `value`
against t (order-free) and may draw `numerator` beside it.
"""

from __future__ import annotations

from indicators import sql

PAD = 5
# Up to this many areas, a computation follows each leg-day's records by index.
FEW_AREAS = 4


def _padded(expr: str) -> str:
    if sql.dialect().postgres:
        return f"lpad(CAST({expr} AS text), {PAD}, '0')"
    # Percent signs doubled: the statement goes through the DB-API's %-formatting.
    return f"printf('%%0{PAD}d', {expr})"


def accumulation(job: int, where: sql.Where) -> None:
    """Observed and expected (Mao Tau) species accumulation curves per area-year in scope.

    Mao Tau (Colwell, Mao & Chang 2004, Ecology 85: 2717–2727; combinatorial form of
    Colwell et al. 2012, J. Plant Ecol. 5: 3–21):

        S(t) = Σₖ Qₖ · [1 − C(T − k, t) / C(T, t)],

    Qₖ the number of species found in exactly k of the T samples. The ratio of binomials is
    the running product Πⱼ₌₁ᵗ (T − k − j + 1) / (T − j + 1), taken in SQL as the exponent
    of a running sum of logarithms (a window over the sample index), and 0 from the first
    factor that is 0 on — the same factors formulas.expected_accumulation multiplies.
    """
    d = sql.dialect()
    n = sql.N
    ts_where, ts_params = where.sql("ts.area_id", "ts.day")
    op_where, op_params = where.sql("op.area_id", "op.day")
    few = where.area_ids is not None and len(where.area_ids) <= FEW_AREAS
    materialized = "NOT MATERIALIZED" if few else "MATERIALIZED"
    year = d.year(d.month("ld.day"))
    sql.execute(
        f"""
        INSERT INTO {sql.IV} ({sql.COLUMNS})
        WITH ld AS (
            SELECT ts.area_id, ts.leg_day_id, ts.day
            FROM observations_tracksegment ts
            WHERE {ts_where} AND ts.zone_id IS NULL
        ),
        sm AS (
            SELECT ld.area_id, s.period_start, ld.leg_day_id,
                ROW_NUMBER() OVER (y ORDER BY ld.day, ld.leg_day_id) AS i, COUNT(*) OVER y AS t
            FROM ld
            JOIN {sql.SCOPE} s ON s.job = %s AND s.area_id = ld.area_id AND s.period_kind = 'Y'
                AND s.period_start = {year}
            WINDOW y AS (PARTITION BY ld.area_id, s.period_start)
        ),
        occurrences AS {materialized} (
            -- Many areas: read once for the whole scope (hash joins), then matched to the
            -- samples; a few (an update): followed from each leg-day by index.
            SELECT op.area_id, o.leg_day_id, sp.taxon_id
            FROM observations_observationplace op
            JOIN observations_observation o ON o.id = op.observation_id
            JOIN observations_speciesobservation sp ON sp.observation_id = o.id
            WHERE {op_where} AND op.zone_id IS NULL AND o.leg_day_id IS NOT NULL
                AND sp.is_occurrence AND sp.taxon_id IS NOT NULL
        ),
        incidence AS (
            SELECT DISTINCT sm.area_id, sm.period_start, sm.i, sm.t, oc.taxon_id
            FROM sm JOIN occurrences oc ON oc.leg_day_id = sm.leg_day_id AND oc.area_id = sm.area_id
        ),
        species AS (
            SELECT area_id, period_start, taxon_id, MIN(i) AS first_i, COUNT(*) AS k, MAX(t) AS t
            FROM incidence GROUP BY area_id, period_start, taxon_id
        ),
        observed AS (
            SELECT sm.area_id, sm.period_start, sm.i, sm.t, COUNT(sp.taxon_id) AS s_obs
            FROM sm LEFT JOIN species sp ON sp.area_id = sm.area_id AND sp.period_start = sm.period_start
                AND sp.first_i <= sm.i
            GROUP BY sm.area_id, sm.period_start, sm.i, sm.t
        ),
        q AS (
            SELECT area_id, period_start, k, t, COUNT(*) AS q
            FROM species GROUP BY area_id, period_start, k, t
        ),
        factors AS (
            SELECT q.area_id, q.period_start, q.k, q.q, sm.i,
                CASE WHEN q.t - q.k - sm.i + 1 > 0
                    THEN ln(CAST(q.t - q.k - sm.i + 1 AS double precision) / (q.t - sm.i + 1))
                    ELSE 0 END AS lnf,
                CASE WHEN q.t - q.k - sm.i + 1 > 0 THEN 0 ELSE 1 END AS zero
            FROM q JOIN sm ON sm.area_id = q.area_id AND sm.period_start = q.period_start
        ),
        running AS (
            SELECT area_id, period_start, k, q, i,
                SUM(lnf) OVER w AS lnm, SUM(zero) OVER w AS zeros
            FROM factors
            WINDOW w AS (PARTITION BY area_id, period_start, k ORDER BY i ROWS UNBOUNDED PRECEDING)
        ),
        expected AS (
            SELECT area_id, period_start, i,
                SUM(q * (1 - CASE WHEN zeros > 0 THEN 0 ELSE exp(lnm) END)) AS s_exp
            FROM running GROUP BY area_id, period_start, i
        )
        SELECT o.area_id, 0, 0, 'Y', o.period_start, 'bio.accumulation', {_padded("o.i")},
            COALESCE(e.s_exp, 0), o.s_obs, o.t, {n}, {n}, {n}
        FROM observed o
        LEFT JOIN expected e ON e.area_id = o.area_id AND e.period_start = o.period_start AND e.i = o.i
        """,
        [*ts_params, job, *op_params],
    )
