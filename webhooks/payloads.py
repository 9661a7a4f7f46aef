"""What a subscription is sent about one event: the object as its owner may read it, through
the same access policy as the API (accounts.access, observations.sensitivity), or nothing
when the owner may not read it at all. Exact sensitive points and personal fields go out
only to owners who may read them, and their sending is recorded in the access audit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from accounts import access
from accounts.access import Capability
from accounts.models import AccessAction
from enforcement import permissions as case_permissions
from enforcement.models import Case
from fieldkit.events import Event
from observations import queries as observation_queries
from observations import sensitivity
from observations.api import feature
from observations.models import Observation
from odk_forms import queries as odk_queries
from odk_forms.models import Submission
from webhooks.models import Subscription


@dataclass(frozen=True)
class Subject:
    """The object an event is about, read once for every subscription: its areas (those a
    subscription must cover) and the object itself."""

    event: Event
    area_ids: frozenset[int]
    obj: Any


@dataclass
class _Audience:
    """Who receives a payload: the owner, and the URL that stands for the request path in the
    access audit."""

    user: Any
    path: str
    META: dict[str, str]


def subject_of(event: Event) -> Subject | None:
    """The object of `event` with its areas; None when it is gone (deleted since)."""
    if event.kind == "record":
        try:
            key = uuid.UUID(event.ref)
        except ValueError:
            return None
        obs = (
            sensitivity.with_levels(Observation.objects.filter(record_uuid=key))
            .select_related("species__taxon", "illicit")
            .prefetch_related("illicit__actions", "illicit__seized_items")
            .first()
        )
        if obs is None or obs.area_id is None:
            return None
        return Subject(event, frozenset({obs.area_id}), obs)
    if event.kind == "submission":
        submission = Submission.objects.select_related("form", "form_version").filter(pk=event.ref).first()
        if submission is None or submission.is_draft:
            return None
        areas = odk_queries.placeable_area_ids(submission.submitted_by, submission.form_id)
        if areas is None:
            areas = frozenset(submission.form.areas.values_list("pk", flat=True))
        return Subject(event, frozenset(areas), submission)
    if event.kind == "case":
        case = Case.objects.filter(uuid=event.ref).first()
        return None if case is None else Subject(event, frozenset({case.area_id}), case)
    return None


def payload_for(
    subscription: Subscription, subject: Subject, area_ids: frozenset[int]
) -> dict[str, Any] | None:
    """The `data` of the event for `subscription` (whose areas met the subject's in
    `area_ids`), or None when its owner may not read the object there."""
    owner = subscription.owner
    if not owner.is_active:
        return None
    obj = subject.obj
    if subject.event.kind == "record":
        if not observation_queries.observations_visible_to(owner).filter(pk=obj.pk).exists():
            return None
        view = sensitivity.UserView.of(owner)
        data, disclosed = feature(obj, view)
        data["id"] = str(obj.record_uuid)
        if disclosed:
            audience = _Audience(owner, subscription.url[:500], {"HTTP_USER_AGENT": "fieldkit-webhooks"})
            access.record_access(audience, obj, disclosed, area=obj.area_id, action=AccessAction.EXPORT)
        return data
    if subject.event.kind == "submission":
        readable = access.area_ids_with(owner, Capability.VIEW_RECORDS)
        if readable is not None and not (area_ids & readable):
            return None
        return _submission(obj, area_ids if readable is None else area_ids & readable)
    if subject.event.kind == "case":
        if not case_permissions.cases_for(owner).filter(pk=obj.pk).exists():
            return None
        return _case(obj)
    return None


def _submission(submission: Submission, area_ids: frozenset[int]) -> dict[str, Any]:
    """What a submission's event says: its identity and state, never its answers (the XML
    holds personal data; records come as their own events)."""
    return {
        "id": submission.pk,
        "form": submission.form.xml_form_id,
        "version": submission.form_version.version,
        "instanceID": submission.instance_id,
        "deprecatedID": submission.deprecated_id or None,
        "instanceName": submission.instance_name,
        "receivedAt": submission.received_at.isoformat() if submission.received_at else None,
        "state": submission.state,
        "areas": sorted(area_ids),
    }


def _case(case: Case) -> dict[str, Any]:
    """A case's state; the people in it are counted, never named."""
    return {
        "id": str(case.uuid),
        "area": case.area_id,
        "title": case.title,
        "status": case.status,
        "priority": case.priority,
        "openedAt": case.opened_at.isoformat(),
        "outcome": case.outcome,
        "penalty": case.penalty,
        "outcomeAt": case.outcome_at.isoformat() if case.outcome_at else None,
        "records": sorted(str(u) for u in case.records.values_list("record_uuid", flat=True)),
        "notes": case.notes.count(),
        "exhibits": case.exhibits.count(),
        "parties": case.parties.count(),
    }
