"""Celery tasks of enforcement."""

from __future__ import annotations

from celery import shared_task

from enforcement import alerts


@shared_task(name=alerts.DIGEST_TASK, ignore_result=True)
def send_alert_digests() -> int:
    return alerts.send_due_digests()
