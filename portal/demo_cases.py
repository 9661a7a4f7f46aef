"""Demo cases: a few law-enforcement cases at different stages, opened from the demo's
illicit-activity incidents, so that the case pages are not empty. Idempotent: nothing is
done once a case exists. Every step goes through enforcement.actions (and the ledger)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef

from enforcement import actions
from enforcement.models import Case, CaseStatus, Priority
from observations.models import Observation
from odk_forms import storage
from odk_forms.models import Attachment

S = CaseStatus
# The stage each demo case reaches, in order of the incidents taken (latest first).
STAGES = [S.REPORTED, S.VERIFIED, S.UNDER_INVESTIGATION, S.IN_COURT, S.CLOSED]


def load_demo_cases(officer: Any, manager: Any) -> int:
    """Open one case per stage from the latest illicit incidents; returns the cases made."""
    if Case.objects.exists():
        return 0
    with_photo = Exists(Attachment.objects.filter(submission=OuterRef("submission")))
    incidents = list(
        Observation.objects.filter(illicit__isnull=False, area__isnull=False, illicit__suspects__gt=0)
        .select_related("category", "area")
        .order_by(with_photo.desc(), "-time")[: len(STAGES)]
    )
    # One transaction: one commit for every step of every case, not one each.
    with transaction.atomic():
        _open(incidents, officer, manager)
    return len(incidents)


def _open(incidents: list[Observation], officer: Any, manager: Any) -> None:
    for n, (record, stage) in enumerate(zip(incidents, STAGES, strict=False)):
        assert record.area is not None and record.area_id is not None  # filtered above
        title = f"{record.category.label_en} at {record.area.name}"
        priority = Priority.HIGH if n % 2 else Priority.NORMAL
        case = actions.open_case(
            officer, area_id=record.area_id, title=title, priority=priority, records=[record.record_uuid]
        )
        if stage == S.REPORTED:
            continue
        actions.change_status(manager, case, S.VERIFIED, "Report confirmed with the patrol leader")
        if stage == S.VERIFIED:
            continue
        actions.change_status(officer, case, S.UNDER_INVESTIGATION)
        actions.add_note(officer, case, "Statements taken at the ranger post; suspects released on bail.")
        photo = Attachment.objects.filter(submission_id=record.submission_id).first()
        if photo is not None:
            with storage.open_file(photo.file.name) as stream:
                content = stream.read()
            exhibit = actions.add_exhibit(
                officer,
                case,
                description="Photo of the scene",
                holder="Ranger post",
                content=content,
                extension=photo.name.rpartition(".")[2],
                record_uuid=record.record_uuid,
            )
        else:
            exhibit = actions.add_exhibit(officer, case, description="Seized items", holder="Ranger post")
        actions.add_person(officer, case, name=f"Demo suspect {n}", birth_year=1980 + n)
        if stage == S.UNDER_INVESTIGATION:
            continue
        actions.transfer_custody(
            officer,
            exhibit,
            to_holder="Police evidence store",
            reason="Referral",
            received_by="Desk sergeant",
        )
        actions.change_status(officer, case, S.REFERRED)
        actions.change_status(officer, case, S.IN_COURT)
        if stage == S.IN_COURT:
            continue
        actions.record_outcome(officer, case, "Convicted on both counts", penalty="PGK 2000.00 fine")
        actions.change_status(manager, case, S.CLOSED)
