"""Keeping indicators current: what a submission touched is marked dirty while its records
are written, and recomputed off the request path.

1. `after_submission` is a submission processor (settings.ODK_FORMS_SUBMISSION_PROCESSORS,
   after observations.records.record_submission, so it runs in the same transaction,
   after the records are written). It reads the area-months the root submission's records
   count in now, adds those they counted in at its last processing (Footprint: an edit
   that moves a record leaves a month behind), marks them all dirty and asks for an update
   once the transaction commits.
2. `update` claims dirty keys with a conditional UPDATE, recomputes those area-months and
   the quarters and years containing them (indicators.compute.compute_months) and deletes
   the keys whose generation did not move meanwhile. A burst of submissions marks the same
   keys again and again; one update takes them all.

Who runs the update: a Celery task (indicators.tasks) when there is a broker; without one,
a worker thread of the serving process, like submission processing (odk_forms.background).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from functools import reduce
from operator import or_

from celery import current_app
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from indicators import compute
from indicators.models import DirtyKey, Footprint
from odk_forms import background
from odk_forms.models import Submission

logger = logging.getLogger(__name__)

UPDATE_TASK = "indicators.update"
# Areas one update claims at most: the rest is left to the next update (or another worker).
AREAS_PER_CLAIM = 20

Key = tuple[int, date]


def footprint(root_submission_id: int) -> set[Key]:
    """The (area, first day of month) keys the records of a root submission count in."""
    d = compute.dialect()
    sql = f"""
        SELECT ts.area_id, {d.month("d.day")} FROM observations_tracksegment ts
        JOIN observations_patrollegday d ON d.id = ts.leg_day_id
        JOIN observations_patrol p ON p.id = d.patrol_id
        WHERE p.root_submission_id = %s AND ts.zone_id IS NULL
        UNION
        SELECT op.area_id, {d.month("o.day")} FROM observations_observationplace op
        JOIN observations_observation o ON o.id = op.observation_id
        WHERE o.root_submission_id = %s AND op.zone_id IS NULL AND o.day IS NOT NULL
        UNION
        SELECT a.area_id, {d.year_start("a.year")} FROM observations_mettassessment a
        WHERE a.root_submission_id = %s
        UNION
        SELECT b.area_id, {d.year_start("b.fiscal_year")} FROM observations_budgetreturn b
        WHERE b.root_submission_id = %s
    """  # noqa: S608 (constants only; the id is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [root_submission_id] * 4)
        return {(int(area), _as_date(month)) for area, month in cursor.fetchall()}


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def after_submission(submission: Submission, xml: bytes) -> None:
    """Submission processor: mark what the submission's records touched, before and now."""
    root = submission.root_id or submission.pk
    now = footprint(root)
    before = set(Footprint.objects.filter(root_submission_id=root).values_list("area_id", "month"))
    mark_dirty(now | before)
    if now != before:
        Footprint.objects.filter(root_submission_id=root).delete()
        Footprint.objects.bulk_create(
            [Footprint(root_submission_id=root, area_id=a, month=m) for a, m in sorted(now)]
        )
    transaction.on_commit(request_update)


def mark_dirty(keys: Iterable[Key]) -> None:
    """Mark area-months dirty. Bumping the generation of a key already there (perhaps being
    computed right now) makes its worker keep it for the next round."""
    keys = sorted(set(keys))
    if not keys:
        return
    DirtyKey.objects.bulk_create([DirtyKey(area_id=a, month=m) for a, m in keys], ignore_conflicts=True)
    match = reduce(or_, (Q(area_id=a, month=m) for a, m in keys))
    DirtyKey.objects.filter(match).update(generation=F("generation") + 1)


def lease() -> timedelta:
    return timedelta(seconds=settings.INDICATORS_LEASE)


def claim(areas: int = AREAS_PER_CLAIM) -> tuple[uuid.UUID, list[Key]]:
    """Claim every dirty key of up to `areas` areas that nobody else is computing, in one
    conditional UPDATE: of two workers claiming at once, the second finds the rows the
    first took no longer free and leaves them (PostgreSQL rechecks the condition on each
    row it waited for; SQLite has one writer)."""
    token, now = uuid.uuid4(), timezone.now()
    # As the columns' fields write them (SQLite keeps UUIDs as hex, datetimes as UTC text).
    by = models.UUIDField().get_db_prep_value(token, connection)
    at, stale = (models.DateTimeField().get_db_prep_value(t, connection) for t in (now, now - lease()))
    table = DirtyKey._meta.db_table
    free = "(claimed_by IS NULL OR claimed_at < %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET claimed_by = %s, claimed_at = %s, claimed_generation = generation
            WHERE {free} AND area_id IN (
                SELECT DISTINCT area_id FROM {table} WHERE {free} AND area_id NOT IN (
                    SELECT area_id FROM {table} WHERE NOT {free})
                ORDER BY area_id LIMIT %s)
            RETURNING area_id, month
            """,  # noqa: S608 (the table's name; values are parameters)
            [by, at, stale, stale, stale, areas],
        )
        keys = cursor.fetchall()
    return token, [(int(a), _as_date(m)) for a, m in keys]


def finish(token: uuid.UUID) -> int:
    """Drop the claimed keys nobody marked again meanwhile; free the others. Return how many
    stay dirty."""
    DirtyKey.objects.filter(claimed_by=token, generation=F("claimed_generation")).delete()
    return DirtyKey.objects.filter(claimed_by=token).update(claimed_by=None, claimed_at=None)


def update() -> int:
    """Recompute what is dirty, area by area group, until what it claimed is done. Returns
    the number of keys recomputed. Another round follows when a claim was full (more areas
    may be dirty) or a key was marked again during its computation; keys of other areas
    marked meanwhile have an update of their own requested, and the periodic update looks
    for any left behind."""
    done = 0
    while True:
        token, keys = claim()
        if not keys:
            return done
        try:
            compute.compute_months(keys)
        except Exception:
            DirtyKey.objects.filter(claimed_by=token).update(claimed_by=None, claimed_at=None)
            raise
        stayed = finish(token)
        done += len(keys)
        if not stayed and len({area for area, _ in keys}) < AREAS_PER_CLAIM:
            return done


# --- Handing the update out ---------------------------------------------------------------------


def request_update() -> None:
    """Have the dirty keys recomputed off the request path. Called after commit."""
    if not settings.INDICATORS_UPDATE_AFTER_SUBMISSION:
        return
    if current_app.conf.task_always_eager and settings.ODK_FORMS_BACKGROUND_PROCESSING:
        _worker.submit(0)
        return
    try:
        current_app.tasks[UPDATE_TASK].apply_async(countdown=settings.INDICATORS_UPDATE_DELAY)
    except Exception:
        logger.exception("Could not queue the indicators update; the periodic update will do it")


def _update_in_background(_item: int) -> float | None:
    update()
    return None


_worker = background.Worker(
    "fieldkit-indicators",
    _update_in_background,
    lambda first: update(),
    lambda: float(settings.INDICATORS_UPDATE_INTERVAL),
)


def background_worker() -> background.Worker:
    return _worker


def start_background_worker() -> None:
    if current_app.conf.task_always_eager and settings.ODK_FORMS_BACKGROUND_PROCESSING:
        _worker.start()
