"""Who may do what with cases: the only module of enforcement that asks the access policy
(accounts.access).

Two parts in a case's life. Law enforcement investigates: it takes a verified case up,
refers it for prosecution, follows it in court, records the outcome, logs exhibits and
custody, and reads and records persons of interest (personal data). The area's managers
supervise: they verify or dismiss a report and close a case once its outcome is recorded.
Both read the case, link records and add notes. Roles are told apart by what they hold:
an investigator reads personal data (VIEW_PERSONAL_DATA), a supervisor manages the area's
members (MANAGE_MEMBERS); a superuser is both.
"""

from __future__ import annotations

import enum
from typing import Any

from django.db.models import QuerySet

from accounts import access
from accounts.access import Capability
from enforcement.models import Case, CaseStatus
from fieldkit import errors
from observations.models import Observation
from protected_areas.models import ProtectedArea

S = CaseStatus


class Part(enum.StrEnum):
    INVESTIGATE = "investigate"
    SUPERVISE = "supervise"


# From each status, the statuses a case may go to and who moves it there.
TRANSITIONS: dict[str, dict[str, Part]] = {
    S.REPORTED: {S.VERIFIED: Part.SUPERVISE, S.DISMISSED: Part.SUPERVISE},
    S.VERIFIED: {S.UNDER_INVESTIGATION: Part.INVESTIGATE, S.DISMISSED: Part.SUPERVISE},
    S.UNDER_INVESTIGATION: {S.REFERRED: Part.INVESTIGATE, S.DISMISSED: Part.SUPERVISE},
    S.REFERRED: {S.IN_COURT: Part.INVESTIGATE, S.DISMISSED: Part.SUPERVISE},
    S.IN_COURT: {S.OUTCOME_RECORDED: Part.INVESTIGATE},
    S.OUTCOME_RECORDED: {S.CLOSED: Part.SUPERVISE},
    S.CLOSED: {},
    S.DISMISSED: {},
}
FINAL = frozenset({S.CLOSED, S.DISMISSED})

_PART_CAPABILITY = {
    Part.INVESTIGATE: Capability.VIEW_PERSONAL_DATA,
    Part.SUPERVISE: Capability.MANAGE_MEMBERS,
}


def cases_for(user: Any) -> QuerySet[Case]:
    """The cases `user` may see: those of the areas where they hold VIEW_CASES."""
    return access.visible(user, Capability.VIEW_CASES, Case.objects.all())


def case_areas_for(user: Any) -> QuerySet[ProtectedArea]:
    """The areas where `user` may open cases."""
    return ProtectedArea.objects.filter(access.areas_with(user, Capability.VIEW_CASES).q("id"))


def parts(user: Any, area_id: int) -> frozenset[Part]:
    held = access.capabilities(user, area_id)
    if Capability.VIEW_CASES not in held:
        return frozenset()
    return frozenset(part for part, cap in _PART_CAPABILITY.items() if cap in held)


def check_case_access(user: Any, area_id: int) -> None:
    if not access.can(user, Capability.VIEW_CASES, area_id):
        raise errors.CASE_FORBIDDEN()


def may_move(user: Any, case: Case, target: str) -> bool:
    part = TRANSITIONS.get(case.status, {}).get(target)
    return part is not None and part in parts(user, case.area_id)


def check_transition(user: Any, case: Case, target: str) -> None:
    check_case_access(user, case.area_id)
    allowed = TRANSITIONS.get(case.status, {})
    if case.status in FINAL:
        raise errors.CASE_CLOSED(status=case.get_status_display().lower())
    if target not in allowed:
        raise errors.CASE_TRANSITION_INVALID(
            current=case.status, target=target, allowed=", ".join(allowed) or "nothing"
        )
    if allowed[target] not in parts(user, case.area_id):
        raise errors.CASE_TRANSITION_FORBIDDEN(current=case.status, target=target)


def next_statuses(user: Any, case: Case) -> list[str]:
    """The statuses `user` may move `case` to (for the page's form)."""
    mine = parts(user, case.area_id)
    return [target for target, part in TRANSITIONS.get(case.status, {}).items() if part in mine]


def check_investigator(user: Any, case: Case) -> None:
    check_case_access(user, case.area_id)
    if Part.INVESTIGATE not in parts(user, case.area_id):
        raise errors.CASE_PERSONAL_DATA_FORBIDDEN()


def check_supervisor(user: Any, area_id: int) -> None:
    check_case_access(user, area_id)
    if Part.SUPERVISE not in parts(user, area_id):
        raise errors.CASE_FORBIDDEN()


def linked_records_for(user: Any, case: Case) -> QuerySet[Observation]:
    """The illicit-activity records linked to `case` that `user` may read."""
    uuids = case.records.values_list("record_uuid", flat=True)
    records = Observation.objects.filter(record_uuid__in=uuids, illicit__isnull=False)
    return access.visible(user, Capability.VIEW_ILLICIT_RECORDS, records)


def may_see_exact_locations(user: Any, area_id: int) -> bool:
    return access.can(user, Capability.VIEW_EXACT_SENSITIVE_LOCATIONS, area_id)


def may_get_alerts(user: Any, area_id: int) -> bool:
    """Alerts go to those who may read the area's illicit records and its cases."""
    return access.can(user, Capability.VIEW_CASES, area_id) and access.can(
        user, Capability.VIEW_ILLICIT_RECORDS, area_id
    )


def may_read_personal_data(user: Any, area_id: int) -> bool:
    return access.can(user, Capability.VIEW_PERSONAL_DATA, area_id)


def may_see_illicit_records(user: Any, area_id: int) -> bool:
    return access.can(user, Capability.VIEW_ILLICIT_RECORDS, area_id)


def record_personal_access(
    request: Any, obj: Any, fields: list[str], area_id: int, *, export: bool = False
) -> None:
    """Personal data shown (or exported in a case file) is logged in the access audit."""
    action = access.AccessAction.EXPORT if export else access.AccessAction.VIEW
    access.record_access(request, obj, fields, area=area_id, action=action)
