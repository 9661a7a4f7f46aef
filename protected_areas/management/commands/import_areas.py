from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fieldkit.errors import Problem
from protected_areas.importers import format_report, import_areas


class Command(BaseCommand):
    help = (
        "Import protected-area boundaries (WDPA classic or 2025+ schema, or any polygon layer "
        "with --id-field/--name-field) from a Shapefile, zipped Shapefile, GeoPackage, GeoJSON "
        "or KML. Upserts by source id: a re-import changes nothing, an updated file updates "
        "in place. The whole file is imported or nothing is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--layer", help="layer to read when the file has several")
        parser.add_argument("--id-field", help="field holding a stable id of each area")
        parser.add_argument("--name-field", help="field holding the area's name")
        parser.add_argument(
            "--source", help="dataset name that scopes the ids (default: wdpa, or the layer name)"
        )
        parser.add_argument("--source-crs", help="CRS to assume, e.g. EPSG:32755, if the file has none")
        parser.add_argument("--dry-run", action="store_true", help="report what would change")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = import_areas(
                options["path"],
                layer=options["layer"],
                id_field=options["id_field"],
                name_field=options["name_field"],
                source=options["source"],
                source_crs=options["source_crs"],
                dry_run=options["dry_run"],
            )
        except Problem as problem:
            raise CommandError(f"{problem.message} Nothing was imported.") from problem
        for line in format_report(report):
            self.stdout.write(line)
