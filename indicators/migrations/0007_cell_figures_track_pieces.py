import django.db.models.deletion
from django.db import migrations, models

# Grid cells get a table of their own, one row per cell and period (CellFigure), which
# the view presents as the long rows readers read; the cells' rows leave
# indicators_indicatorvalue, and their months are marked dirty for the next update.
# TrackPiece keeps each TrackSegment's track cut by the grid.
#
# The view: every IndicatorValue; the area and zone encounter rates as migration 0002
# (ids −(row id × 8 + unit 1–3)); each CellFigure as up to fifteen rows, ids
# −(2^56 + CellFigure id × 16 + n): effort.km, effort.patrol_hours, effort.field_hours,
# effort.person_days and effort.leg_days where km was walked (n 0–4); cell.records where
# something was recorded, all verticals together and each (n 5–9); cpue.records.km where
# km was walked, for all records and for each vertical, 0 with its upper bound where
# nothing was seen (n 10–14).
Z95 = 1.959963984540054
UNITS = (("km", 10.0), ("field_hours", 100.0), ("person_days", 100.0))
VERTICALS = ("illicit", "resource_use", "biodiversity", "other")
CELL_IDS = 2**56
COLUMNS = (
    "id, area_id, zone_id, cell_id, period_kind, period_start, indicator, subject, "
    "value, numerator, denominator, lower, upper, effort"
)
N = "CAST(NULL AS double precision)"


def _lower(k: str) -> str:
    return f"{k} * power(1 - 1 / (9.0 * {k}) - {Z95} / (3 * sqrt({k})), 3)"


def _upper(k: str) -> str:
    return f"({k} + 1) * power(1 - 1 / (9.0 * ({k} + 1)) + {Z95} / (3 * sqrt({k} + 1)), 3)"


def _rate(numerator: str, unit: str, scale: float, n: int) -> str:
    k = "c.value"
    return f"""
    SELECT -(c.id * 8 + {n}), c.area_id, c.zone_id, c.cell_id, c.period_kind, c.period_start,
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


def _cell(n: int, indicator: str, subject: str, value: str, numerator: str, effort: str, where: str) -> str:
    return f"""
    SELECT -({CELL_IDS} + f.id * 16 + {n}), f.area_id, 0, f.cell_id, f.period_kind, f.period_start,
        '{indicator}', '{subject}', CAST({value} AS double precision),
        CAST({numerator} AS double precision), {N}, {N}, {N}, {effort}
    FROM indicators_cellfigure f WHERE {where}"""


def _cell_rate(n: int, subject: str, records: str) -> str:
    k = f"f.{records}"
    return f"""
    SELECT -({CELL_IDS} + f.id * 16 + {n}), f.area_id, 0, f.cell_id, f.period_kind, f.period_start,
        'cpue.records.km', '{subject}',
        {k} * 10.0 / f.km, CAST({k} AS double precision), f.km,
        COALESCE(b.lower, {_lower(k)}) * 10.0 / f.km,
        COALESCE(b.upper, {_upper(k)}) * 10.0 / f.km,
        f.km
    FROM indicators_cellfigure f
    LEFT JOIN indicators_poissonbound b ON b.k = {k}
    WHERE f.km > 0"""


def _cells() -> list[str]:
    effort = [
        ("effort.km", "km"),
        ("effort.patrol_hours", "patrol_hours"),
        ("effort.field_hours", "field_hours"),
        ("effort.person_days", "person_days"),
        ("effort.leg_days", "leg_days"),
    ]
    subjects = [("", "records"), *((f"vertical:{v}", f"records_{v}") for v in VERTICALS)]
    return [
        *(_cell(n, code, "", f"f.{col}", f"f.{col}", f"f.{col}", "f.km > 0") for n, (code, col) in enumerate(effort)),
        *(
            _cell(n, "cell.records", subject, f"f.{col}", f"f.{col}", N, f"f.{col} > 0")
            for n, (subject, col) in enumerate(subjects, start=5)
        ),
        *(_cell_rate(n, subject, col) for n, (subject, col) in enumerate(subjects, start=10)),
    ]


def view() -> str:
    parts = [
        *(
            _rate(numerator, unit, scale, n)
            for numerator in ("records", "individuals")
            for n, (unit, scale) in enumerate(UNITS, start=1)
        ),
        *_cells(),
    ]
    return (
        f"CREATE VIEW indicators_indicatorrow ({COLUMNS}) AS"
        f" SELECT {COLUMNS} FROM indicators_indicatorvalue"
        + "".join(" UNION ALL" + part for part in parts)
    )


DROP = "DROP VIEW indicators_indicatorrow"


def _old_view() -> str:
    # The view as migration 0003 left it, for going back.
    from importlib import import_module

    return import_module("indicators.migrations.0003_cell_rates_derived_when_read").view(8, cells=True)


class Migration(migrations.Migration):

    dependencies = [
        ("indicators", "0006_swath_fingerprints"),
        ("observations", "0005_sensitivity_rules"),
        ("protected_areas", "0001_protected_areas_and_zones"),
    ]

    operations = [
        migrations.CreateModel(
            name="TrackPiece",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cell_id", models.IntegerField()),
                ("km", models.FloatField()),
                (
                    "segment",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="observations.tracksegment",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="CellFigure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cell_id", models.IntegerField()),
                (
                    "period_kind",
                    models.CharField(choices=[("M", "Month"), ("Q", "Quarter"), ("Y", "Year")], max_length=1),
                ),
                ("period_start", models.DateField()),
                ("km", models.FloatField(null=True)),
                ("patrol_hours", models.FloatField(null=True)),
                ("field_hours", models.FloatField(null=True)),
                ("person_days", models.FloatField(null=True)),
                ("leg_days", models.IntegerField(null=True)),
                ("records", models.IntegerField(default=0)),
                ("records_illicit", models.IntegerField(default=0)),
                ("records_resource_use", models.IntegerField(default=0)),
                ("records_biodiversity", models.IntegerField(default=0)),
                ("records_other", models.IntegerField(default=0)),
                (
                    "area",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="protected_areas.protectedarea",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("area", "period_kind", "period_start", "cell_id"), name="cellfigure_unique_key"
                    ),
                    models.CheckConstraint(condition=models.Q(("cell_id__gt", 0)), name="cellfigure_has_cell"),
                ],
            },
        ),
        migrations.RunSQL(DROP, _old_view()),
        # Every month with values is marked dirty, so that the next update writes the cells'
        # figures into their table; then their old rows go.
        migrations.RunSQL(
            "INSERT INTO indicators_dirtykey (area_id, month, generation)"
            " SELECT DISTINCT area_id, period_start, 1 FROM indicators_indicatorvalue"
            " WHERE period_kind = 'M' AND cell_id <> 0",
            migrations.RunSQL.noop,
        ),
        migrations.RunSQL("DELETE FROM indicators_indicatorvalue WHERE cell_id <> 0", migrations.RunSQL.noop),
        migrations.RunSQL(view(), DROP),
    ]
