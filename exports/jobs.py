"""Export jobs: large exports written by a Celery worker (eagerly, in-process, without a
broker) to a file its owner downloads from /exports/ until it expires.

REGISTRY maps an export kind to its writer, `writer(request, params, fmt, path, progress)`:
it writes the export of `params` (a query string as a dict) in `fmt` to `path` as
`request.user`, calls `progress(rows_so_far)` now and then, and returns the rows written.
Other exports plug in with `register(kind, writer, count)`; `count(user, params)` gives the
rows to come (the progress bar's end). Every state change is a named function here; a job is
claimed with a conditional UPDATE, so two workers never write the same job.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts import access
from accounts.models import AccessAction, AccessEvent
from exports import formats, kinds, records
from exports.models import ExportJob
from fieldkit import errors

Writer = Callable[[Any, dict[str, str], str, str, Callable[[int], None]], int]
Counter = Callable[[Any, dict[str, str]], int]
RUN_TASK = "exports.run_job"


@dataclass(frozen=True)
class Entry:
    writer: Writer
    count: Counter


REGISTRY: dict[str, Entry] = {}


def register(kind: str, writer: Writer, count: Counter) -> None:
    REGISTRY[kind] = Entry(writer, count)


def _with_progress(
    chunks: Iterator[formats.Chunk], progress: Callable[[int], None]
) -> Iterator[formats.Chunk]:
    done = 0
    for chunk in chunks:
        yield chunk
        done += len(chunk)
        progress(done)


def _record_writer(kind: kinds.Kind) -> Writer:
    def write(
        request: Any, params: dict[str, str], fmt: str, path: str, progress: Callable[[int], None]
    ) -> int:
        filters = records.filters_of(params)
        kind.check(params, filters)
        layout, chunks = kind.read(request, filters)
        counted = 0

        def counting() -> Iterator[formats.Chunk]:
            nonlocal counted
            for chunk in _with_progress(chunks, progress):
                counted += len(chunk)
                yield chunk

        formats.write_file(fmt, layout, counting(), path)
        return counted

    return write


def _record_counter(kind: kinds.Kind) -> Counter:
    def count(user: Any, params: dict[str, str]) -> int:
        return kind.count(user, records.filters_of(params))

    return count


for _kind in kinds.KINDS.values():
    register(_kind.name, _record_writer(_kind), _record_counter(_kind))


# --- Actions ------------------------------------------------------------------------------------


def request_export(request: Any, kind: str, fmt: str, params: dict[str, str], total: int | None) -> ExportJob:
    """Queue an export job for `request.user`; the worker starts once this commits."""
    meta = getattr(request, "META", {}) or {}
    job = ExportJob.objects.create(
        owner=request.user,
        kind=kind,
        format=fmt,
        params={
            "query": params,
            "ip": access.client_ip(request),
            "user_agent": str(meta.get("HTTP_USER_AGENT", ""))[:300],
            "path": str(getattr(request, "path", ""))[:500],
        },
        total=total,
    )
    # The task by its name (exports.tasks registers it): exports.tasks imports this module.
    transaction.on_commit(lambda: current_app.tasks[RUN_TASK].delay(job.pk))
    return job


def run_job(job_id: int) -> ExportJob | None:
    """Write a queued job's file (claimed with a conditional UPDATE: one worker only)."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("owner").get(pk=job_id)
    saved = job.params or {}
    request = SimpleNamespace(
        user=job.owner,
        META={"REMOTE_ADDR": saved.get("ip"), "HTTP_USER_AGENT": saved.get("user_agent", "")},
        path=saved.get("path", ""),
    )

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(rows=rows)

    folder = tempfile.mkdtemp(prefix="fieldkit-job-")
    path = os.path.join(folder, job.filename)
    before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    try:
        rows = REGISTRY[job.kind].writer(request, saved.get("query", {}), job.format, path, progress)
        job.params = {**saved, "disclosed": _disclosed(job, before)}
        with open(path, "rb") as handle:
            job.file.save(f"{job.pk}-{job.filename}", File(handle), save=False)
        job.rows = rows
        job.status = ExportJob.Status.DONE
    except Exception as exc:  # the job says it failed; the worker goes on
        job.status = ExportJob.Status.FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)
    job.finished = timezone.now()
    job.expires_at = job.finished + timedelta(hours=settings.EXPORT_JOB_TTL_HOURS)
    job.save(update_fields=["file", "rows", "status", "error", "finished", "expires_at", "params"])
    return job


def _disclosed(job: ExportJob, before: int) -> dict[str, Any]:
    """What the job's file carries that the audit records (the events its writer appended:
    exact points, personal fields), per area, with the capabilities the owner held there:
    its downloads are recorded, and refused once the owner holds less."""
    events = AccessEvent.objects.filter(
        id__gt=before,
        user_id=job.owner_id,
        action=AccessAction.EXPORT,
        path=(job.params or {}).get("path", ""),
    )
    fields: dict[str, set[str]] = {}
    for area_id, seen in events.values_list("area_id", "fields").distinct():
        fields.setdefault(str(area_id or ""), set()).update(seen or [])
    return {
        area: {
            "fields": sorted(names),
            "capabilities": sorted(
                c.value for c in access.capabilities(job.owner, int(area) if area else None)
            ),
        }
        for area, names in fields.items()
    }


def check_download(job: ExportJob) -> None:
    """Refuse (404.78) the file of a job that carries exact points or personal data of an
    area where its owner no longer holds every capability it held when the file was written."""
    for area, seen in ((job.params or {}).get("disclosed") or {}).items():
        now = access.capabilities(job.owner, int(area) if area else None)
        if not set(seen["capabilities"]) <= {c.value for c in now}:
            raise errors.EXPORT_JOB_RIGHTS_LOST()


def record_download(request: Any, job: ExportJob) -> None:
    """Each download of a file that carries exact points or personal data is audited: an
    event per area, the job as its object."""
    disclosed = (job.params or {}).get("disclosed") or {}
    access.record_accesses(
        request,
        [(job, seen["fields"], int(area) if area else None) for area, seen in disclosed.items()],
        action=AccessAction.EXPORT,
    )


def expire_jobs(now: Any = None) -> int:
    """Delete the files of jobs past their expiry and mark them expired; returns how many."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(expires_at__lte=now).exclude(status=ExportJob.Status.EXPIRED):
        if job.file:
            job.file.delete(save=False)
        updated = ExportJob.objects.filter(pk=job.pk).exclude(status=ExportJob.Status.EXPIRED)
        expired += updated.update(status=ExportJob.Status.EXPIRED, file="")
    return expired


def jobs_of(user: Any) -> Any:
    """The user's own jobs, newest first: nobody else's."""
    return ExportJob.objects.filter(owner_id=user.pk)


def status_of(job: ExportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "format": job.format,
        "query": (job.params or {}).get("query", {}),
        "status": "expired" if job.is_expired() else job.status,
        "rows": job.rows,
        "total": job.total,
        "created": job.created.isoformat(),
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "error": job.error,
        "status_url": f"/api/v1/exports/jobs/{job.pk}/",
        "download_url": f"/api/v1/exports/jobs/{job.pk}/download"
        if job.status == ExportJob.Status.DONE and not job.is_expired()
        else None,
    }
