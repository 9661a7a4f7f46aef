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
    year = d.year(d.month("ld.day"))
    if where.area_ids is not None and len(where.area_ids) <= sql.FEW_AREAS:
        # A few areas (an update): each leg-day's records followed by index, then their
        # species and their place in the area, each by key.
        found = """JOIN observations_observation o ON o.leg_day_id = sm.leg_day_id
            JOIN observations_speciesobservation sp ON sp.observation_id = o.id
            JOIN observations_observationplace op ON op.observation_id = o.id
                AND op.area_id = sm.area_id AND op.zone_id IS NULL"""
        area_params: list[object] = []
    else:
        # Many areas: their occurrences read once (hash joins), then matched to the samples.
        areas, area_params = sql.Where(where.area_ids).sql("op.area_id", "op.day")
        found = f"""JOIN (
                SELECT op.area_id, o.leg_day_id, sp.taxon_id, sp.is_occurrence
                FROM observations_observationplace op
                JOIN observations_observation o ON o.id = op.observation_id
                JOIN observations_speciesobservation sp ON sp.observation_id = o.id
                WHERE {areas} AND op.zone_id IS NULL AND o.leg_day_id IS NOT NULL
            ) sp ON sp.leg_day_id = sm.leg_day_id AND sp.area_id = sm.area_id"""
    with sql.hash_joins(where):
        sql.execute(
            f"""
            INSERT INTO {sql.IV} ({sql.COLUMNS})
            WITH ld AS (
                SELECT ts.area_id, ts.leg_day_id, ts.day
                FROM observations_tracksegment ts
                WHERE {ts_where} AND ts.zone_id IS NULL
            ),
            sm AS MATERIALIZED (
                SELECT ld.area_id, s.period_start, ld.leg_day_id,
                    ROW_NUMBER() OVER (y ORDER BY ld.day, ld.leg_day_id) AS i, COUNT(*) OVER y AS t
                FROM ld
                JOIN {sql.SCOPE} s ON s.job = %s AND s.area_id = ld.area_id AND s.period_kind = 'Y'
                    AND s.period_start = {year}
                WINDOW y AS (PARTITION BY ld.area_id, s.period_start)
            ),
            incidence AS (
                -- A leg-day's species: its occurrence records placed in the area, whatever their day.
                SELECT DISTINCT sm.area_id, sm.period_start, sm.i, sm.t, sp.taxon_id
                FROM sm {found}
                WHERE sp.is_occurrence AND sp.taxon_id IS NOT NULL
            ),
            species AS (
                SELECT area_id, period_start, taxon_id, MIN(i) AS first_i, COUNT(*) AS k, MAX(t) AS t
                FROM incidence GROUP BY area_id, period_start, taxon_id
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
            ),
            samples AS (
                -- Each sample with its count, the species first seen on it and the expected
                -- richness after it, gathered by key (sums with nothing else: no join).
                SELECT area_id, period_start, i, MAX(t) AS t, SUM(new) AS new, SUM(s_exp) AS s_exp
                FROM (
                    SELECT area_id, period_start, i, t, 0 AS new, {n} AS s_exp FROM sm
                    UNION ALL
                    SELECT area_id, period_start, first_i, 0, 1, {n} FROM species
                    UNION ALL
                    SELECT area_id, period_start, i, 0, 0, s_exp FROM expected
                ) x
                GROUP BY area_id, period_start, i
            )
            -- The observed richness after the i-th leg-day: a running count of the species first
            -- seen on each.
            SELECT area_id, 0, 0, 'Y', period_start, 'bio.accumulation', {_padded("i")},
                COALESCE(s_exp, 0),
                SUM(new) OVER (PARTITION BY area_id, period_start ORDER BY i ROWS UNBOUNDED PRECEDING),
                t, {n}, {n}, {n}
            FROM samples
            """,
            [*ts_params, job, *area_params],
        )
