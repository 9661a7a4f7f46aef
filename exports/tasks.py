"""Celery tasks of exports: write a job's file; delete expired files (beat)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import close_old_connections

from exports import jobs

EXPIRE_TASK = "exports.expire_jobs"


@shared_task(name=jobs.RUN_TASK, bind=True, ignore_result=True, acks_late=True)
def run_job_task(self: Any, job_id: int) -> None:
    if not self.request.is_eager:
        close_old_connections()
    jobs.run_job(job_id)


@shared_task(name=EXPIRE_TASK, bind=True, ignore_result=True)
def expire_jobs_task(self: Any) -> int:
    if not self.request.is_eager:
        close_old_connections()
    return jobs.expire_jobs()
