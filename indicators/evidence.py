"""Suggested METT scores from field data: evidence beside the assessors' scores, never in
place of them (indicators.compute's style: one INSERT … SELECT over the years in scope).

Where the METT's answer texts can be read off recorded figures, mett.suggested holds, per
area and year (the Y row), subject the question ("q03", …), `value` the score 0–3 the
figures point to, `numerator` and `denominator` the evidence, `effort` the km patrolled.
The assessors' own scores stay in observations.METTScore and in mett.percent; nothing
here writes to them. `rationale` puts a row into words (the API serves it).

Question numbers and answer texts: METT-3 (WWF/World Bank 2007; domain.md §3); which
questions field data speaks to: domain.md §7 (11: Q3, Q10, Q26 from patrol indicators,
Q15–17 from the finance vertical), with Q13 from the staff figures of the budget return.

Thresholds. Q15 follows its answer texts with the UNDP Financial Sustainability
Scorecard's needs (domain.md §3): no income → 0 ("no budget"); below the basic need → 1
("inadequate for basic management needs"); at least the basic need → 2 ("acceptable but
could be improved"); at least the optimal need → 3 ("sufficient and meets the full
management needs"). Q26 follows its answer texts: patrol data in fewer than
MONITORED_MONTHS months of the year → 1 ("some ad hoc monitoring … no regular
collection"), in at least that many → 2 ("an agreed and implemented system"); 3 needs
results used in management, which records cannot show, so it is never suggested. The cuts
of Q3, Q10, Q13 and Q16 (THRESHOLDS) are fieldkit's provisional readings of the answer
texts — no published figure is cited for them in domain.md — to be set to an agency's own
norms; the evidence figures are stored whatever the cuts.
"""

from __future__ import annotations

from indicators import sql

# Months of a year with patrol effort that make monitoring "regular" (Q26).
MONITORED_MONTHS = 9

# Provisional cuts: a figure below the first gives 0, below the second 1, below the third
# 2, else 3. Q3: patrol person-days per 100 km² in the year; Q10: share (0–1) of the grid
# cells patrolled in the year (coverage.cells); Q13: staff per 100 km²; Q16: share (0–1)
# of income from secure sources (government allocation and own revenue).
THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "q03": (1e-9, 50.0, 200.0),
    "q10": (0.10, 0.40, 0.70),
    "q13": (1e-9, 0.5, 1.0),
    "q16": (0.25, 0.50, 0.90),
}

QUESTIONS = {
    "q03": "Law enforcement",
    "q10": "Protection systems",
    "q13": "Staff numbers",
    "q15": "Current budget",
    "q16": "Security of budget",
    "q26": "Monitoring and evaluation",
}

# Income lines that are a secure core (observations.vocabulary.BUDGET_INCOME).
SECURE_INCOME = ("government", "own_revenue")


def _score(figure: str, question: str) -> str:
    a, b, c = THRESHOLDS[question]
    return (
        f"CASE WHEN {figure} IS NULL THEN NULL WHEN {figure} < {a} THEN 0 WHEN {figure} < {b} THEN 1"
        f" WHEN {figure} < {c} THEN 2 ELSE 3 END"
    )


