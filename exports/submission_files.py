"""The submissions of one form, over a range of its versions, as Central's CSV ZIP or as an
XLSX workbook: read from the database and storage in chunks, flattened by
exports.submissions, written as they are read.

Who may have them: raw submissions hold every answer, informants' names and exact points of
sensitive species among them, and accounts.access lists the submission file as personal data
(VIEW_PERSONAL_DATA). So the export goes only to whoever holds EXPORT, VIEW_PERSONAL_DATA
and VIEW_EXACT_SENSITIVE_LOCATIONS in every area of the form (a form of no area: national
roles and superusers); to anyone else the form is not found, as a record of an area one may
not see. SubmitterName is filled only for those who may read rangers' names there. Each
chunk of submissions is recorded in the audit (AccessEvent, action "export") before it
leaves.

Memory stays flat: submissions are read `CHUNK` at a time; in the ZIP, the main CSV is
streamed as it is made while repeat rows wait in temporary files, appended after it; media
files are copied block by block.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import IO, Any, cast

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts import access
from accounts.access import Capability
from accounts.models import AccessAction
from exports import submissions
from exports.submissions import Meta, Table
from fieldkit import errors
from fieldkit.streams import ZipPipe
from odk_forms import storage, xform
from odk_forms.models import Attachment, Form, FormVersion, ProcessingState, Submission

CHUNK = 1000
BLOCK = 1 << 20
# The personal field an exported submission discloses (accounts.access.PERSONAL_FIELDS).
DISCLOSED = "odk_forms.submission.xml_file"
REQUIRED = (Capability.EXPORT, Capability.VIEW_PERSONAL_DATA, Capability.VIEW_EXACT_SENSITIVE_LOCATIONS)


# --- Who, which form, which versions ---------------------------------------------------------


def _holds_in_all(user: Any, cap: Capability, area_ids: set[int]) -> bool:
    held = access.area_ids_with(user, cap)
    if held is None:
        return True
    return bool(area_ids) and area_ids <= held


def exportable_form(user: Any, form_id: int) -> Form:
    """The form, if `user` may export its raw submissions; else SUBMISSIONS_NOT_FOUND."""
    form = Form.objects.filter(pk=form_id).first()
    if form is not None:
        area_ids = set(form.areas.values_list("id", flat=True))
        if all(_holds_in_all(user, cap, area_ids) for cap in REQUIRED):
            return form
    raise errors.SUBMISSIONS_NOT_FOUND(form_id=form_id)


def chosen_versions(form: Form, text: str | None) -> list[FormVersion]:
    """The published versions `versions=` names, newest first: all of them when empty,
    `A..B` (from A to B in order of publication, either end open: `A..`, `..B`) or a
    comma-separated list `A,B`."""
    published = list(
        FormVersion.objects.filter(form=form, is_draft=False)
        .order_by(F("published_at").asc(nulls_first=True), "id")
        .only("id", "version", "xml", "published_at")
    )
    by_name = {v.version: v for v in published}
    text = (text or "").strip()
    if not published:
        raise errors.SUBMISSIONS_BAD_VERSIONS(detail="the form has no published version")
    if not text:
        chosen = published
    elif ".." in text:
        first, _, last = (part.strip() for part in text.partition(".."))
        for name in (first, last):
            if name and name not in by_name:
                raise errors.SUBMISSIONS_BAD_VERSIONS(detail=f"no version {name!r}")
        start = published.index(by_name[first]) if first else 0
        end = published.index(by_name[last]) if last else len(published) - 1
        if start > end:
            raise errors.SUBMISSIONS_BAD_VERSIONS(detail=f"{first!r} was published after {last!r}")
        chosen = published[start : end + 1]
    else:
        names = [name.strip() for name in text.split(",")]
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise errors.SUBMISSIONS_BAD_VERSIONS(detail=f"no version {unknown[0]!r}")
        chosen = [v for v in published if v.version in names]
    return list(reversed(chosen))


def flag(params: Any, name: str, default: bool = False) -> bool:
    text = (params.get(name) or ("true" if default else "false")).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise errors.SUBMISSIONS_BAD_PARAMETER(detail=f"{name} must be true or false")
    return text in ("true", "1", "yes")


@dataclass
class Export:
    """One export: the request (who asks, for the audit), the form, the versions and the
    table layout their XForms give."""

    request: Any
    form: Form
    versions: list[FormVersion]
    layout: list[Table]
    names_open: bool
    area_ids: list[int]

    @classmethod
    def of(
        cls,
        request: Any,
        form: Form,
        versions: list[FormVersion],
        split: bool = False,
        group_paths: bool = True,
    ) -> Export:
        tree = submissions.merge([submissions.form_tree(bytes(v.xml)) for v in versions])
        area_ids = sorted(form.areas.values_list("id", flat=True))
        names_open = _holds_in_all(request.user, Capability.VIEW_RANGER_NAMES, set(area_ids))
        layout = submissions.tables(tree, form.xml_form_id, split, group_paths)
        return cls(request, form, versions, layout, names_open, area_ids)

    def records(self) -> QuerySet[Submission]:
        """The current version of each record sent to the chosen versions (drafts' test
        records left out), oldest first."""
        return Submission.objects.filter(
            form=self.form, form_version__in=[v.pk for v in self.versions], is_draft=False, is_current=True
        )

    def rows(self) -> Iterator[list[tuple[Table, list[str]]]]:
        """The rows of the submissions, chunk by chunk; each chunk is recorded in the audit
        before it is given out."""
        present = (
            Attachment.objects.filter(submission=OuterRef("pk"), is_referenced=True)
            .exclude(name__endswith=".enc")
            .values("submission")
            .annotate(n=Count("pk"))
            .values("n")
        )
        edits = (
            Submission.objects.filter(root=OuterRef("root"))
            .values("root")
            .annotate(n=Count("pk"))
            .values("n")
        )
        records = (
            self.records()
            .annotate(
                first_received=Coalesce(F("root__received_at"), F("received_at")),
                n_present=Coalesce(Subquery(present), Value(0)),
                n_edits=Coalesce(Subquery(edits), Value(0)),
            )
            .order_by("received_at", "pk")
            .values_list(
                "pk",
                "instance_id",
                "first_received",
                "submitted_by_id",
                "submitted_by__username",
                "device_id",
                "form_version__version",
                "xml_file",
                "is_encrypted",
                "decrypted_xml",
                "state",
                "metadata",
                "n_present",
                "n_edits",
            )
            .iterator(chunk_size=CHUNK)
        )
        while chunk := list(islice(records, CHUNK)):
            out: list[tuple[Table, list[str]]] = []
            for record in chunk:
                out.extend(self._rows_of(record))
            seen = [(_Exported(record[0]), [DISCLOSED], area) for record in chunk for area in self._areas()]
            access.record_accesses(self.request, cast(Any, seen), action=AccessAction.EXPORT)
            yield out

    def _areas(self) -> list[int | None]:
        return list(self.area_ids) or [None]

    def _rows_of(self, record: tuple[Any, ...]) -> Iterator[tuple[Table, list[str]]]:
        (_, instance_id, received, user_id, username, device, version, xml_name, encrypted,
         decrypted, state, metadata, present, edits) = record  # fmt: skip
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        # What processing counted (the files the XML names, and of those, the ones held);
        # before processing, the files held and those it found missing.
        metadata = metadata or {}
        if "attachments_present" in metadata:
            present = metadata["attachments_present"]
        expected = metadata.get(
            "attachments_expected", present + len(metadata.get("attachments_missing") or [])
        )
        status = ""
        root = None
        name = decrypted if encrypted else xml_name
        if encrypted and (not decrypted or state == ProcessingState.NEEDS_KEY):
            status = "NotDecrypted"
        else:
            try:
                root = submissions.parse(storage.read_bytes(name))
            except (OSError, xform.XMLError):
                status = "MissingEncryptedFormData" if encrypted else "NotReadable"
        meta = Meta(
            instance_id=instance_id,
            submission_date=_iso(received),
            submitter_id=str(user_id or ""),
            submitter_name=(username or "") if self.names_open else "",
            attachments_present=present,
            attachments_expected=expected,
            status=status,
            device_id=device or "",
            edits=edits,
            form_version=version,
        )
        return submissions.rows_of(self.layout, root, meta)

    def attachments(self) -> Iterator[tuple[str, str, int, str, str]]:
        """(name, storage name, size, sha256, instanceID) of the files the exported records
        name, in the order of the records; of an encrypted record, the decrypted files only."""
        yield from (
            Attachment.objects.filter(submission__in=self.records(), is_referenced=True)
            .exclude(submission__is_encrypted=True, name__endswith=".enc")
            .order_by("submission__received_at", "submission_id", "name")
            .values_list("name", "file", "size", "sha256", "submission__instance_id")
            .iterator(chunk_size=CHUNK)
        )


class _Exported:
    """What the audit reads of an exported submission (its model and key), without
    building a model instance per record."""

    __slots__ = ("pk",)
    _meta = Submission._meta

    def __init__(self, pk: int) -> None:
        self.pk = pk


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- The CSV ZIP ----------------------------------------------------------------------------


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    # Lines end with \n, as Central's CSV.
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _entry(name: str, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = compress
    return info


def csv_zip(export: Export, media: bool) -> Iterator[bytes]:
    """The ZIP: `<formId>.csv`, one `<formId>-<repeat>.csv` per repeat, and with `media`
    the files the records name in `media/`."""
    pipe = ZipPipe()
    main, repeats = export.layout[0], export.layout[1:]
    spills: dict[int, IO[bytes]] = {id(t): tempfile.TemporaryFile() for t in repeats}  # noqa: SIM115
    try:
        with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(_entry(f"{main.name}.csv"), "w", force_zip64=True) as out:
                out.write(_csv_bytes([main.header]))
                for chunk in export.rows():
                    mine: list[list[str]] = []
                    theirs: dict[int, list[list[str]]] = {}
                    for table, row in chunk:
                        if table is main:
                            mine.append(row)
                        else:
                            theirs.setdefault(id(table), []).append(row)
                    out.write(_csv_bytes(mine))
                    for key, rows in theirs.items():
                        spills[key].write(_csv_bytes(rows))
                    yield pipe.take()
            for table in repeats:
                spill = spills[id(table)]
                spill.seek(0)
                with archive.open(_entry(f"{table.name}.csv"), "w", force_zip64=True) as out:
                    out.write(_csv_bytes([table.header]))
                    while block := spill.read(BLOCK):
                        out.write(block)
                        yield pipe.take()
            if media:
                yield from _media(archive, pipe, export)
        yield pipe.take()
    finally:
        for spill in spills.values():
            spill.close()


def _media(archive: zipfile.ZipFile, pipe: ZipPipe, export: Export) -> Iterator[bytes]:
    """Each file under `media/<name>`, as the CSV names it. Two records may name different
    files alike: the later one goes to `media/<instanceID>-<name>`; the same file twice
    (an edit keeps its photos) is written once."""
    written: dict[str, str] = {}
    for name, stored, size, sha256, instance_id in export.attachments():
        safe = xform.sanitize_filename(xform.basename(name)) or "file"
        target = f"media/{safe}"
        if target in written:
            if written[target] == sha256 and sha256:
                continue
            target = f"media/{xform.sanitize_filename(instance_id)}-{safe}"
            if target in written:
                continue
        written[target] = sha256
        info = _entry(target, zipfile.ZIP_STORED)
        info.file_size = size
        try:
            source = storage.open_file(stored)
        except OSError:
            continue
        with source, archive.open(info, "w", force_zip64=size >= zipfile.ZIP64_LIMIT) as out:
            while block := source.read(BLOCK):
                out.write(block)
                yield pipe.take()


# --- The XLSX workbook ---------------------------------------------------------------------


def write_xlsx(export: Export, path: str) -> int:
    """The workbook at `path`: one sheet for the main table, one per repeat (openpyxl's
    write-only mode keeps each sheet in a temporary file). Returns the number of records."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheets = {}
    for table in export.layout:
        sheet = book.create_sheet(table.sheet)
        sheet.append(table.header)
        sheets[id(table)] = sheet

    def cell(sheet: Any, value: str) -> Any:
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):  # an answer, never a formula
            text = WriteOnlyCell(sheet, value)
            text.data_type = "s"
            return text
        return value

    records = 0
    main = export.layout[0]
    for chunk in export.rows():
        for table, row in chunk:
            sheet = sheets[id(table)]
            sheet.append([cell(sheet, value) for value in row])
            records += table is main
    book.save(path)
    return records
