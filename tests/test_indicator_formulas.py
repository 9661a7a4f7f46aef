"""indicators.formulas: each formula on small fixtures computed by hand (the working is in
the comments), and the edge cases the conventions promise: no effort is no data, a zero
count has an upper bound, N/A questions count nowhere, currencies are never mixed."""

import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from scipy.stats import chi2

from indicators.formulas import (
    METT3_ELEMENTS,
    Change,
    CurrencyMismatch,
    EffortUnit,
    METTResult,
    Money,
    Numerator,
    accumulation_curve,
    apportion,
    area_coverage,
    category_shares,
    cell_coverage,
    chao1,
    encounter_rate,
    expected_accumulation,
    funding_gap,
    iucn_counts,
    mett_by_element,
    mett_change,
    mett_score,
    money_sum,
    observed_richness,
    per_km2,
    per_km_patrolled,
    per_patrol_day,
    period_change,
    period_changes,
    pielou,
    poisson_interval,
    records_by_iucn,
    shannon,
    species_by_iucn,
    summed_count_rate,
    threatened_percent,
)

ROOT = Path(__file__).resolve().parent.parent


def pgk(amount: str) -> Money:
    return Money(Decimal(amount), "PGK")


def test_formulas_import_without_django():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys, indicators.formulas\n"
        "loaded = [m for m in sys.modules if m == 'django' or m.startswith('django.')]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- Encounter rates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "lower", "upper"),
    [
        # Garwood (1936) 95 % limits, as tabulated in every Poisson table:
        (0, 0.0, 3.689),  # upper = −ln(0.025) = 3.6889
        (1, 0.0253, 5.572),
        (5, 1.623, 11.668),  # χ²(0.025; 10)/2 = 3.247/2, χ²(0.975; 12)/2 = 23.337/2
        (10, 4.795, 18.390),
    ],
)
def test_poisson_interval_matches_garwood_values(count, lower, upper):
    low, high = poisson_interval(count)
    assert low == pytest.approx(lower, abs=5e-4)
    assert high == pytest.approx(upper, abs=5e-4)


def test_poisson_interval_is_the_chi_square_form():
    for confidence in (0.8, 0.9, 0.95, 0.99):
        alpha = 1 - confidence
        for k in range(300):
            lower = chi2.ppf(alpha / 2, 2 * k) / 2 if k else 0.0
            upper = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
            assert poisson_interval(k, confidence) == pytest.approx((lower, upper), rel=1e-10)


def test_encounter_rate_per_10_km_carries_its_effort():
    # 5 snare records on 20 km: 5 / 20 × 10 = 2.5 per 10 km;
    # interval [1.6235, 11.6683] / 20 × 10 = [0.8117, 5.8342].
    rate = encounter_rate(5, 20, EffortUnit.KM)
    assert rate is not None
    assert rate.value == pytest.approx(2.5)
    assert rate.lower == pytest.approx(0.81174, abs=1e-5)
    assert rate.upper == pytest.approx(5.83417, abs=1e-5)
    assert (rate.numerator, rate.numerator_kind, rate.effort, rate.unit, rate.per) == (
        5,
        Numerator.RECORDS,
        20.0,
        EffortUnit.KM,
        10.0,
    )
    assert rate.confidence == 0.95


def test_encounter_rate_per_100_person_days_and_field_hours():
    # 3 records in 12 person-days: 3 / 12 × 100 = 25 per 100 person-days.
    by_days = encounter_rate(3, Decimal("12"), "person_days")
    assert by_days is not None and by_days.value == pytest.approx(25.0) and by_days.per == 100
    # 3 records in 40 field hours: 3 / 40 × 100 = 7.5 per 100 h; a chosen scale: per 1 h = 0.075.
    by_hours = encounter_rate(3, 40.0, EffortUnit.FIELD_HOURS)
    per_hour = encounter_rate(3, 40.0, EffortUnit.FIELD_HOURS, per=1)
    assert by_hours is not None and by_hours.value == pytest.approx(7.5)
    assert per_hour is not None and per_hour.value == pytest.approx(0.075)


