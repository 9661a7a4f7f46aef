"""Publish an XLSForm or XForm, with its media files:

    manage.py publish_form PATH [--media FILE ...] [--draft] [--area ID ...] [--no-validate]

Prints the form id and version; with --draft, the URL to test the draft with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fieldkit.errors import Problem
from odk_forms import publishing


class Command(BaseCommand):
    help = "Publish an XLSForm (.xlsx/.xls/.csv/.md) or XForm (.xml) with its media files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--media", nargs="+", type=Path, default=[], metavar="FILE")
        parser.add_argument("--draft", action="store_true", help="Stage as a draft to test first.")
        parser.add_argument(
            "--area", nargs="+", type=int, default=[], metavar="ID", help="Protected areas that use it."
        )
        parser.add_argument("--no-validate", action="store_true", help="Skip ODK Validate (no Java here).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        media = []
        for media_path in options["media"]:
            if not media_path.is_file():
                raise CommandError(f"{media_path}: no such file")
            media.append(publishing.MediaUpload(media_path.name, media_path.read_bytes()))
        try:
            version = publishing.publish_form_version(
                path.name,
                path.read_bytes(),
                media=media,
                draft=options["draft"],
                area_ids=options["area"],
                validate=False if options["no_validate"] else None,
            )
        except Problem as problem:
            raise CommandError(f"{problem.message} [{problem.code}]") from problem
        form = version.form
        label = "draft" if version.is_draft else "published"
        self.stdout.write(f"{form.xml_form_id} {version.version or '(no version)'} {label}")
        for warning in version.warnings:
            self.stderr.write(f"warning: {warning}")
        missing = sorted(set(version.media_names) - set(version.media_files.values_list("name", flat=True)))
        if missing:
            self.stderr.write(f"warning: media not uploaded yet: {', '.join(missing)}")
        if version.is_draft:
            self.stdout.write(
                f"test it in ODK Collect with server {settings.SITE_URL}/test/{version.draft_token}"
            )
        if not form.areas.exists():
            self.stderr.write(
                "warning: the form is in no protected area yet, so no collector sees it (--area)"
            )
