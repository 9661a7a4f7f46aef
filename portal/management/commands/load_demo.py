from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from accounts.models import AreaMembership, Role, User
from indicators import incremental
from protected_areas.demo import demo_areas, load_demo_areas
from protected_areas.importers import format_report

DEMO_USERS = [
    # (username, role); the first one is also a superuser for the admin.
    ("admin", Role.MANAGER),
    ("ranger", Role.COLLECTOR),
    ("donor", Role.VIEWER),
    ("officer", Role.LAW_ENFORCEMENT),
]


class Command(BaseCommand):
    help = (
        "Load the demo data set: protected areas with zones, demo users and three years of field "
        "data sent through the submission path. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-records", action="store_true", help="areas and users only, without field data"
        )
        parser.add_argument("--year", type=int, help="last year of the field data (default: last year)")
        parser.add_argument("--years", type=int, default=3, help="how many years of field data (default: 3)")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.getenv("DEMO_PASSWORD", "fieldkit-demo")
        with transaction.atomic():
            report, zones = load_demo_areas()
            for line in format_report(report):
                self.stdout.write(line)
            self.stdout.write(f"{zones} zones created or updated")
            created_users = self.demo_users(password)
        if created_users:
            self.stdout.write(
                f"Demo users {', '.join(created_users)} have the password {password!r} "
                "(set DEMO_PASSWORD to choose another)."
            )
        if not options.get("no_records"):
            self.demo_records(options.get("year"), options.get("years") or 3)

    def demo_records(self, year: int | None, years: int) -> None:
        """Years of patrols, incidents, surveys, resource use, METT and budgets, sent by the
        ranger through the OpenRosa submission path (portal.demo)."""
        from portal.demo import load_demo_records, load_demo_taxa

        load_demo_taxa()
        with demo_loading():
            report = load_demo_records(User.objects.get(username="ranger"), year=year, years=years)
        began = time.perf_counter()
        updated = incremental.update()
        took = time.perf_counter() - began
        self.stdout.write(f"Indicators of {updated} area-months computed ({took:.1f} s)")
        forms = ", ".join(f"{stem} {count}" for stem, count in sorted(report.by_form.items()))
        self.stdout.write(f"{report.sent} field submissions sent, {report.new} new ({forms})")
        from portal.demo_cases import load_demo_cases

        began = time.perf_counter()
        cases = load_demo_cases(User.objects.get(username="officer"), User.objects.get(username="admin"))
        self.stdout.write(f"{cases} demo cases opened ({time.perf_counter() - began:.1f} s)")

    def demo_users(self, password: str) -> list[str]:
        created = []
        areas = list(demo_areas())
        for index, (username, role) in enumerate(DEMO_USERS):
            user, was_created = User.objects.get_or_create(username=username)
            if was_created:
                user.is_staff = user.is_superuser = index == 0
                user.set_password(password)
                user.save()
                created.append(username)
            for area in areas:
                AreaMembership.objects.get_or_create(user=user, area=area, defaults={"role": role})
        return created


@contextmanager
def demo_loading() -> Iterator[None]:
    """What loading a few thousand demo submissions needs, for as long as it lasts, then
    restored (the process may go on, as tests do):

    - each submission processed as it is sent, in this process: a background thread would
      only compete with the sending for the database (one writer on SpatiaLite);
    - no fsync of the received files: the demo is generated again from its seed, and
      syncing each of them costs most of the run on a slow disk;
    - on SpatiaLite, `synchronous = NORMAL`: the database is synced at checkpoints rather
      than at every commit (a pragma that cannot change inside a transaction);
    - indicators only marked dirty by each submission: they are computed once, at the end.
    """
    names = ("ODK_FORMS_BACKGROUND_PROCESSING", "ODK_FORMS_FSYNC", "INDICATORS_UPDATE_AFTER_SUBMISSION")
    saved = {name: getattr(settings, name) for name in names}
    synchronous = None
    try:
        settings.ODK_FORMS_BACKGROUND_PROCESSING = False
        settings.ODK_FORMS_FSYNC = False
        settings.INDICATORS_UPDATE_AFTER_SUBMISSION = False
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous")
                synchronous = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous = NORMAL")
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
        if synchronous is not None and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")
