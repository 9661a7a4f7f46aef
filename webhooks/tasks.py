"""Celery task of webhooks: one delivery, retried with exponential back-off."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import close_old_connections

from webhooks import delivery


@shared_task(name=delivery.DELIVER_TASK, bind=True, ignore_result=True, acks_late=True)
def deliver_task(self: Any, delivery_id: int) -> str:
    if not self.request.is_eager:
        close_old_connections()
    return delivery.deliver(delivery_id, self)
