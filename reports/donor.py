"""The donor report of one area and year: indicator cards, the area map, effort and
encounter-rate trends with their intervals, METT by WCPA element against the previous
assessment, budget against spending and the funding gap, and what limits the figures.

Every figure comes from the indicator tables (indicators.models.IndicatorRow), read in a
few filtered queries; the only record-level reads are counts (QA flags). Nothing in the
report places a record: the map shades grid cells by their count of illicit-activity
records (as the area dashboard does), no point, no person, no ranger is named, so the
report holds no exact sensitive location and no personal data and is not audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.gis.db.models.functions import Transform
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from indicators.formulas import poisson_interval
from indicators.models import NO_CELL, NO_ZONE, GridCell, IndicatorRow, PeriodKind
from observations.models import QAFlag
from protected_areas.models import ProtectedArea, Zone
from reports import charts

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# WCPA elements in the order of the framework (METT subjects of mett.percent).
ELEMENTS = (
    ("context", "Context"),
    ("planning", "Planning"),
    ("inputs", "Inputs"),
    ("process", "Process"),
    ("outputs", "Outputs"),
    ("outcomes", "Outcomes"),
)
RATES = (
    ("vertical:illicit", "Illicit activity", charts.PALETTE[1]),
    ("vertical:biodiversity", "Biodiversity", charts.PALETTE[0]),
    ("vertical:resource_use", "Resource use", charts.PALETTE[3]),
)
TREND_YEARS = 3
RATE_SCALE_KM = 10.0  # cpue.records.km is per 10 km (indicators.compute.RATE_UNITS)


@dataclass
class Card:
    label: str
    value: str
    note: str = ""


def _fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "no data"
    text = f"{value:,.{digits}f}".replace(",", " ")
    return f"{text} {unit}".strip()


def _change(value: float | None, before: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None or before is None:
        return "no previous year to compare"
    delta = value - before
    sign = "+" if delta >= 0 else "−"
    return f"{sign}{_fmt(abs(delta), digits)} {unit} on the year before".replace("  ", " ")


def _years(area: ProtectedArea) -> list[int]:
    rows = IndicatorRow.objects.filter(
        area=area, period_kind=PeriodKind.YEAR, zone_id=NO_ZONE, cell_id=NO_CELL
    )
    return sorted({d.year for d in rows.values_list("period_start", flat=True).distinct()})


def report_years(area: ProtectedArea) -> list[int]:
    """The years with indicators: those a report can be made for."""
    return _years(area)


def _yearly(area: ProtectedArea, first: int, last: int) -> dict[tuple[str, str, int], IndicatorRow]:
    rows = IndicatorRow.objects.filter(
        area=area,
        period_kind=PeriodKind.YEAR,
        zone_id=NO_ZONE,
        cell_id=NO_CELL,
        period_start__gte=date(first, 1, 1),
        period_start__lte=date(last, 1, 1),
    ).filter(
        Q(indicator__startswith="effort.")
        | Q(indicator__in=["cpue.records.km", "bio.richness", "bio.chao1", "mett.percent"])
        | Q(indicator__startswith="finance.")
    )
    return {(v.indicator, v.subject, v.period_start.year): v for v in rows}


def _monthly(area: ProtectedArea, first: int, last: int) -> dict[tuple[str, str], dict[date, IndicatorRow]]:
    rows = IndicatorRow.objects.filter(
        area=area,
        period_kind=PeriodKind.MONTH,
        zone_id=NO_ZONE,
        cell_id=NO_CELL,
        period_start__gte=date(first, 1, 1),
        period_start__lte=date(last, 12, 1),
    ).filter(Q(indicator="effort.km") | Q(indicator="cpue.records.km", subject__in=[s for s, _, _ in RATES]))
    found: dict[tuple[str, str], dict[date, IndicatorRow]] = defaultdict(dict)
    for v in rows:
        found[(v.indicator, v.subject)][v.period_start] = v
    return found


def _rate(
    found: IndicatorRow | None, effort_km: float | None
) -> tuple[float | None, float | None, float | None]:
    """An encounter rate per 10 km with its 95 % interval. No rate row where there was
    effort means no record: a rate of 0, with Garwood's interval for no event; no effort,
    no rate."""
    if found is not None and found.value is not None:
        return found.value, found.lower, found.upper
    if effort_km:
        return 0.0, 0.0, poisson_interval(0)[1] / effort_km * RATE_SCALE_KM
    return None, None, None


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    if geometry is None:
        return []
    return [list(polygon[0].coords) for polygon in geometry]


def _cells(area: ProtectedArea, year: int) -> list[charts.Cell]:
    values = dict(
        IndicatorRow.objects.filter(
            area=area,
            indicator="cell.records",
            subject="vertical:illicit",
            period_kind=PeriodKind.YEAR,
            period_start=date(year, 1, 1),
        )
        .exclude(cell_id=NO_CELL)
        .values_list("cell_id", "value")
    )
    if not values:
        return []
    cells = GridCell.objects.filter(pk__in=list(values)).annotate(outline=Transform("geom", 4326))
    return [charts.Cell(list(cell.outline[0].coords), float(values[cell.pk] or 0)) for cell in cells]


def _currency(yearly: dict[tuple[str, str, int], IndicatorRow], year: int) -> str | None:
    subjects = sorted(s for (i, s, y) in yearly if i == "finance.spend_per_km2" and y == year)
    subjects = subjects or sorted(s for (i, s, _) in yearly if i == "finance.budget_per_km2")
    return subjects[0].removeprefix("currency:") if subjects else None


def context(area: ProtectedArea, year: int) -> dict[str, Any]:
    """Everything the template shows, computed from the indicator tables."""
    first = year - TREND_YEARS + 1
    yearly = _yearly(area, first - 1, year)
    monthly = _monthly(area, first, year)

    def value(indicator: str, subject: str = "", y: int = year) -> float | None:
        found = yearly.get((indicator, subject, y))
        return found.value if found is not None else None

    def row(indicator: str, subject: str = "", y: int = year) -> IndicatorRow | None:
        return yearly.get((indicator, subject, y))

    currency = _currency(yearly, year)
    money = f"currency:{currency}" if currency else ""
    spend, budget = row("finance.spend_per_km2", money), row("finance.budget_per_km2", money)
    chao1 = row("bio.chao1")
    cards = [
        Card(
            "Patrol effort",
            _fmt(value("effort.km"), 0, "km"),
            _change(value("effort.km"), value("effort.km", y=year - 1), 0, "km"),
        ),
        Card(
            "Patrol days",
            _fmt(value("effort.leg_days"), 0, "leg-days"),
            _fmt(value("effort.person_days"), 0, "person-days"),
        ),
    ]
    for subject, label, _ in RATES:
        rate, lower, upper = _rate(row("cpue.records.km", subject), value("effort.km"))
        note = f"95 % interval {_fmt(lower, 2)}–{_fmt(upper, 2)}" if lower is not None else ""
        cards.append(Card(f"{label} per 10 km", _fmt(rate, 2), note))
    cards.append(
        Card(
            "Species richness",
            _fmt(value("bio.richness"), 0, "species"),
            f"Chao1 {_fmt(chao1.value, 1)} ({_fmt(chao1.lower, 1)}–{_fmt(chao1.upper, 1)})"
            if chao1 is not None and chao1.value is not None
            else "",
        )
    )
    cards.append(
        Card(
            "METT score",
            _fmt(value("mett.percent"), 0, "%"),
            _change(value("mett.percent"), _previous_mett(yearly, year)[1], 0, "points"),
        )
    )
    cards.append(
        Card(
            "Spending",
            _fmt(spend.numerator if spend else None, 0, currency or ""),
            f"planned {_fmt(budget.numerator, 0, currency or '')}"
            if budget is not None
            else "no budget return",
        )
    )

    months = [date(y, m, 1) for y in range(first, year + 1) for m in range(1, 13)]
    labels = [f"{MONTHS[d.month - 1]} {d.year % 100:02d}" if d.month in (1, 7) else "" for d in months]
    effort_series = monthly.get(("effort.km", ""), {})
    effort_values = [effort_series[d].value if d in effort_series else None for d in months]
    effort_svg = charts.line_chart(
        labels,
        [charts.Series("km patrolled", effort_values, color=charts.PALETTE[2])],
        y_label="km per month",
        height=165,
    )
    rate_series = []
    for subject, label, color in RATES[:2]:
        found = monthly.get(("cpue.records.km", subject), {})
        rates = [_rate(found.get(d), km) for d, km in zip(months, effort_values, strict=True)]
        rate_series.append(
            charts.Series(label, [r[0] for r in rates], [r[1] for r in rates], [r[2] for r in rates], color)
        )
    rate_svg = charts.line_chart(labels, rate_series, y_label="records per 10 km, 95 % interval", height=165)

    previous_year, previous_total = _previous_mett(yearly, year)
    now_values = [value("mett.percent", code) for code, _ in ELEMENTS]
    mett_series = [(f"{year}", now_values, charts.PALETTE[0])]
    if previous_year is not None:
        mett_series.insert(
            0,
            (
                f"{previous_year}",
                [value("mett.percent", code, previous_year) for code, _ in ELEMENTS],
                "#9e9e9e",
            ),
        )
    mett_svg = charts.bar_chart(
        [label for _, label in ELEMENTS], mett_series, y_label="% of the maximum score", top=100, height=160
    )
    mett_rows = [
        (label, now, value("mett.percent", code, previous_year) if previous_year else None)
        for (code, label), now in zip(ELEMENTS, now_values, strict=True)
    ]

    finance_years = list(range(first, year + 1))
    planned = [_num(row("finance.budget_per_km2", money, y)) for y in finance_years]
    actual = [_num(row("finance.spend_per_km2", money, y)) for y in finance_years]
    income = [_num(row("finance.gap_basic", money, y)) for y in finance_years]
    need = [_den(row("finance.gap_basic", money, y)) for y in finance_years]
    finance_svg = charts.bar_chart(
        [str(y) for y in finance_years],
        [
            ("planned", planned, "#90a4ae"),
            ("spent", actual, charts.PALETTE[2]),
            ("income", income, charts.PALETTE[0]),
            ("basic need", need, charts.PALETTE[3]),
        ],
        y_label=currency or "",
    )
    spending = sorted(
        (
            (s.removeprefix(f"{money}:").replace("_", " "), _fmt(v.value, 0), v.value or 0)
            for (i, s, y), v in yearly.items()
            if i == "finance.spend" and y == year and s.startswith(f"{money}:")
        ),
        key=lambda item: -item[2],
    )
    gap_basic, gap_optimal = row("finance.gap_basic", money), row("finance.gap_optimal", money)
    gap_rows = [
        ("Income", _fmt(_num(gap_basic), 0) if gap_basic else "–"),
        ("Basic need", _fmt(_den(gap_basic), 0) if gap_basic else "–"),
        ("Gap to the basic need", _fmt(gap_basic.value, 0) if gap_basic else "–"),
        ("Optimal need", _fmt(_den(gap_optimal), 0) if gap_optimal else "–"),
        ("Gap to the optimal need", _fmt(gap_optimal.value, 0) if gap_optimal else "–"),
    ]

    no_effort = [
        MONTHS[d.month - 1]
        for d in months
        if d.year == year and not (effort_series.get(d) and effort_series[d].value)
    ]
    flags = list(
        QAFlag.objects.filter(
            Q(observation__area=area, observation__day__year=year)
            | Q(patrol__area=area, patrol__start__year=year)
        )
        .values("code")
        .annotate(n=Count("pk"))
        .order_by("-n", "code")
    )
    cells = _cells(area, year)
    return {
        "area": area,
        "year": year,
        "cells_shaded": bool(cells),
        "made_at": timezone.now(),
        "currency": currency,
        "cards": cards,
        "map_svg": charts.area_map(
            _rings(area.boundary_simplified or area.boundary),
            [(z.name, _rings(z.boundary)) for z in Zone.objects.filter(area=area).order_by("name")],
            cells,
        ),
        "effort_svg": effort_svg,
        "rate_svg": rate_svg,
        "rate_series": rate_series,
        "mett_svg": mett_svg,
        "mett_rows": mett_rows,
        "mett_previous": previous_year,
        "mett_total": value("mett.percent"),
        "mett_previous_total": previous_total,
        "finance_svg": finance_svg,
        "spending": spending,
        "gap_rows": gap_rows,
        "effort_km": value("effort.km"),
        "leg_days": value("effort.leg_days"),
        "no_effort_months": no_effort,
        "qa_flags": [(QAFlag(code=f["code"]).get_code_display(), f["n"]) for f in flags],
        "qa_total": sum(f["n"] for f in flags),
        "trend_first": first,
        "has_data": any(y == year for (_, _, y) in yearly),
    }


def _num(v: IndicatorRow | None) -> float | None:
    return v.numerator if v is not None else None


def _den(v: IndicatorRow | None) -> float | None:
    return v.denominator if v is not None else None


def _previous_mett(
    yearly: dict[tuple[str, str, int], IndicatorRow], year: int
) -> tuple[int | None, float | None]:
    """The latest METT assessment before `year` within the years read, and its score."""
    earlier = sorted(
        (y for (i, s, y) in yearly if i == "mett.percent" and s == "" and y < year), reverse=True
    )
    if not earlier:
        return None, None
    return earlier[0], yearly[("mett.percent", "", earlier[0])].value


def render(area: ProtectedArea, year: int) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, only needed for PDFs

    html = render_to_string("reports/donor_report.html", context(area, year))
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
