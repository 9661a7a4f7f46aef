from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from maps import context


class Command(BaseCommand):
    help = (
        "Load a polygon file (Shapefile, GeoPackage, GeoJSON…) as a context layer drawn under "
        "the protected areas on the overview map, replacing that layer. For Papua New Guinea's "
        "provinces: load_context_boundaries ../shared/data/boundaries/png_adm1_ocha "
        "--source 'OCHA COD-AB 2018 (humanitarian use)'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--layer", default="provinces")
        parser.add_argument("--name-field", default="ADM1_EN")
        parser.add_argument("--code-field", default="ADM1_PCODE")
        parser.add_argument("--source", default="", help="where the data comes from, and its licence")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        try:
            found = context.read_boundaries(path, options["name_field"], options["code_field"])
        except AttributeError as exc:
            raise CommandError(f"{path} has no such field: {exc}") from exc
        written = context.load_boundaries(options["layer"], found, options["source"] or path.name)
        self.stdout.write(f"{written} boundaries in the layer {options['layer']!r}")
