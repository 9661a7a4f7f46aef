"""Deliveries: the subscriber of fieldkit.events (settings.FIELDKIT_EVENT_SUBSCRIBERS) that
turns events into one Delivery per matching subscription, and the POST of a delivery,
signed (webhooks.signing), logged attempt by attempt (Attempt).

A subscription matches an event when it is active, asks for the event's kind, covers one
of the object's areas, and its owner may read the object there (webhooks.payloads). The
body is built once, when the event happens, and sent as is on every attempt and on "send
again"; only the timestamp and the signature are new each time.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fieldkit.events import Event
from webhooks import payloads, signing
from webhooks.models import Attempt, Delivery, DeliveryState, Subscription

DELIVER_TASK = "webhooks.deliver"
EXCERPT = 1000


def on_events(events: Sequence[Event]) -> int:
    """Make the deliveries of `events` (run after the change committed); returns how many.
    One query when no subscription asks for these kinds."""
    kinds = {event.kind for event in events}
    subscriptions = [
        s
        for s in Subscription.objects.filter(active=True).select_related("owner").prefetch_related("areas")
        if kinds & set(s.kinds)
    ]
    if not subscriptions:
        return 0
    made: list[Delivery] = []
    for event in events:
        interested = [s for s in subscriptions if event.kind in s.kinds]
        if not interested:
            continue
        subject = payloads.subject_of(event)
        if subject is None:
            continue
        for subscription in interested:
            shared = subject.area_ids & {area.pk for area in subscription.areas.all()}
            if not shared:
                continue
            data = payloads.payload_for(subscription, subject, frozenset(shared))
            if data is None:
                continue
            delivery = Delivery(
                subscription=subscription,
                kind=event.kind,
                action=event.action,
                ref=event.ref[:64],
                area_id=min(shared),
            )
            delivery.body = json.dumps(
                {
                    "id": str(delivery.event_id),
                    "event": f"{event.kind}.{event.action}",
                    "occurredAt": timezone.now().isoformat(),
                    "area": delivery.area_id,
                    "data": data,
                },
                separators=(",", ":"),
                default=str,
            )
            made.append(delivery)
    with transaction.atomic():
        Delivery.objects.bulk_create(made)
        for delivery in made:
            transaction.on_commit(lambda pk=delivery.pk: enqueue(pk))  # type: ignore[misc]
    return len(made)


def enqueue(delivery_id: int, countdown: float = 0) -> None:
    current_app.tasks[DELIVER_TASK].apply_async((delivery_id,), countdown=countdown)


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: WEBHOOKS_RETRY_BASE doubled at each attempt."""
    return float(settings.WEBHOOKS_RETRY_BASE * 2 ** max(attempt - 1, 0))


class TargetRefused(Exception):
    pass


def _check_target(url: str) -> None:
    """Only http(s), and, unless WEBHOOKS_ALLOW_PRIVATE_TARGETS, no address of this machine or
    its private networks: a subscription must not make the server probe its own network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(f"not an http(s) URL: {url}")
    if settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        return
    for info in socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise TargetRefused(f"{parts.hostname} is a private or local address ({address})")


def attempt(delivery: Delivery) -> Attempt:
    """POST the delivery once, signed now; log the attempt and settle the delivery's state
    when it succeeded. A 2xx answer is a success; anything else is retried."""
    subscription = delivery.subscription
    body = delivery.body.encode()
    stamp = int(time.time())
    Delivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    number = Delivery.objects.values_list("attempts", flat=True).get(pk=delivery.pk)
    # Only http(s): actions._checked refuses other schemes, _check_target again before sending.
    request = urllib.request.Request(  # noqa: S310
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "fieldkit-webhooks/1",
            signing.TIMESTAMP_HEADER: str(stamp),
            signing.SIGNATURE_HEADER: signing.signature(subscription.secret, stamp, body),
            signing.EVENT_HEADER: f"{delivery.kind}.{delivery.action}",
            signing.DELIVERY_HEADER: str(delivery.event_id),
        },
    )
    started = time.monotonic()
    status: int | None = None
    excerpt = error = ""
    try:
        _check_target(subscription.url)
        with urllib.request.urlopen(request, timeout=settings.WEBHOOKS_TIMEOUT) as response:  # noqa: S310
            status = response.status
            excerpt = response.read(EXCERPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status = exc.code
        excerpt = exc.read(EXCERPT).decode("utf-8", "replace")
    except (OSError, TargetRefused) as exc:
        error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
    duration = (time.monotonic() - started) * 1000
    log = Attempt.objects.create(
        delivery=delivery,
        number=number,
        at=timezone.now(),
        status_code=status,
        response_excerpt=excerpt,
        duration_ms=round(duration, 1),
        error=error,
    )
    if status is not None and 200 <= status < 300:
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DELIVERED, delivered_at=log.at)
    return log


def deliver(delivery_id: int, task: Any) -> str:
    """One attempt of the task `task` (bound Celery task): on failure, retried after
    `backoff` seconds until WEBHOOKS_MAX_ATTEMPTS attempts were made, then marked failed."""
    delivery = Delivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.state == DeliveryState.DELIVERED:
        return "gone"
    if not delivery.subscription.active:
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
        return "inactive"
    log = attempt(delivery)
    if log.status_code is not None and 200 <= log.status_code < 300:
        return "delivered"
    if task.request.retries + 1 >= settings.WEBHOOKS_MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
        return "failed"
    raise task.retry(countdown=backoff(task.request.retries + 1), max_retries=settings.WEBHOOKS_MAX_ATTEMPTS)


def send_again(delivery: Delivery) -> Delivery:
    """ "Send again": the same body (and event id) in a new round of attempts."""
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.PENDING, delivered_at=None)
    transaction.on_commit(lambda: enqueue(delivery.pk))
    delivery.refresh_from_db()
    return delivery
