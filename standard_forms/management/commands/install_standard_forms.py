from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from fieldkit.errors import Problem
from protected_areas.models import ProtectedArea
from standard_forms.install import install_standard_forms


class Command(BaseCommand):
    help = (
        "Publish the standard forms (patrol, incident, species, resource use, METT, budget) for "
        "protected areas: new forms are published, newer spreadsheet versions replace older "
        "ones, current ones gain the areas. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # "extend": `--area 1 --area 2` and `--area 1 2` both mean areas 1 and 2.
        parser.add_argument(
            "--area", type=int, nargs="+", action="extend", metavar="ID", help="area ids (default: all)"
        )
        parser.add_argument("--no-validate", action="store_true", help="skip ODK Validate (no Java)")

    def handle(self, *args: Any, **options: Any) -> None:
        areas = ProtectedArea.objects.all()
        if options["area"]:
            areas = areas.filter(pk__in=options["area"])
            missing = set(options["area"]) - set(areas.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No protected area with id {', '.join(map(str, sorted(missing)))}.")
        area_list = list(areas)
        if not area_list:
            raise CommandError("There are no protected areas yet: import them first (import_areas).")
        try:
            with transaction.atomic():
                installed = install_standard_forms(
                    area_list, validate=False if options["no_validate"] else None
                )
        except Problem as problem:
            raise CommandError(problem.message) from problem
        for item in installed:
            self.stdout.write(
                f"{item.version.form.xml_form_id} version {item.version.version}: {item.status}"
            )
        self.stdout.write(f"for {len(area_list)} area(s)")
