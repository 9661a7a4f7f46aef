"""Every change to a case, each a named function that checks who may make it, writes it,
and appends it to the evidence ledger in the same transaction: the change and its entry
commit together or not at all. The ledger entry holds the SHA-256 of the change's canonical
facts (enforcement.ledger.canonical_json), never the facts themselves."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from enforcement import evidence, ledger, permissions
from enforcement.ledger import Kind
from enforcement.models import (
    Case,
    CaseNote,
    CaseParty,
    CaseRecord,
    CaseStatus,
    CustodyTransfer,
    Exhibit,
    PartyRole,
    PersonOfInterest,
    Priority,
    Redaction,
    StatusChange,
)
from fieldkit import errors, events
from observations.models import IllicitActivity


def _entry(user: Any, kind: Kind, subject: str, fact: dict[str, Any], file: str | None = None) -> None:
    evidence.append(
        evidence.NewEntry(kind, subject, ledger.content_hash_of_fact(fact), evidence.actor_of(user), file)
    )


def _changed(case: Case) -> None:
    """Announce the change once it commits (fieldkit.events: webhooks)."""
    events.publish("case", "edited", [case.uuid])


def _locked(case: Case) -> Case:
    """The case row, locked until the transaction ends: two changes of one case queue."""
    return Case.objects.select_for_update().get(pk=case.pk)


def open_case(
    user: Any,
    *,
    area_id: int,
    title: str,
    priority: str = Priority.NORMAL,
    records: Iterable[uuid.UUID] = (),
) -> Case:
    permissions.check_case_access(user, area_id)
    if not title.strip():
        raise errors.CASE_INVALID(detail="A case needs a title.")
    if priority not in Priority.values:
        raise errors.CASE_INVALID(detail=f"Unknown priority {priority!r}.")
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.create(
            area_id=area_id, title=title.strip(), priority=priority, opened_by=user, opened_at=now
        )
        StatusChange.objects.create(case=case, to_status=CaseStatus.REPORTED, by=user, at=now)
        _entry(
            user,
            Kind.CASE_OPENED,
            case.subject,
            {"area": area_id, "title": case.title, "priority": priority, "status": case.status, "at": now},
        )
        for record in records:
            _link(user, case, record, now)
        events.publish("case", "created", [case.uuid])
    return case


def change_status(user: Any, case: Case, target: str, reason: str = "") -> Case:
    with transaction.atomic():
        case = _locked(case)
        permissions.check_transition(user, case, target)
        if target == CaseStatus.OUTCOME_RECORDED:
            raise errors.CASE_INVALID(detail="An outcome is recorded with its text and penalty.")
        _changed(case)
        return _move(user, case, target, reason)


def _move(user: Any, case: Case, target: str, reason: str) -> Case:
    now = timezone.now()
    StatusChange.objects.create(
        case=case, from_status=case.status, to_status=target, by=user, at=now, reason=reason
    )
    fact = {"from": case.status, "to": target, "reason": reason, "at": now}
    case.status = target
    case.save(update_fields=["status"])
    _entry(user, Kind.CASE_STATUS_CHANGED, case.subject, fact)
    return case


def record_outcome(user: Any, case: Case, outcome: str, penalty: str = "") -> Case:
    if not outcome.strip():
        raise errors.CASE_INVALID(detail="Say what the court decided.")
    with transaction.atomic():
        case = _locked(case)
        permissions.check_transition(user, case, CaseStatus.OUTCOME_RECORDED)
        now = timezone.now()
        case.outcome, case.penalty, case.outcome_at = outcome.strip(), penalty.strip(), now
        case.save(update_fields=["outcome", "penalty", "outcome_at"])
        _entry(
            user,
            Kind.OUTCOME_RECORDED,
            case.subject,
            {"outcome": case.outcome, "penalty": case.penalty, "at": now},
        )
        _changed(case)
        return _move(user, case, CaseStatus.OUTCOME_RECORDED, "")


def link_record(user: Any, case: Case, record_uuid: uuid.UUID) -> CaseRecord:
    with transaction.atomic():
        case = _locked(case)
        _check_open(user, case)
        link = _link(user, case, record_uuid, timezone.now())
        _changed(case)
        return link


def _link(user: Any, case: Case, record_uuid: uuid.UUID, now: Any) -> CaseRecord:
    if (
        not permissions.may_see_illicit_records(user, case.area_id)
        or not IllicitActivity.objects.filter(
            observation__record_uuid=record_uuid, observation__area_id=case.area_id
        ).exists()
    ):
        raise errors.CASE_RECORD_NOT_ILLICIT(record=record_uuid)
    link, created = CaseRecord.objects.get_or_create(
        case=case, record_uuid=record_uuid, defaults={"linked_by": user, "linked_at": now}
    )
    if created:
        _entry(user, Kind.RECORD_LINKED, case.subject, {"record": str(record_uuid), "at": now})
    return link


def add_note(user: Any, case: Case, text: str) -> CaseNote:
    if not text.strip():
        raise errors.CASE_INVALID(detail="A note needs some text.")
    with transaction.atomic():
        case = _locked(case)
        _check_open(user, case)
        now = timezone.now()
        note = CaseNote.objects.create(case=case, author=user, text=text.strip(), at=now)
        _entry(user, Kind.NOTE_ADDED, case.subject, {"note": note.pk, "text": note.text, "at": now})
        _changed(case)
    return note


def add_exhibit(
    user: Any,
    case: Case,
    *,
    description: str,
    holder: str,
    content: bytes | None = None,
    extension: str = "",
    record_uuid: uuid.UUID | None = None,
) -> Exhibit:
    """Log an exhibit, with its file when there is one: the file is stored under a name the
    server makes (never the uploaded name, which the ledger would keep for ever), hashed,
    and its hash and name enter the ledger."""
    if not description.strip() or not holder.strip():
        raise errors.CASE_INVALID(detail="An exhibit needs a description and who holds it.")
    ext = "".join(c for c in extension.lower() if c.isalnum())[:8]
    with transaction.atomic():
        case = _locked(case)
        permissions.check_investigator(user, case)
        _check_final(case)
        now = timezone.now()
        exhibit = Exhibit(
            case=case,
            description=description.strip(),
            holder=holder.strip(),
            record_uuid=record_uuid,
            logged_by=user,
            logged_at=now,
        )
        fact = {
            "case": str(case.uuid),
            "description": exhibit.description,
            "holder": exhibit.holder,
            "at": now,
        }
        if content is not None:
            exhibit.sha256 = hashlib.sha256(content).hexdigest()
            exhibit.size = len(content)
            name = f"{exhibit.uuid}.{ext}" if ext else str(exhibit.uuid)
            exhibit.file.save(f"exhibits/{case.uuid}/{name}", ContentFile(content), save=False)
        exhibit.save()
        if content is not None:
            _entry(user, Kind.EXHIBIT_LOGGED, exhibit.subject, fact | {"sha256": exhibit.sha256})
            evidence.append(
                evidence.NewEntry(
                    Kind.FILE_ADDED,
                    exhibit.subject,
                    exhibit.sha256,
                    evidence.actor_of(user),
                    exhibit.file.name,
                )
            )
        else:
            _entry(user, Kind.EXHIBIT_LOGGED, exhibit.subject, fact)
        _changed(case)
    return exhibit


def transfer_custody(
    user: Any, exhibit: Exhibit, *, to_holder: str, reason: str, received_by: str
) -> CustodyTransfer:
    if not (to_holder.strip() and reason.strip() and received_by.strip()):
        raise errors.CASE_INVALID(detail="A transfer says to whom, why, and who received it.")
    with transaction.atomic():
        case = _locked(exhibit.case)
        permissions.check_investigator(user, case)
        _check_final(case)
        exhibit = Exhibit.objects.select_for_update().get(pk=exhibit.pk)
        now = timezone.now()
        transfer = CustodyTransfer.objects.create(
            exhibit=exhibit,
            from_holder=exhibit.holder,
            to_holder=to_holder.strip(),
            reason=reason.strip(),
            received_by=received_by.strip(),
            at=now,
            recorded_by=user,
        )
        exhibit.holder = transfer.to_holder
        exhibit.save(update_fields=["holder"])
        _entry(
            user,
            Kind.CUSTODY_TRANSFERRED,
            exhibit.subject,
            {
                "from": transfer.from_holder,
                "to": transfer.to_holder,
                "reason": transfer.reason,
                "received_by": transfer.received_by,
                "at": now,
            },
        )
        _changed(case)
    return transfer


def person_fact(person: PersonOfInterest) -> dict[str, Any]:
    """The personal facts the ledger hashes, with the person's salt."""
    return {
        "person": str(person.uuid),
        "nonce": person.salt,
        **{name: getattr(person, name) for name in PersonOfInterest.PERSONAL_FIELDS},
    }