@pytest.mark.parametrize("effort", [None, 0, 0.0, Decimal("0")])
@pytest.mark.parametrize("count", [0, 4])
def test_no_effort_is_no_data_not_zero(effort, count):
    assert encounter_rate(count, effort, EffortUnit.KM) is None
    assert summed_count_rate(count, effort, EffortUnit.PERSON_DAYS) is None


def test_zero_count_with_effort_is_zero_with_an_upper_bound():
    # No snares on 40 km: rate 0, lower 0, upper 3.6889 / 40 × 10 = 0.9222 per 10 km.
    rate = encounter_rate(0, 40, EffortUnit.KM)
    assert rate is not None
    assert (rate.value, rate.lower) == (0.0, 0.0)
    assert rate.upper == pytest.approx(0.92222, abs=1e-5)
    assert math.isfinite(rate.upper)


def test_summed_count_rate_uses_the_summed_count():
    # 12 individuals in 8 field hours: 12 / 8 × 100 = 150 per 100 h;
    # Garwood for k = 12: [6.2006, 20.9617] × 100 / 8 = [77.51, 262.02].
    rate = summed_count_rate(12, 8, EffortUnit.FIELD_HOURS)
    assert rate is not None
    assert rate.numerator_kind is Numerator.INDIVIDUALS
    assert rate.value == pytest.approx(150.0)
    assert rate.lower == pytest.approx(77.51, abs=0.01)
    assert rate.upper == pytest.approx(262.02, abs=0.01)


@pytest.mark.parametrize(
    ("count", "effort", "unit"),
    [
        (-1, 10, "km"),
        (2.5, 10, "km"),
        (True, 10, "km"),
        (2, -1, "km"),
        (2, float("nan"), "km"),
        (2, 10, "miles"),
    ],
)
def test_encounter_rate_refuses_bad_input(count, effort, unit):
    with pytest.raises(ValueError):
        encounter_rate(count, effort, unit)


def test_poisson_interval_refuses_a_confidence_outside_0_1():
    with pytest.raises(ValueError):
        poisson_interval(3, 1.0)


# --- Biodiversity ------------------------------------------------------------------------


def test_observed_richness_counts_species_seen():
    assert observed_richness([3, 0, 1, 1]) == 3
    assert observed_richness([]) == 0


def test_chao1_with_doubletons():
    # Counts 1,1,1,2,2,5: S_obs 6, F1 3, F2 2, n 12.
    # S = 6 + 3·2 / (2·3) = 7.
    # var = 3·2/(2·3) + 3·5²/(4·3²) + 3²·2·2²/(4·3⁴) = 1 + 75/36 + 72/324 = 3.305556
    result = chao1([1, 1, 1, 2, 2, 5])
    assert result is not None
    assert (result.observed, result.singletons, result.doubletons, result.individuals) == (6, 3, 2, 12)
    assert result.estimate == pytest.approx(7.0)
    assert result.variance == pytest.approx(1 + 75 / 36 + 72 / 324)


def test_chao1_without_doubletons():
    # Counts 1,1,1,5: S_obs 4, F1 3, F2 0.
    # S = 4 + 3·2 / (2·1) = 7.
    # var (F2 = 0) = 3·2/2 + 3·5²/4 − 3⁴/(4·7) = 3 + 18.75 − 2.892857 = 18.857143
    # interval: T = 3, C = exp(1.959964 · √ln(1 + 18.857143/9)) = 8.03131
    #   → [4 + 3/8.03131, 4 + 3·8.03131] = [4.3735, 28.0939]
    result = chao1([1, 1, 1, 5])
    assert result is not None
    assert result.estimate == pytest.approx(7.0)
    assert result.variance == pytest.approx(3 + 18.75 - 81 / 28)
    assert result.lower == pytest.approx(4.3735, abs=1e-4)
    assert result.upper == pytest.approx(28.0939, abs=1e-4)


def test_chao1_small_sample_correction():
    # Counts 1,1,1,5 with K = (n − 1)/n = 7/8:
    # S = 4 + 7/8 · 3 = 6.625
    # var = 7/8·3 + (7/8)²·18.75 − (7/8)²·81/(4·6.625) = 2.625 + 14.355469 − 2.340212 = 14.640257
    result = chao1([1, 1, 1, 5], small_sample_correction=True)
    assert result is not None
    assert result.estimate == pytest.approx(6.625)
    assert result.variance == pytest.approx(2.625 + 0.765625 * 18.75 - 0.765625 * 81 / 26.5)


