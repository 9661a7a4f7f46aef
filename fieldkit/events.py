"""A tiny event hook: the state-changing functions of the floors above announce what they
changed (`publish`), and the callables named in settings.FIELDKIT_EVENT_SUBSCRIBERS hear of
it once the change is committed. No Django signals: every call site is explicit and
greppable, and a subscriber is a dotted path checked like the other settings hooks.

An event names what changed by kind ("submission", "record", "case"), action ("created",
"edited") and a stable reference (a submission's id, a record's uuid, a case's uuid): never
the data itself, which a subscriber reads (through the access policy) when it handles it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

KINDS = ("submission", "record", "case")
ACTIONS = ("created", "edited")


@dataclass(frozen=True)
class Event:
    kind: str
    action: str
    ref: str


Subscriber = Callable[[Sequence[Event]], None]


@cache
def _load(path: str) -> Subscriber:
    return import_string(path)  # type: ignore[no-any-return]


def subscribers() -> list[Subscriber]:
    return [_load(path) for path in settings.FIELDKIT_EVENT_SUBSCRIBERS]


def publish(kind: str, action: str, refs: Iterable[object]) -> None:
    """Announce that the objects `refs` of `kind` were created or edited. Subscribers are
    called after the current transaction commits (at once outside one), with the events
    of one call together; a change rolled back announces nothing. A subscriber that fails
    is logged and does not undo the change, which is already committed."""
    if kind not in KINDS or action not in ACTIONS:
        raise ValueError(f"unknown event {kind}.{action}")
    events = tuple(Event(kind, action, str(ref)) for ref in refs)
    if not events or not settings.FIELDKIT_EVENT_SUBSCRIBERS:
        return
    transaction.on_commit(lambda: _deliver(events))


def _deliver(events: Sequence[Event]) -> None:
    for subscriber in subscribers():
        try:
            subscriber(events)
        except Exception:
            logger.exception("Event subscriber %r failed on %d event(s)", subscriber, len(events))
