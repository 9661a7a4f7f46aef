"""The case file for a prosecutor: one ZIP, streamed as it is written (exhibits can be large),
holding

    summary.pdf         timeline, map, linked records, exhibit register, custody log, people
    exhibits/…          the exhibit files, named by the exhibit's identifier
    submissions/…       the raw submissions (XML and files) the linked records came from
    ledger.jsonl        an unbroken run of the evidence ledger, from the case's first entry
                        (or the receipt of its oldest submission) to the head
    HOW-TO-VERIFY.txt   how to check all of it with common tools
    MANIFEST.sha256     the SHA-256 of every other file, for `sha256sum -c`
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from enforcement import evidence, ledger, permissions, svgmap
from enforcement.models import Case, LedgerEntry, PersonOfInterest
from fieldkit.streams import ZipPipe
from odk_forms import xform
from odk_forms.models import Attachment, Submission

CHUNK = 1 << 20


@dataclass
class _Member:
    name: str
    sha256: str


def case_file(request: Any, case: Case) -> Iterator[bytes]:
    """The ZIP's bytes, chunk by chunk. Personal data goes in only for those who may read it,
    and its export is recorded in the access audit."""
    user = request.user
    now = timezone.now()
    pipe = ZipPipe()
    members: list[_Member] = []
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:

        def put_bytes(name: str, data: bytes) -> None:
            archive.writestr(name, data)
            members.append(_Member(name, hashlib.sha256(data).hexdigest()))

        def put_file(name: str, storage_name: str) -> Iterator[bytes]:
            digest = hashlib.sha256()
            path = Path(settings.MEDIA_ROOT) / storage_name
            with path.open("rb") as source, archive.open(name, "w") as target:
                while block := source.read(CHUNK):
                    digest.update(block)
                    target.write(block)
                    yield pipe.take()
            members.append(_Member(name, digest.hexdigest()))

        records = list(permissions.linked_records_for(user, case).select_related("category", "submission"))
        submissions = {r.submission_id: r.submission for r in records}
        exhibits = list(case.exhibits.prefetch_related("custody"))
        for exhibit in exhibits:
            if exhibit.file:
                yield from put_file(_exhibit_name(exhibit), exhibit.file.name)
        attachments = list(Attachment.objects.filter(submission_id__in=submissions))
        for submission in submissions.values():
            yield from put_file(_submission_name(submission), submission.xml_file.name)
        for n, attachment in enumerate(attachments, 1):
            folder = _submission_name(submissions[attachment.submission_id]).removesuffix(".xml")
            safe = xform.sanitize_filename(xform.basename(attachment.name)) or "file"
            yield from put_file(f"{folder}/{n}-{safe}", attachment.file.name)

        parties = list(case.parties.select_related("person"))
        personal = permissions.may_read_personal_data(user, case.area_id)
        if personal:
            for party in parties:
                shown = [f for f in PersonOfInterest.PERSONAL_FIELDS if getattr(party.person, f)]
                permissions.record_personal_access(request, party.person, shown, case.area_id, export=True)

        hashes = {s.xml_sha256 for s in submissions.values()} | {a.sha256 for a in attachments if a.sha256}
        subjects = [case.subject, *(e.subject for e in exhibits), *(p.person.subject for p in parties)]
        head = evidence.current_head()
        first = (
            LedgerEntry.objects.filter(Q(subject__in=subjects) | Q(content_hash__in=hashes))
            .order_by("sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        lines = []
        first_entry = last_entry = None
        if first is not None:
            for entry in evidence.entries("sequence", after=first - 1, upto=head.sequence):
                lines.append(ledger.entry_json(entry) + "\n")
                first_entry = first_entry or entry
                last_entry = entry
        put_bytes("ledger.jsonl", "".join(lines).encode("utf-8"))
        yield pipe.take()

        points = [
            (
                r.location.x,
                r.location.y,
                f"{r.category.label_en} {r.time:%Y-%m-%d %H:%M}" if r.time else r.category.label_en,
            )
            for r in records
            if r.location is not None and permissions.may_see_exact_locations(user, case.area_id)
        ]
        boundary = case.area.boundary_simplified or case.area.boundary
        rings = [list(polygon[0].coords) for polygon in boundary]
        html = render_to_string(
            "enforcement/case_file.html",
            {
                "case": case,
                "now": now,
                "map_svg": svgmap.svg_map(rings, points),
                "records": records,
                "history": case.status_changes.select_related("by"),
                "notes": case.notes.select_related("author"),
                "exhibits": exhibits,
                "exhibit_names": {e.pk: _exhibit_name(e) for e in exhibits if e.file},
                "parties": parties,
                "personal": personal,
                "head": head,
            },
        )
        put_bytes("summary.pdf", render_pdf(html))
        yield pipe.take()
        put_bytes(
            "HOW-TO-VERIFY.txt",
            ledger.how_to_verify_text(
                first=first_entry.head if first_entry else None, last=last_entry.head if last_entry else None
            ).encode("utf-8"),
        )
        manifest = ledger.manifest_text((m.name, m.sha256) for m in members)
        archive.writestr("MANIFEST.sha256", manifest.encode("utf-8"))
    yield pipe.take()


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, only needed for case files

    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def _exhibit_name(exhibit: Any) -> str:
    suffix = exhibit.file.name.rpartition("/")[2].partition(".")
    return f"exhibits/{exhibit.uuid}{'.' + suffix[2] if suffix[1] else ''}"


def _submission_name(submission: Submission) -> str:
    return f"submissions/{submission.pk}.xml"


def file_name(case: Case) -> str:
    return f"case-{case.uuid}.zip"
