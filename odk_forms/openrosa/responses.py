"""The OpenRosa wire formats, in one place: form list, manifest, and OpenRosaResponse.

Documents are written from templates rather than built as trees, so the output is the same
bytes for the same data: Enketo hashes the whole manifest, and a reordering alone would make
it download the media again. Every value goes through escape()/quoteattr().
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"


@dataclass(frozen=True)
class FormListEntry:
    form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None = None


@dataclass(frozen=True)
class ManifestEntry:
    filename: str
    md5: str
    download_url: str


def form_list(entries: Iterable[FormListEntry]) -> bytes:
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<xforms xmlns="{FORM_LIST_NS}">']
    for entry in entries:
        parts.append(
            "<xform>"
            f"<formID>{escape(entry.form_id)}</formID>"
            f"<name>{escape(entry.name or entry.form_id)}</name>"
            f"<version>{escape(entry.version)}</version>"
            f"<hash>md5:{entry.md5}</hash>"
            f"<downloadUrl>{escape(entry.download_url)}</downloadUrl>"
            + (f"<manifestUrl>{escape(entry.manifest_url)}</manifestUrl>" if entry.manifest_url else "")
            + "</xform>"
        )
    parts.append("</xforms>\n")
    return "".join(parts).encode("utf-8")


def manifest(entries: Iterable[ManifestEntry]) -> bytes:
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="{MANIFEST_NS}">']
    for entry in sorted(entries, key=lambda e: e.filename):
        parts.append(
            "<mediaFile>"
            f"<filename>{escape(entry.filename)}</filename>"
            f"<hash>md5:{entry.md5}</hash>"
            f"<downloadUrl>{escape(entry.download_url)}</downloadUrl>"
            "</mediaFile>"
        )
    parts.append("</manifest>\n")
    return "".join(parts).encode("utf-8")


def message(text: str, nature: str = "") -> bytes:
    """<OpenRosaResponse> with one message: ODK Collect shows the text to the user."""
    nature_attr = f' nature="{escape(nature)}"' if nature else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<OpenRosaResponse xmlns="{RESPONSE_NS}" items="0">'
        f"<message{nature_attr}>{escape(text)}</message></OpenRosaResponse>\n"
    ).encode()