def add_person(user: Any, case: Case, *, role: str = PartyRole.SUSPECT, **personal: Any) -> CaseParty:
    """A new person of interest, linked to `case`."""
    unknown = set(personal) - set(PersonOfInterest.PERSONAL_FIELDS)
    if unknown:
        raise errors.CASE_INVALID(detail=f"Unknown fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        case = _locked(case)
        permissions.check_investigator(user, case)
        _check_final(case)
        person = PersonOfInterest.objects.create(
            salt=ledger.fact_nonce(), created_at=timezone.now(), **personal
        )
        return _link_person(user, case, person, role)


def link_person(user: Any, case: Case, person: PersonOfInterest, role: str = PartyRole.SUSPECT) -> CaseParty:
    """A known person (a repeat offender) linked to one more case."""
    with transaction.atomic():
        case = _locked(case)
        permissions.check_investigator(user, case)
        _check_final(case)
        return _link_person(user, case, person, role)


def _link_person(user: Any, case: Case, person: PersonOfInterest, role: str) -> CaseParty:
    if role not in PartyRole.values:
        raise errors.CASE_INVALID(detail=f"Unknown role {role!r}.")
    now = timezone.now()
    party, created = CaseParty.objects.get_or_create(
        case=case, person=person, role=role, defaults={"linked_at": now}
    )
    if created:
        # Two entries: the link (no personal data) and the person's salted facts, which a
        # redaction may later remove from the tables without touching the chain.
        _entry(user, Kind.PERSON_LINKED, case.subject, {"person": str(person.uuid), "role": role, "at": now})
        _entry(user, Kind.PERSON_LINKED, person.subject, person_fact(person))
        _changed(case)
    return party


def redact_person(user: Any, person: PersonOfInterest, *, fields: Iterable[str], reason: str) -> Redaction:
    """Remove a person's personal data (after the retention period, say). The redaction
    entry covers who removed which fields and why, never the values."""
    names = sorted(set(fields))
    if not names or set(names) - set(PersonOfInterest.PERSONAL_FIELDS):
        raise errors.CASE_INVALID(detail=f"Redact some of: {', '.join(PersonOfInterest.PERSONAL_FIELDS)}.")
    area_ids = set(person.cases.values_list("case__area_id", flat=True))
    if not area_ids:
        raise errors.CASE_FORBIDDEN()
    for area_id in area_ids:
        permissions.check_supervisor(user, area_id)
    with transaction.atomic():
        person = PersonOfInterest.objects.select_for_update().get(pk=person.pk)
        now = timezone.now()
        record = ledger.redaction_record(
            subject=person.subject,
            fields=names,
            reason=reason,
            redacted_by=evidence.actor_of(user),
            redacted_at=now,
        )
        for name in names:
            setattr(person, name, None if name == "birth_year" else "")
        if set(names) == set(PersonOfInterest.PERSONAL_FIELDS):
            person.salt = ""  # nothing left to protect; the salt alone says nothing
        person.redacted_at = now
        person.save()
        redaction = Redaction.objects.create(person=person, record=record, at=now)
        _entry(user, Kind.REDACTION, person.subject, record)
    return redaction


def _check_open(user: Any, case: Case) -> None:
    permissions.check_case_access(user, case.area_id)
    _check_final(case)


def _check_final(case: Case) -> None:
    if case.status in permissions.FINAL:
        raise errors.CASE_CLOSED(status=case.get_status_display().lower())