def test_chao1_without_singletons_is_the_observed_richness():
    # Counts 3,4,5: nothing unseen, S = 3; variance of S_obs:
    # (e⁻³ − e⁻⁶) + (e⁻⁴ − e⁻⁸) + (e⁻⁵ − e⁻¹⁰) − (3e⁻³ + 4e⁻⁴ + 5e⁻⁵)²/12
    # = 0.071980 − 0.256314²/12 = 0.066506
    result = chao1([3, 4, 5])
    assert result is not None
    assert result.estimate == 3.0
    assert result.variance == pytest.approx(0.066506, abs=1e-6)
    assert result.lower == 3.0 and result.upper > 3.0


def test_chao1_of_nothing_is_no_data():
    assert chao1([]) is None
    assert chao1([0, 0]) is None


def test_shannon_and_pielou():
    # Counts 1,1,2: p = ¼, ¼, ½; H′ = −(2·¼·ln ¼ + ½·ln ½) = ½·1.386294 + ½·0.693147 = 1.039721
    # J = 1.039721 / ln 3 = 1.039721 / 1.098612 = 0.946395
    assert shannon([1, 1, 2]) == pytest.approx(1.039721, abs=1e-6)
    assert pielou([1, 1, 2]) == pytest.approx(0.946395, abs=1e-6)
    # Two equal species: H′ = ln 2, J = 1.
    assert shannon([5, 5]) == pytest.approx(math.log(2))
    assert pielou([5, 5]) == pytest.approx(1.0)


def test_pielou_is_undefined_for_one_species_or_none():
    assert shannon([4]) == 0.0
    assert pielou([4]) is None
    assert pielou([4, 0]) is None
    assert shannon([]) is None
    assert pielou([]) is None


def test_records_and_species_by_iucn_category():
    records = ["CR", "CR", "LC", None, "vu"]
    assert records_by_iucn(records) == {
        "EX": 0, "EW": 0, "CR": 2, "EN": 0, "VU": 1, "NT": 0, "LC": 1, "DD": 0, "NE": 1,
    }  # fmt: skip
    species = {"Casuarius casuarius": "LC", "Dendrolagus matschiei": "EN", "Goura scheepmakeri": "VU"}
    assert species_by_iucn(species)["EN"] == 1
    assert sum(species_by_iucn(species).values()) == 3
    with pytest.raises(ValueError):
        iucn_counts(["XX"])


def test_threatened_percent_over_evaluated_species():
    # CR, EN, VU, LC, DD evaluated; two NE (one missing) not evaluated.
    # best  = 3 / (5 − 0 EX − 1 DD) = 75 %
    # lower = 3 / (5 − 0 EX)        = 60 %
    # upper = (3 + 1 DD) / 5        = 80 %
    counts = species_by_iucn({"a": "CR", "b": "EN", "c": "LC", "d": "DD", "e": "NE", "f": "VU", "g": None})
    result = threatened_percent(counts)
    assert result is not None
    assert (result.best, result.lower, result.upper) == (75.0, 60.0, 80.0)
    assert (result.threatened, result.data_deficient, result.evaluated) == (3, 1, 5)


def test_threatened_percent_without_evaluated_species():
    assert threatened_percent(species_by_iucn({"a": "NE", "b": None})) is None
    only_dd = threatened_percent({"DD": 2})
    assert only_dd is not None
    assert only_dd.best is None and (only_dd.lower, only_dd.upper) == (0.0, 100.0)


