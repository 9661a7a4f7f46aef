"""Writes of webhooks: subscriptions made and changed by their owners, checked against the
access policy (an owner subscribes only to areas whose data it may read)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from accounts import access
from accounts.access import Capability
from fieldkit import errors
from fieldkit.events import KINDS
from protected_areas.models import ProtectedArea
from webhooks import delivery
from webhooks.models import Delivery, DeliveryState, Subscription

# Reading any of these in an area is reading something an event can be about there.
READING = (Capability.VIEW_RECORDS, Capability.VIEW_ILLICIT_RECORDS, Capability.VIEW_CASES)


def readable_area_ids(user: Any) -> frozenset[int] | None:
    """Areas where `user` reads records or cases (None: every area)."""
    found: set[int] = set()
    for cap in READING:
        ids = access.area_ids_with(user, cap)
        if ids is None:
            return None
        found |= ids
    return frozenset(found)


def _checked(
    user: Any, url: str, area_ids: Iterable[int], kinds: Iterable[str]
) -> tuple[str, list[int], list[str]]:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.WEBHOOK_INVALID(detail="url must be an http(s) address")
    kinds = sorted(set(kinds))
    if not kinds or set(kinds) - set(KINDS):
        raise errors.WEBHOOK_INVALID(detail=f"kinds must be some of {', '.join(KINDS)}")
    ids = sorted(set(area_ids))
    if not ids:
        raise errors.WEBHOOK_INVALID(detail="a subscription needs at least one area")
    existing = set(ProtectedArea.objects.filter(pk__in=ids).values_list("pk", flat=True))
    readable = readable_area_ids(user)
    refused = [i for i in ids if i not in existing or (readable is not None and i not in readable)]
    if refused:
        # An area that does not exist and one the user may not read look the same.
        raise errors.WEBHOOK_AREAS_FORBIDDEN(ids=", ".join(map(str, refused)))
    return url, ids, kinds


def create_subscription(
    user: Any, *, url: str, areas: Iterable[int], kinds: Iterable[str], active: bool = True
) -> Subscription:
    url, ids, kind_list = _checked(user, url, areas, kinds)
    with transaction.atomic():
        subscription = Subscription.objects.create(owner=user, url=url, kinds=kind_list, active=active)
        subscription.areas.set(ids)
    return subscription


def update_subscription(user: Any, subscription: Subscription, **changes: Any) -> Subscription:
    """Change url, areas, kinds or active; the areas are checked again against the owner's."""
    url = changes.get("url", subscription.url)
    ids = changes.get("areas", list(subscription.areas.values_list("pk", flat=True)))
    kinds = changes.get("kinds", subscription.kinds)
    url, ids, kind_list = _checked(user, url, ids, kinds)
    with transaction.atomic():
        subscription.url, subscription.kinds = url, kind_list
        subscription.active = bool(changes.get("active", subscription.active))
        subscription.save()
        subscription.areas.set(ids)
    return subscription


def send_again(delivery_row: Delivery) -> Delivery:
    """Queue a delivered or failed delivery again (same body, same event id)."""
    if delivery_row.state == DeliveryState.PENDING:
        raise errors.WEBHOOK_DELIVERY_PENDING(event_id=delivery_row.event_id)
    return delivery.send_again(delivery_row)