def mett_suggested(job: int) -> None:
    """Suggested scores for Q3, Q10, Q13, Q15, Q16 and Q26 per area-year in scope, from this
    computation's effort and coverage rows and from the year's budget return."""
    d = sql.dialect()
    n = sql.N
    iv, scope = sql.IV, sql.SCOPE
    ys = d.year_start("b.fiscal_year")
    secure = ", ".join(f"'{c}'" for c in SECURE_INCOME)
    secured = f"CASE WHEN l.kind = 'income' AND l.category IN ({secure}) THEN l.actual END"
    per100 = "CASE WHEN km2 > 0 THEN 100.0 * {} / km2 END"
    sql.execute(
        f"""
        INSERT INTO {iv} ({sql.COLUMNS})
        WITH years AS (
            SELECT s.area_id, s.period_start, s.period_end, pa.area_km2 AS km2
            FROM {scope} s JOIN protected_areas_protectedarea pa ON pa.id = s.area_id
            WHERE s.job = %s AND s.period_kind = 'Y'
        ),
        yearly AS (
            SELECT y.area_id, y.period_start, y.km2,
                MAX(CASE WHEN v.indicator = 'effort.km' THEN v.value END) AS km,
                MAX(CASE WHEN v.indicator = 'effort.person_days' THEN v.value END) AS pd,
                MAX(CASE WHEN v.indicator = 'coverage.cells' THEN v.numerator END) AS patrolled,
                MAX(CASE WHEN v.indicator = 'coverage.cells' THEN v.denominator END) AS cells
            FROM years y JOIN {iv} v ON v.area_id = y.area_id AND v.period_kind = 'Y'
                AND v.period_start = y.period_start AND v.zone_id = 0 AND v.cell_id = 0 AND v.subject = ''
                AND v.indicator IN ('effort.km', 'effort.person_days', 'coverage.cells')
            GROUP BY y.area_id, y.period_start, y.km2
        ),
        months AS (
            SELECT y.area_id, y.period_start, COUNT(*) AS months
            FROM years y JOIN {iv} v ON v.area_id = y.area_id AND v.period_kind = 'M'
                AND v.period_start >= y.period_start AND v.period_start <= y.period_end
                AND v.zone_id = 0 AND v.cell_id = 0 AND v.subject = '' AND v.indicator = 'effort.km'
                AND v.value > 0
            GROUP BY y.area_id, y.period_start
        ),
        budget AS (
            SELECT y.area_id, y.period_start, y.km2,
                CAST(MAX(b.staff_count) AS double precision) AS staff,
                CAST(MAX(b.need_basic) AS double precision) AS basic,
                CAST(MAX(b.need_optimal) AS double precision) AS optimal,
                {sql.exact_sum("CASE WHEN l.kind = 'income' THEN l.actual END", sql.CENTS)} AS income,
                {sql.exact_sum(secured, sql.CENTS)} AS secure
            FROM years y
            JOIN observations_budgetreturn b ON b.area_id = y.area_id AND {ys} = y.period_start
            LEFT JOIN observations_budgetline l ON l.budget_id = b.id
            GROUP BY y.area_id, y.period_start, y.km2
        )
        SELECT area_id, 0, 0, 'Y', period_start, 'mett.suggested', 'q03',
            {_score(per100.format("COALESCE(pd, 0)"), "q03")}, COALESCE(pd, 0), km2, {n}, {n}, km
            FROM yearly WHERE km IS NOT NULL
        UNION ALL
        SELECT area_id, 0, 0, 'Y', period_start, 'mett.suggested', 'q10',
            {_score("patrolled / cells", "q10")}, patrolled, cells, {n}, {n}, km
            FROM yearly WHERE km IS NOT NULL AND cells > 0
        UNION ALL
        SELECT y.area_id, 0, 0, 'Y', y.period_start, 'mett.suggested', 'q26',
            CASE WHEN m.months >= {MONITORED_MONTHS} THEN 2 ELSE 1 END, m.months, 12, {n}, {n}, y.km
            FROM yearly y JOIN months m ON m.area_id = y.area_id AND m.period_start = y.period_start
        UNION ALL
        SELECT area_id, 0, 0, 'Y', period_start, 'mett.suggested', 'q13',
            {_score(per100.format("staff"), "q13")}, staff, km2, {n}, {n}, {n}
            FROM budget WHERE staff IS NOT NULL
        UNION ALL
        SELECT area_id, 0, 0, 'Y', period_start, 'mett.suggested', 'q15',
            CASE WHEN COALESCE(income, 0) <= 0 THEN 0 WHEN income < basic THEN 1
                 WHEN optimal IS NOT NULL AND income >= optimal THEN 3 ELSE 2 END,
            COALESCE(income, 0), basic, {n}, optimal, {n}
            FROM budget WHERE basic IS NOT NULL AND basic > 0
        UNION ALL
        SELECT area_id, 0, 0, 'Y', period_start, 'mett.suggested', 'q16',
            {_score("COALESCE(secure, 0) / income", "q16")}, COALESCE(secure, 0), income, {n}, {n}, {n}
            FROM budget WHERE income > 0
        """,
        [job],
    )


def _number(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:.2f}"


def rationale(
    question: str,
    score: float | None,
    numerator: float | None,
    denominator: float | None,
    upper: float | None,
    effort: float | None,
) -> str:
    """A mett.suggested row in words: the evidence, the rule and the suggested score."""
    title = QUESTIONS.get(question, question)
    suggested = "no suggestion" if score is None else f"suggested score {score:.0f}"
    lead = f"Evidence for {question.upper()} ({title}), not the assessors' score: "
    num, den = _number(numerator), _number(denominator)
    if question == "q15":
        optimal = f", optimal need {_number(upper)}" if upper is not None else ""
        body = f"income {num} against a basic need of {den}{optimal} (budget return)"
    elif question == "q16":
        share = (numerator or 0) / denominator if denominator else None
        body = f"{num} of {den} income from government and own revenue ({_number(share and share * 100)} %)"
    elif question == "q13":
        body = f"{num} staff for {den} km² (budget return)"
    elif question == "q03":
        body = f"{num} patrol person-days in {den} km² and {_number(effort)} km patrolled in the year"
    elif question == "q10":
        body = f"{num} of {den} grid cells patrolled in the year ({_number(effort)} km)"
    elif question == "q26":
        body = f"patrol data in {num} of 12 months"
    else:
        body = f"{num} / {den}"
    cuts = THRESHOLDS.get(question)
    rule = f"; provisional cuts {', '.join(_number(c) for c in cuts)}" if cuts else ""
    return f"{lead}{body}; {suggested}{rule}."
