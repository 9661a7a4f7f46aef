from importlib import import_module

from django.db import migrations

# On PostgreSQL, the code columns the computations sort and index by (period kind,
# indicator, subject) compare bytes (COLLATE "C") instead of going through the database's
# locale: the unique keys of IndicatorValue and CellFigure are filled several times faster.
# Their values are ASCII codes, whose byte order is the order of any UTF-8 locale's code
# points. SQLite compares bytes already. The view reads these columns: it is made again.
COLUMNS = {
    "indicators_indicatorvalue": (("period_kind", 1), ("indicator", 48), ("subject", 160)),
    "indicators_cellfigure": (("period_kind", 1),),
}
VIEW = import_module("indicators.migrations.0007_cell_figures_track_pieces")


def _alter(collation: str):
    def alter(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(VIEW.DROP)
        for table, columns in COLUMNS.items():
            changes = ", ".join(
                f"ALTER COLUMN {name} TYPE varchar({length}) COLLATE {collation}" for name, length in columns
            )
            schema_editor.execute(f"ALTER TABLE {table} {changes}")
        schema_editor.execute(VIEW.view())

    return alter


class Migration(migrations.Migration):

    dependencies = [
        ("indicators", "0008_period_swaths"),
    ]

    operations = [migrations.RunPython(_alter('"C"'), _alter('"default"'))]
