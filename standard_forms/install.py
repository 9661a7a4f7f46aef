"""Publishing the standard forms fieldkit ships (standard_forms/*.xlsx) for a set of areas: what an
agency runs on day one, and again after updating fieldkit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import standard_forms as standard
from odk_forms import publishing, queries
from odk_forms.models import Form, FormVersion
from protected_areas.models import ProtectedArea


@dataclass(frozen=True)
class Installed:
    stem: str
    version: FormVersion
    # "published" (new form), "updated" (new version), "current" (already there).
    status: str


def areas_media(areas: Iterable[ProtectedArea]) -> bytes:
    """areas.csv: the list the METT, budget and incident forms choose an area from."""
    return standard.areas_csv(
        (standard.area_code(wdpa_id=a.wdpa_id, source=a.source, source_id=a.source_id), a.name) for a in areas
    )


def areas_media_for(version: FormVersion, user: Any) -> bytes:
    """areas.csv as `user` downloads it (settings.ODK_FORMS_USER_MEDIA): the areas of the
    form where the user may send data, today, whatever the file published with the version
    listed. Records naming any other area are refused by processing anyway."""
    areas = queries.areas_for_submission(user, version.form).only("name", "wdpa_id", "source", "source_id")
    return areas_media(areas)


def install_standard_forms(areas: list[ProtectedArea], validate: bool | None = None) -> list[Installed]:
    """Publish each standard form for `areas`: a form not there yet is published, a form
    whose spreadsheet carries a newer version gets that version, and a current one only
    gains the areas. The areas.csv published with a version lists the form's areas; each
    user downloads it narrowed to the areas where they may send data (areas_media_for)."""
    taxa = (standard.MEDIA_DIR / "taxa.csv").read_bytes()
    installed = []
    for stem in standard.STANDARD_FORMS:
        content = standard.xlsx_path(stem).read_bytes()
        form_id = f"fieldkit_{stem}"
        form = Form.objects.filter(xml_form_id=form_id).select_related("current_version").first()
        current = form.current_version if form is not None else None
        if current is not None and current.version == _spreadsheet_version(stem):
            form.areas.add(*areas)  # type: ignore[union-attr]
            installed.append(Installed(stem, current, "current"))
            continue
        form_areas = {a.pk: a for a in areas}
        if form is not None:
            form_areas.update((a.pk, a) for a in form.areas.only("name", "wdpa_id", "source", "source_id"))
        media = [
            publishing.MediaUpload("taxa.csv", taxa),
            publishing.MediaUpload("areas.csv", areas_media(form_areas.values())),
        ]
        version = publishing.publish_form_version(
            f"{stem}.xlsx", content, media=media, area_ids=[a.id for a in areas], validate=validate
        )
        installed.append(Installed(stem, version, "published" if current is None else "updated"))
    return installed


def _spreadsheet_version(stem: str) -> str:
    """The version written in a standard form's settings sheet."""
    from openpyxl import load_workbook

    sheet = load_workbook(standard.xlsx_path(stem), read_only=True)["settings"]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(cell or "") for cell in rows[0]]
    return str(rows[1][header.index("version")])
