from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import services
from fieldkit.errors import Problem


class Command(BaseCommand):
    help = (
        "Create a data collector for one or more protected areas. Prints the server URL to "
        "type into ODK Collect and writes a Collect settings QR code (PNG)."
    )
    # Like createsuperuser: tests hand the password in through call_command(stdin=...).
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="username of the collector")
        parser.add_argument(
            "--area",
            dest="areas",
            type=int,
            action="append",
            required=True,
            metavar="ID",
            help="id of a protected area the collector sends data to; repeat for several",
        )
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument(
            "--password",
            help="also let the collector sign in with this password (it shows in the shell history)",
        )
        secret.add_argument(
            "--password-stdin", action="store_true", help="read that password from standard input"
        )
        parser.add_argument(
            "--qr", metavar="PATH", help="where to write the QR code (default: NAME-collect.png)"
        )
        parser.add_argument("--label", default="", help="which phone or team, e.g. 'Tablet 3'")
        parser.add_argument(
            "--server-url", default=settings.SITE_URL, help="public base URL (default: SITE_URL)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["name"]
        password: str | None = options["password"]
        if options["password_stdin"]:
            password = (options.get("stdin") or sys.stdin).readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
        server_url = options["server_url"].rstrip("/")
        qr_path = Path(options["qr"] or f"{name}-collect.png").resolve()
        if not qr_path.parent.is_dir():
            raise CommandError(f"{qr_path.parent}: no such directory for the QR code.")

        # One transaction: if anything fails, even writing the QR code, nobody is created.
        try:
            with transaction.atomic():
                user, token = services.create_collector(name, options["areas"], password, options["label"])
                collect = services.collect_settings(user, token, server_url)
                services.settings_qr_png(collect, qr_path)
        except Problem as problem:
            raise CommandError(str(problem)) from None
        except OSError as exc:
            message = f"{qr_path}: cannot write the QR code ({exc.strerror}); nothing created."
            raise CommandError(message) from None

        areas = ", ".join(
            f"{membership.area.name} (#{membership.area_id})"
            for membership in user.area_memberships.select_related("area").order_by("area__name")
            if membership.area is not None
        )
        self.stdout.write(f"Created collector {name!r} for: {areas}.")
        self.stdout.write("Server URL to type into ODK Collect (no username or password needed):")
        self.stdout.write(f"  {collect['general']['server_url']}")
        if password is not None:
            self.stdout.write(
                f"Or sign in with a password: server URL {server_url}, username {name}, "
                "and the password given."
            )
        self.stdout.write(f"Collect settings QR code: {qr_path}")
        self.stdout.write("  (in ODK Collect: Add project > Configure with QR code)")
        if not server_url.startswith("https://"):
            self.stderr.write(
                f"Warning: {server_url} is not https; the collector link and the data travel unencrypted."
            )
