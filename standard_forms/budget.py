"""Budget and spending return: for one protected area and one fiscal year, the money
received by source, the money spent by category, the staff, and the funding needed for
basic and for optimal management (the figures of part I of UNDP's Financial
Sustainability Scorecard, and the evidence for METT questions 13, 15 and 16).

Filled once a year by the area's manager or the agency's finance officer, in English.
"""

from __future__ import annotations

from observations.vocabulary import BUDGET_INCOME, BUDGET_SPEND

from .common import AREAS_FILE, NAMESPACES
from .xlsform import ENGLISH_ONLY, Form, Row, choices, group, q

INCOME = {
    "government": ("Government allocation", "National and provincial government funds for this area."),
    "donor": (
        "Donors and projects",
        "Grants from donors, NGOs and projects (e.g. GEF, UNDP), received this year.",
    ),
    "own_revenue": (
        "Own revenue",
        "Entry fees, permits, fines, concessions and other income the area earns.",
    ),
    "other": ("Other income", "Anything else, e.g. company or landowner contributions."),
}
SPEND = {
    "staff": ("Staff", "Salaries, allowances and benefits of everyone working for the area."),
    "patrol_operations": ("Patrol operations", "Ranger rations, fuel, transport and field allowances."),
    "equipment": ("Equipment", "Purchase and maintenance of GPS, phones, boats, vehicles, uniforms."),
    "community": ("Community programmes", "Awareness, benefit sharing, livelihood and landowner programmes."),
    "infrastructure": ("Infrastructure", "Stations, huts, roads, boundary markers, visitor facilities."),
    "other": ("Other spending", "Administration, training, research and anything else."),
}
if tuple(INCOME) != BUDGET_INCOME or tuple(SPEND) != BUDGET_SPEND:
    raise ValueError("budget lines must match observations.vocabulary.BUDGET_INCOME and BUDGET_SPEND")

_MONEY = dict(
    constraint=". >= 0 and . < 1000000000", constraint_message="A positive amount, in the currency above."
)


def _money(prefix: str, items: dict[str, tuple[str, str]]) -> list[Row]:
    return [
        q("decimal", f"{prefix}_{key}", label, hint=hint, to=f"budget.{prefix}.{key}", **_MONEY)
        for key, (label, hint) in items.items()
    ]


def _planned(prefix: str, items: dict[str, tuple[str, str]]) -> list[Row]:
    """What the year's budget planned for each line (BudgetLine.planned)."""
    return [
        q("decimal", f"planned_{prefix}_{key}", label, to=f"budget.{prefix}.{key}.planned", **_MONEY)
        for key, (label, _hint) in items.items()
    ]


def _total(name: str, prefix: str, items: dict[str, tuple[str, str]]) -> Row:
    return q("calculate", name, calculation=" + ".join(f"coalesce(${{{prefix}_{key}}}, 0)" for key in items))


FORM = Form(
    stem="budget",
    form_id="fieldkit_budget",
    title="Budget and spending return",
    version="2026120201",
    instance_name="concat('Budget ', instance('areas')/root/item[name = ${area}]/label, ' ', ${fiscal_year})",
    languages=ENGLISH_ONLY,
    namespaces=NAMESPACES,
    style="pages",
    survey=[
        q("start", "form_start"),
        q("end", "form_end"),
        *group(
            "return",
            "Area and year",
            [
                q(
                    f"select_one_from_file {AREAS_FILE}",
                    "area",
                    "Protected area",
                    required=True,
                    appearance="minimal",
                    to="budget.area",
                ),
                q(
                    "integer",
                    "fiscal_year",
                    "Fiscal year",
                    required=True,
                    hint="The year the fiscal year starts in (PNG's fiscal year is the calendar year).",
                    constraint=". >= 1990 and . <= number(format-date(today(), '%Y')) + 1",
                    constraint_message="A year from 1990 to next year.",
                    to="budget.fiscal_year",
                ),
                q(
                    "select_one currency",
                    "currency",
                    "Currency",
                    required=True,
                    default="PGK",
                    appearance="minimal",
                    to="budget.currency",
                ),
            ],
            appearance="field-list",
        ),
        *group(
            "planned",
            "Budget planned for the year",
            [
                q("note", "planned_note", "What the approved budget planned, by source and by category."),
                *_planned("income", INCOME),
                *_planned("spend", SPEND),
            ],
            appearance="field-list",
        ),
        *group(
            "income",
            "Budget received, by source",
            _money("income", INCOME),
            appearance="field-list",
        ),
        _total("income_total", "income", INCOME),
        *group(
            "spend",
            "Money spent, by category",
            [*_money("spend", SPEND)],
            appearance="field-list",
        ),
        _total("spend_total", "spend", SPEND),
        q(
            "note",
            "totals_note",
            "Received ${income_total} ${currency}; spent ${spend_total} ${currency}.",
        ),
        *group(
            "staffing",
            "Staff",
            [
                q(
                    "integer",
                    "staff_count",
                    "Staff working for the area",
                    required=True,
                    hint="Everyone paid to work for the area at the end of the year, full-time or not.",
                    constraint=". >= 0 and . <= 10000",
                    constraint_message="From 0 to 10000.",
                    to="budget.staff_count",
                ),
                q(
                    "integer",
                    "ranger_count",
                    "Of whom rangers",
                    required=True,
                    hint="Rangers and community rangers who patrol.",
                    constraint=". >= 0 and . <= ${staff_count}",
                    constraint_message="Not more than the staff.",
                    to="budget.ranger_count",
                ),
            ],
            appearance="field-list",
        ),
        *group(
            "needs",
            "Funding needed per year",
            [
                q(
                    "decimal",
                    "need_basic",
                    "For basic management",
                    required=True,
                    hint="The yearly cost of the minimum needed to protect the area's values: core staff, "
                    "patrols, equipment upkeep.",
                    to="budget.need.basic",
                    **_MONEY,
                ),
                q(
                    "decimal",
                    "need_optimal",
                    "For optimal management",
                    required=True,
                    hint="The yearly cost of meeting all the management plan's objectives.",
                    constraint=". >= ${need_basic}",
                    constraint_message="At least the funding needed for basic management.",
                    to="budget.need.optimal",
                ),
                q(
                    "note",
                    "gap_note",
                    "Gap against what was received: ${gap_basic} ${currency} for basic management, "
                    "${gap_optimal} ${currency} for optimal management.",
                ),
            ],
            appearance="field-list",
        ),
        q("calculate", "gap_basic", calculation="coalesce(${need_basic}, 0) - ${income_total}"),
        q("calculate", "gap_optimal", calculation="coalesce(${need_optimal}, 0) - ${income_total}"),
        q(
            "text",
            "notes",
            "Notes",
            hint="Donor names, delays in funds, anything that explains the figures.",
            appearance="multiline",
            to="budget.notes",
        ),
    ],
    choices=choices(
        "currency",
        [
            ("PGK", "Papua New Guinea kina (PGK)"),
            ("USD", "US dollar (USD)"),
            ("AUD", "Australian dollar (AUD)"),
            ("EUR", "Euro (EUR)"),
        ],
    ),
)