def test_accumulation_curves_over_leg_days():
    # Leg-days {a, b}, {a}, {c}: observed 2, 2, 3.
    # Incidence a: 2 samples, b: 1, c: 1 → Q1 = 2, Q2 = 1, T = 3.
    # S(1) = 2·(1 − C(2,1)/C(3,1)) + 1·(1 − C(1,1)/C(3,1)) = 2/3 + 2/3 = 4/3 (mean per leg-day)
    # S(2) = 2·(1 − C(2,2)/C(3,2)) + 1·(1 − 0) = 4/3 + 1 = 7/3 (mean over the 3 pairs: 2, 3, 2)
    # S(3) = 3
    leg_days = [{"a", "b"}, {"a"}, {"c"}]
    assert accumulation_curve(leg_days) == [2, 2, 3]
    assert accumulation_curve(leg_days[::-1]) == [1, 2, 3]
    assert expected_accumulation(leg_days) == pytest.approx([4 / 3, 7 / 3, 3.0])
    assert expected_accumulation(leg_days[::-1]) == pytest.approx([4 / 3, 7 / 3, 3.0])


def test_accumulation_counts_empty_leg_days():
    # {a}, {}, {a, b}: the empty leg-day is a sample. a in 2 of 3, b in 1 (T = 3):
    # S(1) = (1 − C(1,1)/C(3,1)) + (1 − C(2,1)/C(3,1)) = 2/3 + 1/3 = 1 (mean of 1, 0, 2)
    # S(2) = (1 − 0) + (1 − C(2,2)/C(3,2)) = 1 + 2/3 = 5/3 (mean of the pairs 1, 2, 2)
    # S(3) = 2
    assert accumulation_curve([{"a"}, set(), {"a", "b"}]) == [1, 1, 2]
    assert expected_accumulation([{"a"}, set(), {"a", "b"}]) == pytest.approx([1.0, 5 / 3, 2.0])
    assert expected_accumulation([]) == [] and accumulation_curve([]) == []


# --- METT ----------------------------------------------------------------------------------


def _assessment(**overrides):
    scores = {question: 2 for question in METT3_ELEMENTS}
    scores.update(overrides)
    return scores


def test_mett_score_leaves_na_questions_out_of_total_and_maximum():
    # 30 questions at 2; q27 and q30 not applicable → 28 × 2 = 56 of 28 × 3 = 84.
    # Bonus: q07a yes, q07b no, q07c unanswered (a no) → +1 of 3; q30a yes but q30 is N/A → nothing.
    # 57 / 87 = 65.517 %
    scores = _assessment(q27=None, q30=None, q07a=1, q07b=0, q07c=None, q30a=1)
    result = mett_score(scores)
    assert result == METTResult(total=57, maximum=87, applicable=28)
    assert result.percent == pytest.approx(100 * 57 / 87)
    # Without the additional points: 56 / 84 = 66.667 %
    assert mett_score(scores, include_bonus=False).percent == pytest.approx(100 * 56 / 84)


def test_mett_full_marks_are_102_with_every_bonus():
    scores = _assessment(**{question: 3 for question in METT3_ELEMENTS})
    scores.update({f"q{n:02d}{letter}": 1 for n in (7, 21, 24, 30) for letter in "abc"})
    assert mett_score(scores) == METTResult(total=102, maximum=102, applicable=30)


def test_mett_per_element_with_na_questions_and_a_dual_element_question():
    scores = {
        "q01": None,  # context, N/A
        "q02": 2,  # planning
        "q08": 3,  # planning and outputs
        "q10": 1,  # process and outcomes
        "q14": 3,  # inputs and process
        "q25": None,  # outcomes, N/A
        "q27": None,  # outputs, N/A
        "q30": 2,  # outcomes
        "q30a": 1,
        "q30b": 0,
    }
    by_element = mett_by_element(scores)
    # context:  nothing applicable → no percentage
    # planning: q02 2/3 + q08 3/3 = 5/6
    # inputs:   q14 3/3
    # process:  q10 1/3 + q14 3/3 = 4/6
    # outputs:  q08 3/3 (q27 N/A)
    # outcomes: q10 1/3 + q30 2/3 + q30a 1/1 + q30b 0/1 = 4/8 (q25 N/A)
    assert by_element == {
        "context": METTResult(0, 0, 0),
        "planning": METTResult(5, 6, 2),
        "inputs": METTResult(3, 3, 1),
        "process": METTResult(4, 6, 2),
        "outputs": METTResult(3, 3, 1),
        "outcomes": METTResult(4, 8, 2),
    }
    assert by_element["context"].percent is None
    assert by_element["planning"].percent == pytest.approx(83.333, abs=1e-3)
    assert by_element["outcomes"].percent == 50.0
    # Overall each question counts once: 2 + 3 + 1 + 3 + 2 = 11 of 15, + bonus 1 of 2 → 12 / 17.
    assert mett_score(scores) == METTResult(12, 17, 5)


