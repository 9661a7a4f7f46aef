"""Indicator formulas: pure functions over figures already aggregated from the records.

Nothing here touches Django or the database, so every formula can be checked by hand and
imported anywhere. The conventions hold for every function:

- **No data is None, never 0.** A period without effort has no encounter rate; a METT
  element with no applicable question has no percentage; a change from a missing period
  is no change. Zero is a measurement, None is the absence of one.
- A *share* is a fraction from 0 to 1; a *percent* runs from 0 to 100. Names say which.
- Money is a `Decimal` in one currency. Amounts in different currencies are never added:
  the functions refuse with `CurrencyMismatch` rather than return a meaningless sum.
- Bad input (a negative count, an unknown IUCN category, a score of 4) raises
  `ValueError`; a caller's mistake is not turned into a plausible figure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from statistics import NormalDist
from typing import NamedTuple

# The inverse of the regularised lower incomplete gamma function gives the same quantiles
# as scipy.stats.chi2 (see poisson_interval) at 1/40 of the cost per call, and loads in a
# third of the time: worker start-up and a full recompute both feel the difference.
from scipy.special import gammaincinv

from observations.vocabulary import METT_ELEMENTS

Number = int | float | Decimal


def _finite(value: Number, name: str) -> float:
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return number


def _count(value: int, name: str) -> int:
    # bool is an int subclass; True as a count is a caller's mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {value}")
    return value


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence!r}")


# --- 1. Encounter rates (CPUE) ---------------------------------------------------------


class EffortUnit(StrEnum):
    """The patrol effort a count is divided by (SMART's PatrolValueOption)."""

    KM = "km"
    FIELD_HOURS = "field_hours"
    PATROL_HOURS = "patrol_hours"
    PERSON_DAYS = "person_days"
    PATROL_DAYS = "patrol_days"


# What each rate is reported per unless the caller says otherwise: per 10 km, per 100
# hours, per 100 (person-)days (domain.md §6), so that rates read as small numbers.
DEFAULT_SCALE: dict[EffortUnit, float] = {
    EffortUnit.KM: 10.0,
    EffortUnit.FIELD_HOURS: 100.0,
    EffortUnit.PATROL_HOURS: 100.0,
    EffortUnit.PERSON_DAYS: 100.0,
    EffortUnit.PATROL_DAYS: 100.0,
}


class Numerator(StrEnum):
    RECORDS = "records"
    INDIVIDUALS = "individuals"


@dataclass(frozen=True)
class Rate:
    """An encounter rate with its exact Poisson interval and the effort it rests on.

    `value`, `lower` and `upper` are per `per` units of `unit` (3.2 per 10 km); `numerator`
    is the raw count and `effort` the raw effort, so the rate can always be shown with the
    effort beside it and recomputed.
    """

    value: float
    lower: float
    upper: float
    numerator: int
    numerator_kind: Numerator
    effort: float
    unit: EffortUnit
    per: float
    confidence: float


@lru_cache(maxsize=8192)
def _garwood(count: int, confidence: float) -> tuple[float, float]:
    alpha = 1.0 - confidence
    # χ²(p; 2k)/2 is the p-quantile of a Gamma(k, 1), i.e. P⁻¹(k, p) (regularised lower
    # incomplete gamma inverse); χ² with 0 degrees of freedom is a point mass at 0.
    lower = 0.0 if count == 0 else float(gammaincinv(count, alpha / 2))
    upper = float(gammaincinv(count + 1, 1.0 - alpha / 2))
    return lower, upper


def poisson_interval(count: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (central) confidence interval for the mean of a Poisson variable seen as `count`.

    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4),
    437–442, doi:10.1093/biomet/28.3-4.437:

        lower = χ²(α/2; 2k) / 2        upper = χ²(1 − α/2; 2k + 2) / 2

    computed as the equal gamma quantiles P⁻¹(k, α/2) and P⁻¹(k + 1, 1 − α/2).

    Edge cases: k = 0 gives lower = 0 and a finite upper bound (−ln(α/2), 3.689 at 95 %);
    the interval is conservative (coverage ≥ `confidence`). A negative or fractional count,
    or a confidence outside (0, 1), raises ValueError.
    """
    _count(count, "count")
    _check_confidence(confidence)
    return _garwood(count, float(confidence))


def _rate(
    count: int,
    kind: Numerator,
    effort: Number | None,
    unit: EffortUnit | str,
    per: float | None,
    confidence: float,
) -> Rate | None:
    _count(count, kind.value)
    unit = EffortUnit(unit)
    scale = DEFAULT_SCALE[unit] if per is None else _finite(per, "per")
    if scale <= 0:
        raise ValueError(f"per must be positive, not {per!r}")
    if effort is None:
        return None
    effort_value = _finite(effort, "effort")
    if effort_value < 0:
        raise ValueError(f"effort must not be negative, not {effort!r}")
    if effort_value == 0:
        return None
    lower, upper = poisson_interval(count, confidence)
    factor = scale / effort_value
    return Rate(
        value=count * factor,
        lower=lower * factor,
        upper=upper * factor,
        numerator=count,
        numerator_kind=kind,
        effort=effort_value,
        unit=unit,
        per=scale,
        confidence=confidence,
    )


def encounter_rate(
    records: int,
    effort: Number | None,
    unit: EffortUnit | str,
    *,
    per: float | None = None,
    confidence: float = 0.95,
) -> Rate | None:
    """Records per unit of patrol effort (catch per unit effort), with its Poisson interval.

    rate = records ÷ effort × per; the interval is Garwood's exact Poisson interval on the
    record count (`poisson_interval`), divided by the effort and scaled the same way: the
    count is modelled as Poisson with the effort as offset, as domain.md §6 asks. The
    effort denominators and the ratio are SMART's (CombinedValueItem: any value ÷ one
    patrol value); the scale defaults to DEFAULT_SCALE (per 10 km, per 100 field hours, per
    100 person-days). Keane et al. (2011), doi:10.1111/j.1365-2664.2011.02034.x, on why the
    effort must always travel with the rate: patrols are targeted and detection imperfect.

    Edge cases:
    - effort None or 0 → None (no data, never a rate of 0);
    - records 0 with effort > 0 → value 0, lower 0, and a finite upper bound;
    - negative effort or count, a fractional count, NaN or an unknown unit → ValueError.
    """
    return _rate(records, Numerator.RECORDS, effort, unit, per, confidence)


def summed_count_rate(
    individuals: int,
    effort: Number | None,
    unit: EffortUnit | str,
    *,
    per: float | None = None,
    confidence: float = 0.95,
) -> Rate | None:
    """Summed counts (individuals, snares, logs) per unit of effort, with a Poisson interval.

    The same formula and interval as `encounter_rate`, applied to the sum of the records'
    counts. The interval assumes the summed count itself is Poisson. Animals met in groups,
    or a camp with twenty snares, make the sum overdispersed, so the true interval is wider
    than the one given; the rate on records is the one with a sound interval.

    Edge cases as in `encounter_rate`: no effort → None; a zero sum with effort → 0 with an
    upper bound.
    """
    return _rate(individuals, Numerator.INDIVIDUALS, effort, unit, per, confidence)


# --- 2. Biodiversity ---------------------------------------------------------------------


def _abundances(counts: Iterable[int]) -> list[int]:
    return [c for c in (_count(c, "species count") for c in counts) if c > 0]


def observed_richness(counts: Iterable[int]) -> int:
    """S_obs: the number of species with at least one individual.

    `counts` holds one count per species (individuals of that species); zeros are species
    looked for and not seen, and are not counted. No species → 0 (a measurement: patrols
    went out and saw none); whether that period had effort at all is the caller's to say.
    """
    return len(_abundances(counts))


@dataclass(frozen=True)
class RichnessEstimate:
    estimate: float
    variance: float
    lower: float
    upper: float
    observed: int
    singletons: int
    doubletons: int
    individuals: int
    confidence: float


def chao1(
    counts: Iterable[int],
    *,
    small_sample_correction: bool = False,
    confidence: float = 0.95,
) -> RichnessEstimate | None:
    """Bias-corrected Chao1 estimate of species richness, its variance and interval.

    Estimate (Chao 1987, Biometrics 43: 783–791; scikit-bio `chao1(bias_corrected=True)`,
    vegan `estimateR`, https://scikit.bio/docs/latest/generated/skbio.diversity.alpha.chao1.html):

        S = S_obs + K · F1(F1 − 1) / (2(F2 + 1))

    with F1 singletons, F2 doubletons, n individuals and K = 1. With
    `small_sample_correction=True`, K = (n − 1)/n as in EstimateS 8.2 and later and Chao's
    SpadeR; K tends to 1 as n grows.

    Variance, from Colwell, R. K. EstimateS User's Guide, Appendix B
    (http://purl.oclc.org/estimates), the bias-corrected forms, with the same K:

    - F1 > 1 and F2 > 0:
      K·F1(F1−1)/(2(F2+1)) + K²·F1(2F1−1)²/(4(F2+1)²) + K²·F1²·F2·(F1−1)²/(4(F2+1)⁴)
    - F1 > 1 and F2 = 0:
      K·F1(F1−1)/2 + K²·F1(2F1−1)²/4 − K²·F1⁴/(4S)
    - F1 ≤ 1 (the estimate adds no unseen species): the variance of S_obs itself,
      Σₖ Fₖ(e^−k − e^−2k) − (Σₖ k·e^−k·Fₖ)²/n, as Chao's SpadeR computes it (Chao, Ma,
      Hsieh & Chiu 2016, https://CRAN.R-project.org/package=SpadeR).

    Interval: Chao's (1987) log-normal interval on the unseen part T = S − S_obs,
    [S_obs + T/C, S_obs + T·C] with C = exp(z·√ln(1 + var/T²)); when T = 0, SpadeR's
    interval from P = Σₖ Fₖe^−k / S_obs, never below S_obs.

    Edge cases: no individuals → None (nothing to extrapolate from); one species seen once
    → S = 1 with the S_obs variance; F2 = 0 is handled by the second variance form.
    """
    _check_confidence(confidence)
    abundances = _abundances(counts)
    n = sum(abundances)
    if n == 0:
        return None
    frequencies = Counter(abundances)
    s_obs = len(abundances)
    f1, f2 = frequencies[1], frequencies[2]
    k = (n - 1) / n if small_sample_correction else 1.0
    unseen = k * f1 * (f1 - 1) / (2 * (f2 + 1))
    estimate = s_obs + unseen
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2)

    if f1 > 1 and f2 > 0:
        variance = (
            k * f1 * (f1 - 1) / (2 * (f2 + 1))
            + k**2 * f1 * (2 * f1 - 1) ** 2 / (4 * (f2 + 1) ** 2)
            + k**2 * f1**2 * f2 * (f1 - 1) ** 2 / (4 * (f2 + 1) ** 4)
        )
    elif f1 > 1:
        variance = k * f1 * (f1 - 1) / 2 + k**2 * f1 * (2 * f1 - 1) ** 2 / 4 - k**2 * f1**4 / (4 * estimate)
    else:
        variance = sum(f * (math.exp(-i) - math.exp(-2 * i)) for i, f in frequencies.items()) - (
            sum(i * math.exp(-i) * f for i, f in frequencies.items()) ** 2 / n
        )
        variance = max(variance, 0.0)

    if unseen > 0:
        c = math.exp(z * math.sqrt(math.log(1 + variance / unseen**2)))
        lower, upper = s_obs + unseen / c, s_obs + unseen * c
    else:
        p = sum(f * math.exp(-i) for i, f in frequencies.items()) / s_obs
        half_width = z * math.sqrt(variance) / (1 - p)
        lower = max(float(s_obs), s_obs / (1 - p) - half_width)
        upper = s_obs / (1 - p) + half_width
    return RichnessEstimate(
        estimate=estimate,
        variance=variance,
        lower=lower,
        upper=upper,
        observed=s_obs,
        singletons=f1,
        doubletons=f2,
        individuals=n,
        confidence=confidence,
    )


def shannon(counts: Iterable[int]) -> float | None:
    """Shannon diversity H′ = −Σ pᵢ ln pᵢ on individual counts, pᵢ = nᵢ/n (natural log).

    Shannon, C. E. (1948). A mathematical theory of communication. Bell System Technical
    Journal 27: 379–423; domain.md §6. This is the plug-in (maximum-likelihood) estimate,
    which is biased low in small samples; it is what EstimateS and scikit-bio report as
    "Shannon" (scikit-bio with base e).

    Edge cases: no individuals → None; a single species → 0.0.
    """
    abundances = _abundances(counts)
    n = sum(abundances)
    if n == 0:
        return None
    return -sum((c / n) * math.log(c / n) for c in abundances) + 0.0


def pielou(counts: Iterable[int]) -> float | None:
    """Pielou's evenness J = H′ / ln S on individual counts.

    Pielou, E. C. (1966). The measurement of diversity in different types of biological
    collections. Journal of Theoretical Biology 13: 131–144; domain.md §6.

    Edge cases: S ≤ 1 → None (ln 1 = 0: evenness is undefined with one species, not 0 or 1).
    """
    abundances = _abundances(counts)
    if len(abundances) <= 1:
        return None
    h = shannon(abundances)
    assert h is not None  # at least two species, so individuals
    return h / math.log(len(abundances))


# IUCN Red List Categories and Criteria v3.1 (IUCN 2012), in the Red List's own order.
RED_LIST_CATEGORIES = ("EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD", "NE")
THREATENED_CATEGORIES = ("CR", "EN", "VU")


def iucn_counts(categories: Iterable[str | None]) -> dict[str, int]:
    """How many items fall in each IUCN Red List category, every category listed.

    One category per item (a record, or a species): the caller decides what is counted.
    A missing category (None or "") counts as NE, not evaluated: IUCN Red List Categories
    and Criteria v3.1, https://www.iucnredlist.org/resources/categories-and-criteria.

    Edge cases: no items → every category 0; an unknown code → ValueError.
    """
    counts = dict.fromkeys(RED_LIST_CATEGORIES, 0)
    for category in categories:
        code = (category or "NE").strip().upper()
        if code not in counts:
            raise ValueError(f"{category!r} is not an IUCN Red List category")
        counts[code] += 1
    return counts


def records_by_iucn(record_categories: Iterable[str | None]) -> dict[str, int]:
    """Records per IUCN category: one entry per record, the category of its taxon.

    Same rules as `iucn_counts` (domain.md §6: the share of records in threatened
    categories).
    """
    return iucn_counts(record_categories)


def species_by_iucn(species: Mapping[Hashable, str | None]) -> dict[str, int]:
    """Species per IUCN category, from a mapping species → category (each species once).

    Same rules as `iucn_counts`.
    """
    return iucn_counts(species.values())


@dataclass(frozen=True)
class ThreatenedPercent:
    """Percent of evaluated species that are threatened (CR + EN + VU), with IUCN's bounds."""

    best: float | None
    lower: float | None
    upper: float | None
    threatened: int
    data_deficient: int
    evaluated: int


def threatened_percent(species_per_category: Mapping[str, int]) -> ThreatenedPercent | None:
    """Percent of species threatened, as the IUCN Red List summary statistics compute it.

    https://www.iucnredlist.org/resources/summary-statistics ("the proportion of threatened
    species"), with `evaluated` = every category but NE:

        best  = (CR + EN + VU) / (evaluated − EX − DD)
        lower = (CR + EN + VU) / (evaluated − EX)
        upper = (CR + EN + VU + DD) / (evaluated − EX)

    NE species are in no denominator: nobody has assessed them, so they say nothing about
    the share. DD species were assessed but could not be placed; the best estimate leaves
    them out (it assumes they are threatened in the same proportion as the others), and the
    bounds take them all as not threatened (lower) or all as threatened (upper). Extinct
    species are not part of a living fauna and are left out; EW ones stay in.

    `species_per_category` is `species_by_iucn`'s result (missing categories count 0).

    Edge cases: no evaluated species → None; only EX and DD species → best None with the
    bounds still given when something is left after EX.
    """
    counts = {code: species_per_category.get(code, 0) for code in RED_LIST_CATEGORIES}
    unknown = set(species_per_category) - set(RED_LIST_CATEGORIES)
    if unknown:
        raise ValueError(f"not IUCN Red List categories: {sorted(unknown)}")
    for code, number in counts.items():
        _count(number, f"species in {code}")
    threatened = sum(counts[c] for c in THREATENED_CATEGORIES)
    evaluated = sum(counts.values()) - counts["NE"]
    if evaluated == 0:
        return None
    living = evaluated - counts["EX"]
    data_sufficient = living - counts["DD"]

    def percent(part: int, whole: int) -> float | None:
        return 100.0 * part / whole if whole else None

    return ThreatenedPercent(
        best=percent(threatened, data_sufficient),
        lower=percent(threatened, living),
        upper=percent(threatened + counts["DD"], living),
        threatened=threatened,
        data_deficient=counts["DD"],
        evaluated=evaluated,
    )


def accumulation_curve(samples: Iterable[Collection[Hashable]]) -> list[int]:
    """Observed species accumulation: cumulative richness after each sample, in the given order.

    Samples are leg-days (or missions) in time order, each the collection of species seen
    in it (domain.md §6: sample-based accumulation with patrol-days as samples). The curve
    depends on the order; `expected_accumulation` removes that dependence.

    Edge cases: no samples → []; a sample with no species still counts as a sample (its
    effort was spent), so the curve stays flat there.
    """
    seen: set[Hashable] = set()
    curve = []
    for sample in samples:
        seen.update(sample)
        curve.append(len(seen))
    return curve


def expected_accumulation(samples: Sequence[Collection[Hashable]]) -> list[float]:
    """Expected richness for 1..T samples (sample-based rarefaction, Mao Tau), order-free.

    Colwell, R. K., Mao, C. X. & Chang, J. (2004). Interpolating, extrapolating, and
    comparing incidence-based species accumulation curves. Ecology 85: 2717–2727; in the
    combinatorial form of Colwell et al. (2012), J. Plant Ecol. 5: 3–21:

        S(t) = Σₖ Qₖ · [1 − C(T − k, t) / C(T, t)]

    where Qₖ is the number of species found in exactly k of the T samples. S(T) = S_obs and
    S(1) is the mean richness of one sample. The variance (Colwell et al. 2004, eq. 7) is
    not computed here.

    Edge cases: no samples → []; a species listed twice in one sample counts once.
    """
    total = len(samples)
    incidence: Counter[Hashable] = Counter()
    for sample in samples:
        incidence.update(set(sample))
    species_per_frequency = Counter(incidence.values())
    curve = [0.0] * total
    for k, q in species_per_frequency.items():
        # C(T−k, t)/C(T, t) built up one t at a time: exact ratios, no huge binomials.
        missing = 1.0
        for t in range(1, total + 1):
            missing *= max(total - k - t + 1, 0) / (total - t + 1)
            curve[t - 1] += q * (1.0 - missing)
    return curve


# --- 3. METT -------------------------------------------------------------------------------

WCPA_ELEMENTS = ("context", "planning", "inputs", "process", "outputs", "outcomes")

# METT-3 questions and the IUCN-WCPA element(s) each assesses, as the 2007 form gives them
# (domain.md §3). Questions 8, 10, 14, 26 and 29 assess two elements and count in both. The
# table has one owner, observations.vocabulary (ingest records both elements of a score
# from it); a plain dict of tuples, so the formulas stay free of Django.
METT3_ELEMENTS: Mapping[str, tuple[str, ...]] = METT_ELEMENTS

METT_MAX_SCORE = 3
METT_MAX_BONUS = 1


@dataclass(frozen=True)
class METTResult:
    """Points scored, the most the applicable questions allow, and how many applied."""

    total: int
    maximum: int
    applicable: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.total / self.maximum if self.maximum else None


class _METTItem(NamedTuple):
    question: str
    parent: str
    points: int
    maximum: int
    is_bonus: bool


def _mett_items(
    scores: Mapping[str, int | None],
    elements: Mapping[str, Sequence[str]],
    include_bonus: bool,
) -> list[_METTItem]:
    """Every item that counts, with its points and its maximum."""
    items = []
    for question, score in scores.items():
        parent = question[:-1] if question[-1:].isalpha() else question
        is_bonus = parent != question
        if parent not in elements:
            raise ValueError(f"{question!r} is not a question of this METT")
        top = METT_MAX_BONUS if is_bonus else METT_MAX_SCORE
        if score is not None and _count(score, question) > top:
            raise ValueError(f"{question} is scored 0 to {top}, not {score}")
        if is_bonus:
            # A bonus point counts only where its question applies; an unanswered bonus
            # is a "no" (the form offers only yes or no).
            if include_bonus and scores.get(parent) is not None:
                items.append(_METTItem(question, parent, score or 0, top, True))
        elif score is not None:
            items.append(_METTItem(question, parent, score, top, False))
    return items


def _mett_result(items: Iterable[_METTItem]) -> METTResult:
    chosen = list(items)
    return METTResult(
        total=sum(item.points for item in chosen),
        maximum=sum(item.maximum for item in chosen),
        applicable=sum(1 for item in chosen if not item.is_bonus),
    )


def mett_score(
    scores: Mapping[str, int | None],
    *,
    elements: Mapping[str, Sequence[str]] = METT3_ELEMENTS,
    include_bonus: bool = True,
) -> METTResult:
    """METT score as a percentage of the maximum for the applicable questions.

    METT-3: Stolton, S., Hockings, M., Dudley, N., MacKinnon, K., Whitten, T. & Leverington,
    F. (2007). Management Effectiveness Tracking Tool: Reporting Progress at Protected Area
    Sites, 2nd edn. WWF International, ISBN 978-2-88085-281-8; Stolton & Dudley (2016),
    METT Handbook, WWF-UK. Each question scores 0–3; a question marked not applicable is
    left out of both the total and the maximum (so maximum = 3 × applicable questions).

    `scores` maps "q01".."q30" to 0–3, or None for not applicable (an absent question is
    treated the same). Bonus items ("q07a".."q30c", the "additional points" of 7, 21, 24 and
    30) score 0 or 1.

    Bonus points: counted in the total *and* in the maximum (one point each) wherever their
    question applies, so the full maximum is 90 + 12 = 102 (domain.md §3) and the
    percentage never passes 100; a bonus whose question is N/A counts in neither. This is
    the convention the METT assessments already stored by fieldkit use (their score_total
    and score_max), so the two agree. `include_bonus=False` gives the score on the 30
    questions alone, comparable with analyses that leave the additional points out.

    Edge cases: no applicable question → maximum 0 and percent None; a score outside its
    range or an unknown question → ValueError.
    """
    return _mett_result(_mett_items(scores, elements, include_bonus))


def mett_by_element(
    scores: Mapping[str, int | None],
    *,
    elements: Mapping[str, Sequence[str]] = METT3_ELEMENTS,
    include_bonus: bool = True,
) -> dict[str, METTResult]:
    """METT score per IUCN-WCPA element: the six values of the radar managers read.

    Hockings, M., Stolton, S., Leverington, F., Dudley, N. & Courrau, J. (2006). Evaluating
    Effectiveness: A framework for assessing management effectiveness of protected areas,
    2nd edn. IUCN (the six elements: context, planning, inputs, process, outputs,
    outcomes). The element of each question is METT-3's (`METT3_ELEMENTS`); a question
    the form gives two elements (8, 10, 14, 26, 29) counts fully in both, so the elements'
    totals add up to more than the overall total. Bonus points go with their question.
    Scoring rules as in `mett_score`.

    Edge cases: every element is returned; one with no applicable question has maximum 0
    and percent None (METT-3 has a single context question: N/A there leaves context empty).
    """
    items = _mett_items(scores, elements, include_bonus)
    return {
        element: _mett_result(item for item in items if element in elements[item.parent])
        for element in WCPA_ELEMENTS
    }


def mett_change(
    previous_percent: float | None,
    current_percent: float | None,
    *,
    previous_version: str,
    current_version: str,
) -> Change | None:
    """Change in METT percentage between two assessments, in percentage points.

    METT-3 and METT-4 (or a national adaptation such as PNG-METT) ask different questions,
    so their percentages are not comparable (Stolton, Dudley & Hockings 2021, METT
    Handbook 2nd edn, ISBN 978-2-88085-312-9, on METT-4's changed questions).

    Edge cases: different versions → None; either percentage None → None; otherwise
    `period_change` (percent is then the relative change of the percentage).
    """
    if previous_version.strip().casefold() != current_version.strip().casefold():
        return None
    return period_change(previous_percent, current_percent)


# --- 4. Finance ------------------------------------------------------------------------------


class CurrencyMismatch(ValueError):
    """Amounts in different currencies met where they would be added or compared.

    `code` is stable, for the error catalogue; `currencies` lists the codes met.
    """

    code = "currency_mismatch"

    def __init__(self, currencies: Iterable[str]) -> None:
        self.currencies = tuple(sorted(set(currencies)))
        super().__init__(
            f"Amounts in {' and '.join(self.currencies)} cannot be added together; "
            "report them per currency or convert them first."
        )


@dataclass(frozen=True)
class Money:
    """An amount in one currency (ISO 4217 code). Binary floats are refused: use Decimal."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, Decimal | int):
            raise TypeError(f"amount must be a Decimal (or int), not {type(self.amount).__name__}")
        amount = Decimal(self.amount)
        if not amount.is_finite():
            raise ValueError(f"amount must be finite, not {self.amount}")
        currency = self.currency.strip().upper() if isinstance(self.currency, str) else ""
        if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
            raise ValueError(f"currency must be a three-letter ISO 4217 code, not {self.currency!r}")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "currency", currency)

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + other.amount, _one_currency([self, other]))

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - other.amount, _one_currency([self, other]))


def _one_currency(amounts: Iterable[Money], currency: str | None = None) -> str:
    currencies = {m.currency for m in amounts}
    if currency is not None:
        currencies.add(Money(Decimal(0), currency).currency)
    if len(currencies) > 1:
        raise CurrencyMismatch(currencies)
    return currencies.pop()


def money_sum(amounts: Money | Iterable[Money], *, currency: str | None = None) -> Money | None:
    """The sum of amounts that are all in one currency.

    Financial Sustainability Scorecard, Part I (Bovarnick, A. 2010, UNDP,
    https://vdocument.in/financial-sustainability-scorecard.html) and IMET's finance forms
    both keep each amount with its currency; fieldkit never converts.

    Edge cases: two currencies (or one unlike `currency`) → CurrencyMismatch; no amounts →
    zero in `currency`, or None when no currency is given (nothing says what zero is in).
    """
    items = [amounts] if isinstance(amounts, Money) else list(amounts)
    if not items and currency is None:
        return None
    code = _one_currency(items, currency)
    return Money(sum((m.amount for m in items), Decimal(0)), code)


@dataclass(frozen=True)
class MoneyRate:
    """An amount per unit of something (per km², per patrol-day), with both parts."""

    amount: Decimal
    currency: str
    per: str
    numerator: Money
    denominator: Decimal


def _decimal(value: Number) -> Decimal:
    # str() keeps a float's shortest decimal form (1234.5, not 1234.4999999999999).
    return value if isinstance(value, Decimal) else Decimal(str(value))


def money_per(amounts: Money | Iterable[Money], denominator: Number | None, per: str) -> MoneyRate | None:
    """Amount (summed, one currency) divided by a non-monetary denominator.

    The cost ratios of IMET's finance module (cost per km² per year) and the Financial
    Sustainability Scorecard (Bovarnick 2010), with the patrol effort of SMART as the
    other denominators.

    Edge cases: denominator None or 0 → None (no data, not an infinite cost); no amounts →
    None; a negative denominator → ValueError; two currencies → CurrencyMismatch.
    """
    total = money_sum(amounts)
    if total is None or denominator is None:
        return None
    value = _decimal(denominator)
    if not value.is_finite() or value < 0:
        raise ValueError(f"denominator must be a finite number ≥ 0, not {denominator!r}")
    if value == 0:
        return None
    return MoneyRate(
        amount=total.amount / value, currency=total.currency, per=per, numerator=total, denominator=value
    )


def per_km2(amounts: Money | Iterable[Money], area_km2: Number | None) -> MoneyRate | None:
    """Budget or spending per km² of protected area (IMET: cost per km²). See `money_per`."""
    return money_per(amounts, area_km2, "km2")


def per_patrol_day(amounts: Money | Iterable[Money], patrol_days: Number | None) -> MoneyRate | None:
    """Budget or spending per patrol-day (leg-day, SMART's #days). See `money_per`."""
    return money_per(amounts, patrol_days, "patrol_day")


def per_km_patrolled(amounts: Money | Iterable[Money], km: Number | None) -> MoneyRate | None:
    """Budget or spending per km patrolled (SMART's distance). See `money_per`."""
    return money_per(amounts, km, "km_patrolled")


@dataclass(frozen=True)
class FundingGap:
    """need − available (negative: a surplus), and that as a percent of the need."""

    need: Money
    available: Money
    gap: Money
    percent: float | None


def funding_gap(need: Money | None, available: Money | Iterable[Money]) -> FundingGap | None:
    """Funding gap against a need (basic or optimal management).

    Financial Sustainability Scorecard for National Systems of Protected Areas, Part I
    (Bovarnick, A. 2010, UNDP): gap = need − available, reported for basic and for optimal
    management needs; here also as percent of the need. Call it once for each need.

    Edge cases: need None (not estimated) → None; need 0 → gap with percent None; more
    available than needed → a negative gap (a surplus), percent below 0; no amounts
    available → the whole need is the gap; currencies differing → CurrencyMismatch.
    """
    if need is None:
        return None
    have = money_sum(available, currency=need.currency)
    assert have is not None  # a currency was given
    gap = need - have
    percent = float(100 * gap.amount / need.amount) if need.amount else None
    return FundingGap(need=need, available=have, gap=gap, percent=percent)


@dataclass(frozen=True)
class CategoryShare:
    amount: Money
    share: float | None


def category_shares(
    lines: Mapping[str, Money] | Iterable[tuple[str, Money]],
) -> dict[str, CategoryShare]:
    """Spending (or income) by category and each category's share of the total (0–1).

    The Scorecard's breakdown of costs and revenue by source (Bovarnick 2010); IMET's
    budget split by source. Lines of one category are summed first.

    Edge cases: no lines → {}; total 0 → every share None; currencies differing →
    CurrencyMismatch (checked across all lines before anything is summed).
    """
    pairs = list(lines.items() if isinstance(lines, Mapping) else lines)
    currency = _one_currency(m for _, m in pairs) if pairs else None
    by_category: dict[str, Decimal] = {}
    for category, money in pairs:
        by_category[category] = by_category.get(category, Decimal(0)) + money.amount
    total = sum(by_category.values(), Decimal(0))
    return {
        category: CategoryShare(
            amount=Money(amount, currency or ""),
            share=float(amount / total) if total else None,
        )
        for category, amount in by_category.items()
    }


# --- 5. Trends ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """Change from the previous period: current − previous, and that as % of previous."""

    absolute: float
    percent: float | None


def period_change(previous: Number | None, current: Number | None) -> Change | None:
    """Change from the previous period, absolute and relative.

    absolute = current − previous; percent = 100 × (current − previous) / |previous|.
    A plain first difference, as every dashboard's "vs previous period" (ecoscope's trend
    tasks; domain.md §2, §6).

    Edge cases: a missing period (None) is not zero: either side None → None; previous 0 →
    the absolute change with percent None (growth from nothing has no percentage); a
    negative previous value (a funding gap turned surplus) keeps the sign of the change.
    """
    if previous is None or current is None:
        return None
    before = _finite(previous, "previous")
    after = _finite(current, "current")
    difference = after - before
    return Change(absolute=difference, percent=100.0 * difference / abs(before) if before else None)


def period_changes(series: Sequence[Number | None]) -> list[Change | None]:
    """`period_change` along a series of consecutive periods, oldest first.

    The value at index i is compared with index i − 1 only: a missing period (None) is a
    gap, never skipped over to an older one, and never read as 0. The first period has no
    previous one (None).
    """
    return [None if i == 0 else period_change(series[i - 1], series[i]) for i in range(len(series))]


# --- 6. Coverage ---------------------------------------------------------------------------


def cell_coverage(patrolled_cells: int, cells: int) -> float | None:
    """Share (0–1) of an area's grid cells crossed by at least one track.

    SMART's gridded queries and ecoscope's patrol coverage count cells with effort; the
    share is patrolled cells ÷ cells.

    Edge cases: no cells → None; more patrolled cells than cells → ValueError.
    """
    _count(patrolled_cells, "patrolled cells")
    _count(cells, "cells")
    if cells == 0:
        return None
    if patrolled_cells > cells:
        raise ValueError(f"{patrolled_cells} patrolled cells out of {cells}")
    return patrolled_cells / cells


def area_coverage(covered_km2: Number | None, area_km2: Number | None) -> float | None:
    """Share (0–1) of an area within the patrol swath (500 m of a track, overlaps merged).

    ecoscope's patrol summary swath coverage (merged), clipped to the area; domain.md §2.

    Edge cases: area None or 0 → None; covered None → None; a covered area larger than the
    area by float rounding (≤ 1e-9 relative) is read as full coverage, by more → ValueError.
    """
    if covered_km2 is None or area_km2 is None:
        return None
    covered = _finite(covered_km2, "covered km²")
    whole = _finite(area_km2, "area km²")
    if covered < 0 or whole < 0:
        raise ValueError("areas must not be negative")
    if whole == 0:
        return None
    if covered > whole * (1 + 1e-9):
        raise ValueError(f"covered {covered} km² is more than the area's {whole} km²")
    return min(covered / whole, 1.0)


def apportion(value: Number, part_km: Number, whole_km: Number | None) -> float | None:
    """A leg-day's hours (or person-days) apportioned to a zone or cell by distance.

    value × part_km ÷ whole_km: ODK geotraces carry no time per point, so the time spent
    in a zone or cell is taken as the share of the leg-day's distance walked inside it
    (SMART clips tracks to the area the same way for distance).

    Edge cases: a leg-day without distance (whole None or 0) → None: its hours cannot be
    placed; a part longer than the whole → ValueError.
    """
    if whole_km is None:
        return None
    whole = _finite(whole_km, "whole distance")
    part = _finite(part_km, "part distance")
    amount = _finite(value, "value")
    if part < 0 or whole < 0:
        raise ValueError("distances must not be negative")
    if whole == 0:
        return None
    if part > whole * (1 + 1e-9):
        raise ValueError(f"part {part} km is longer than the whole {whole} km")
    return amount * min(part / whole, 1.0)
