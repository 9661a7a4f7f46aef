from django.db import migrations, models
import django.db.models.deletion

# The gridded encounter rate cpue.records.km is derived when read too (it was stored by
# indicators.coverage): a row for every grid cell with km walked in the period
# (effort.km > 0), for all records (subject "") and for each vertical, records per 10 km
# with Garwood's 95 % bounds scaled alike; 0 with its upper bound where nothing was seen.
# Ids: −(row id × 8 + n), n 1–3 the area rates' effort unit, n 0 and 4–7 a cell rate's
# subject (−(effort.km row id × 8 + n)).
#
# IndicatorValue.area loses its database constraint: the values are derived rows written
# only by indicators.compute from existing areas, and a deferred check of every one of
# millions of rows at commit cost a tenth of a full computation. Deleting an area still
# deletes its values (on_delete=CASCADE, done by Django).
Z95 = 1.959963984540054
UNITS = (("km", 10.0), ("field_hours", 100.0), ("person_days", 100.0))
VERTICALS = ("illicit", "resource_use", "biodiversity", "other")
COLUMNS = (
    "id, area_id, zone_id, cell_id, period_kind, period_start, indicator, subject, "
    "value, numerator, denominator, lower, upper, effort"
)


def _lower(k: str) -> str:
    return f"{k} * power(1 - 1 / (9.0 * {k}) - {Z95} / (3 * sqrt({k})), 3)"


def _upper(k: str) -> str:
    return f"({k} + 1) * power(1 - 1 / (9.0 * ({k} + 1)) + {Z95} / (3 * sqrt({k} + 1)), 3)"


def _rate(numerator: str, unit: str, scale: float, n: int, ids: int) -> str:
    k = "c.value"
    return f"""
    SELECT -(c.id * {ids} + {n}), c.area_id, c.zone_id, c.cell_id, c.period_kind, c.period_start,
        'cpue.{numerator}.{unit}', c.subject,
        CASE WHEN e.value > 0 THEN {k} * {scale} / e.value END, {k}, NULLIF(e.value, 0),
        CASE WHEN e.value > 0 THEN COALESCE(b.lower, {_lower(k)}) * {scale} / e.value END,
        CASE WHEN e.value > 0 THEN COALESCE(b.upper, {_upper(k)}) * {scale} / e.value END,
        NULLIF(e.value, 0)
    FROM indicators_indicatorvalue c
    LEFT JOIN indicators_indicatorvalue e ON e.area_id = c.area_id AND e.period_kind = c.period_kind
        AND e.period_start = c.period_start AND e.zone_id = c.zone_id AND e.cell_id = 0
        AND e.indicator = 'effort.{unit}' AND e.subject = ''
    LEFT JOIN indicators_poissonbound b ON b.k = CAST({k} AS integer)
    WHERE c.indicator = 'count.{numerator}' AND c.cell_id = 0"""


def _cell_rate() -> str:
    k = "COALESCE(r.value, 0)"
    subjects = " UNION ALL ".join(
        ["SELECT '' AS subject, 0 AS n", *(f"SELECT 'vertical:{v}', {i}" for i, v in enumerate(VERTICALS, 4))]
    )
    return f"""
    SELECT -(e.id * 8 + sj.n), e.area_id, e.zone_id, e.cell_id, e.period_kind, e.period_start,
        'cpue.records.km', sj.subject,
        {k} * 10.0 / e.value, {k}, e.value,
        COALESCE(b.lower, {_lower(k)}) * 10.0 / e.value,
        COALESCE(b.upper, {_upper(k)}) * 10.0 / e.value,
        e.value
    FROM indicators_indicatorvalue e
    CROSS JOIN ({subjects}) sj
    LEFT JOIN indicators_indicatorvalue r ON r.area_id = e.area_id AND r.period_kind = e.period_kind
        AND r.period_start = e.period_start AND r.zone_id = 0 AND r.cell_id = e.cell_id
        AND r.indicator = 'cell.records' AND r.subject = sj.subject
    LEFT JOIN indicators_poissonbound b ON b.k = CAST({k} AS integer)
    WHERE e.indicator = 'effort.km' AND e.cell_id <> 0 AND e.zone_id = 0 AND e.subject = ''
        AND e.value > 0"""


def view(ids: int, cells: bool) -> str:
    return (
        f"CREATE VIEW indicators_indicatorrow ({COLUMNS}) AS"
        f" SELECT {COLUMNS} FROM indicators_indicatorvalue"
        + "".join(
            " UNION ALL" + _rate(numerator, unit, scale, n, ids)
            for numerator in ("records", "individuals")
            for n, (unit, scale) in enumerate(UNITS, start=1)
        )
        + (" UNION ALL" + _cell_rate() if cells else "")
    )


DROP = "DROP VIEW indicators_indicatorrow"


class Migration(migrations.Migration):

    dependencies = [
        ("indicators", "0002_rates_derived_when_read"),
    ]

    operations = [
        # SQLite remakes the table for the AlterField, which a view on it would prevent.
        migrations.RunSQL(DROP, view(4, cells=False)),
        migrations.AlterField(
            model_name="indicatorvalue",
            name="area",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="protected_areas.protectedarea",
            ),
        ),
        migrations.RunSQL(view(8, cells=True), DROP),
    ]