def test_mett_with_nothing_applicable_has_no_percentage():
    assert mett_score({}).percent is None
    assert mett_score({"q01": None}).maximum == 0


@pytest.mark.parametrize("scores", [{"q05": 4}, {"q07": 2, "q07a": 2}, {"q31": 1}, {"q05": -1}, {"q05": 1.5}])
def test_mett_refuses_impossible_scores(scores):
    with pytest.raises(ValueError):
        mett_score(scores)


def test_mett_change_only_between_assessments_of_one_version():
    # 55 % → 66 %: +11 points, +20 % of the previous score.
    change = mett_change(55.0, 66.0, previous_version="METT-3", current_version="METT-3")
    assert change == Change(absolute=pytest.approx(11.0), percent=pytest.approx(20.0))
    assert mett_change(55.0, 66.0, previous_version="METT-3", current_version="METT-4") is None
    assert mett_change(None, 66.0, previous_version="METT-3", current_version="METT-3") is None


# --- Finance ---------------------------------------------------------------------------------


def test_money_is_decimal_in_one_currency():
    assert Money(5, "pgk") == Money(Decimal("5"), "PGK")
    with pytest.raises(TypeError):
        Money(5.5, "PGK")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(Decimal("5"), "kina")
    with pytest.raises(ValueError):
        Money(Decimal("NaN"), "PGK")


def test_budget_per_km2():
    # (150,000 + 50,000) PGK over 400 km² = 500 PGK per km².
    rate = per_km2([pgk("150000.00"), pgk("50000")], 400)
    assert rate is not None
    assert (rate.amount, rate.currency, rate.per) == (Decimal("500"), "PGK", "km2")
    assert (rate.numerator, rate.denominator) == (pgk("200000"), Decimal("400"))


def test_per_km2_refuses_two_currencies():
    with pytest.raises(CurrencyMismatch) as refused:
        per_km2([pgk("150000"), Money(Decimal("20000"), "USD")], 400)
    assert refused.value.code == "currency_mismatch"
    assert refused.value.currencies == ("PGK", "USD")
    assert isinstance(refused.value, ValueError)
    assert "PGK and USD" in str(refused.value)


def test_cost_ratios_without_a_denominator_are_no_data():
    assert per_km2([pgk("1000")], 0) is None
    assert per_km2([pgk("1000")], None) is None
    assert per_patrol_day([], 10) is None
    with pytest.raises(ValueError):
        per_km2([pgk("1000")], -5)


def test_spending_per_patrol_day_and_per_km_patrolled():
    # 12,000 PGK / 48 patrol-days = 250; / 960.0 km = 12.5.
    day = per_patrol_day(pgk("12000"), 48)
    km = per_km_patrolled(pgk("12000"), 960.0)
    assert day is not None and day.amount == Decimal("250") and day.per == "patrol_day"
    assert km is not None and km.amount == Decimal("12.5") and km.per == "km_patrolled"


def test_funding_gap_against_basic_and_optimal_needs():
    available = [pgk("150000"), pgk("50000"), pgk("100000")]  # 300,000
    # basic: 400,000 − 300,000 = 100,000 = 25 % of the need
    basic = funding_gap(pgk("400000"), available)
    assert basic is not None
    assert (basic.gap, basic.available, basic.percent) == (pgk("100000"), pgk("300000"), 25.0)
    # optimal: 700,000 − 300,000 = 400,000 = 57.142857 % of the need
    optimal = funding_gap(pgk("700000"), available)
    assert optimal is not None and optimal.percent == pytest.approx(400 / 7)
    # a surplus: 250,000 − 300,000 = −50,000 = −20 %
    surplus = funding_gap(pgk("250000"), available)
    assert surplus is not None and (surplus.gap, surplus.percent) == (pgk("-50000"), -20.0)


def test_funding_gap_edge_cases():
    assert funding_gap(None, [pgk("1")]) is None
    nothing = funding_gap(pgk("1000"), [])
    assert nothing is not None and (nothing.gap, nothing.percent) == (pgk("1000"), 100.0)
    assert funding_gap(pgk("0"), [pgk("10")]).percent is None  # type: ignore[union-attr]
    with pytest.raises(CurrencyMismatch):
        funding_gap(Money(Decimal("1000"), "USD"), [pgk("10")])


def test_spending_by_category_shares():
    # staff 50,000 + 10,000, patrol operations 30,000, equipment 10,000 → 100,000:
    # shares 0.6, 0.3, 0.1
    shares = category_shares(
        [
            ("staff", pgk("50000")),
            ("patrol_operations", pgk("30000")),
            ("equipment", pgk("10000")),
            ("staff", pgk("10000")),
        ]
    )
    assert {c: s.share for c, s in shares.items()} == {
        "staff": pytest.approx(0.6),
        "patrol_operations": pytest.approx(0.3),
        "equipment": pytest.approx(0.1),
    }
    assert shares["staff"].amount == pgk("60000")
    assert category_shares({"staff": pgk("0")})["staff"].share is None
    assert category_shares([]) == {}
    with pytest.raises(CurrencyMismatch):
        category_shares({"staff": pgk("1"), "equipment": Money(Decimal("1"), "AUD")})


def test_money_sum():
    assert money_sum([]) is None
    assert money_sum([], currency="PGK") == pgk("0")
    assert money_sum([pgk("1.10"), pgk("2.20")]) == pgk("3.30")
    with pytest.raises(CurrencyMismatch):
        money_sum([pgk("1")], currency="USD")
    with pytest.raises(CurrencyMismatch):
        pgk("1") + Money(Decimal("1"), "USD")


# --- Trends ----------------------------------------------------------------------------------


def test_change_from_the_previous_period():
    # 8 → 10: +2, +25 %
    assert period_change(8, 10) == Change(absolute=2.0, percent=25.0)
    # −4 → −2 (a gap closing): +2, +50 % of |−4|
    assert period_change(-4, -2) == Change(absolute=2.0, percent=50.0)
    # growth from 0 has no percentage
    assert period_change(0, 3) == Change(absolute=3.0, percent=None)
    # a missing period is not 0
    assert period_change(None, 3) is None
    assert period_change(3, None) is None


def test_changes_along_a_series_do_not_skip_missing_periods():
    # March is missing: neither March nor April has a change; May compares with April.
    assert period_changes([4, None, 6, 9]) == [None, None, None, Change(absolute=3.0, percent=50.0)]
    assert period_changes([]) == []


def test_rate_trend_with_a_period_without_effort():
    # January 2.5 per 10 km; February had no patrols (no rate, not 0); March 5 per 10 km.
    rates = [encounter_rate(5, 20, "km"), encounter_rate(0, 0, "km"), encounter_rate(10, 20, "km")]
    values = [r.value if r else None for r in rates]
    assert values == [2.5, None, 5.0]
    assert period_changes(values) == [None, None, None]


# --- Coverage ----------------------------------------------------------------------------


def test_share_of_cells_patrolled():
    # 18 of 72 cells crossed by a track = 0.25
    assert cell_coverage(18, 72) == 0.25
    assert cell_coverage(0, 72) == 0.0
    assert cell_coverage(0, 0) is None
    with pytest.raises(ValueError):
        cell_coverage(73, 72)


def test_share_of_area_within_the_swath():
    # 125 km² of a 500 km² area within 500 m of a track = 0.25
    assert area_coverage(125, 500) == 0.25
    assert area_coverage(500.0000000001, 500) == 1.0
    assert area_coverage(10, 0) is None
    assert area_coverage(None, 500) is None
    with pytest.raises(ValueError):
        area_coverage(600, 500)


def test_hours_apportioned_by_distance():
    # 6 field hours, 2.5 of the leg-day's 10 km inside the zone → 6 × 2.5/10 = 1.5 h
    assert apportion(6, 2.5, 10) == 1.5
    assert apportion(6, 0, 0) is None
    assert apportion(6, 0, None) is None
    with pytest.raises(ValueError):
        apportion(6, 11, 10)
