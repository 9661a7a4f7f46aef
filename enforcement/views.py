"""The case pages for law enforcement and the area's managers: the list of their cases and a
case's page, with forms that call the named actions. A case of an area the user may not
see answers 404, like every record of fieldkit."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import access
from enforcement import actions, casefile, permissions
from enforcement.models import Case, CaseStatus, PersonOfInterest, Priority
from fieldkit import errors
from fieldkit.errors import Problem


@access.policy("capability:view_cases")
@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = permissions.cases_for(request.user).select_related("area", "assignee")
    status = request.GET.get("status", "")
    if status in CaseStatus.values:
        cases = cases.filter(status=status)
    return render(
        request,
        "enforcement/case_list.html",
        {
            "cases": cases[:500],
            "statuses": CaseStatus.choices,
            "status": status,
            "areas": permissions.case_areas_for(request.user).only("id", "name"),
            "priorities": Priority.choices,
        },
    )


@access.policy("capability:view_cases")
@login_required
@require_POST
def case_open(request: HttpRequest) -> HttpResponse:
    """Open a case, from an illicit-activity record when its identifier is given."""
    try:
        area_id = int(request.POST.get("area", ""))
        records = [uuid.UUID(request.POST["record"])] if request.POST.get("record", "").strip() else []
    except ValueError:
        return HttpResponse("Choose an area and give a record's identifier (a UUID).", status=400)
    try:
        case = actions.open_case(
            request.user,
            area_id=area_id,
            title=request.POST.get("title", ""),
            priority=request.POST.get("priority", Priority.NORMAL),
            records=records,
        )
    except Problem as problem:
        return HttpResponse(f"{problem.message} ({problem.code})", status=problem.status)
    return redirect("enforcement:case", case_uuid=case.uuid)


def _case(request: HttpRequest, case_uuid: Any) -> Case:
    return get_object_or_404(permissions.cases_for(request.user).select_related("area"), uuid=case_uuid)


@access.policy("capability:view_cases")
@login_required
def case_detail(request: HttpRequest, case_uuid: Any) -> HttpResponse:
    case = _case(request, case_uuid)
    return _render_case(request, case)


def _render_case(request: HttpRequest, case: Case, problem: Problem | None = None) -> HttpResponse:
    user = request.user
    records = list(permissions.linked_records_for(user, case).select_related("category"))
    exact = permissions.may_see_exact_locations(user, case.area_id)
    points = [
        {
            "lon": r.location.x,
            "lat": r.location.y,
            "label": r.category.label_en,
            "time": r.time.isoformat() if r.time else "",
        }
        for r in records
        if r.location is not None and exact
    ]
    parties = list(case.parties.select_related("person"))
    personal = permissions.may_read_personal_data(user, case.area_id)
    if personal:
        for party in parties:
            shown = [f for f in PersonOfInterest.PERSONAL_FIELDS if getattr(party.person, f)]
            permissions.record_personal_access(request, party.person, shown, case.area_id)
    context = {
        "case": case,
        "records": records,
        "points": points,
        "history": case.status_changes.select_related("by"),
        "notes": case.notes.select_related("author"),
        "exhibits": case.exhibits.prefetch_related("custody"),
        "parties": parties,
        "personal": personal,
        "next_statuses": [(s, CaseStatus(s).label) for s in permissions.next_statuses(user, case)],
        "problem": problem,
    }
    return render(request, "enforcement/case_detail.html", context, status=problem.status if problem else 200)


def _act(request: HttpRequest, case_uuid: Any, act: Any) -> HttpResponse:
    case = _case(request, case_uuid)
    try:
        act(case)
    except Problem as problem:
        case.refresh_from_db()
        return _render_case(request, case, problem)
    return redirect("enforcement:case", case_uuid=case.uuid)


@access.policy("capability:view_cases")
@login_required
@require_POST
def case_status(request: HttpRequest, case_uuid: Any) -> HttpResponse:
    return _act(
        request,
        case_uuid,
        lambda case: actions.change_status(
            request.user, case, request.POST.get("status", ""), request.POST.get("reason", "")
        ),
    )


@access.policy("capability:view_cases")
@login_required
@require_POST
def case_record(request: HttpRequest, case_uuid: Any) -> HttpResponse:
    """Link an illicit-activity record (by its identifier) to the case."""

    def link(case: Case) -> None:
        try:
            record = uuid.UUID(request.POST.get("record", "").strip())
        except ValueError:
            raise errors.CASE_INVALID(detail="A record is named by its identifier (a UUID).") from None
        actions.link_record(request.user, case, record)

    return _act(request, case_uuid, link)


@access.policy("capability:view_cases")
@login_required
@require_POST
def case_note(request: HttpRequest, case_uuid: Any) -> HttpResponse:
    return _act(
        request, case_uuid, lambda case: actions.add_note(request.user, case, request.POST.get("text", ""))
    )


@access.policy("capability:view_cases")
@login_required
@require_POST
def case_outcome(request: HttpRequest, case_uuid: Any) -> HttpResponse:
    return _act(
        request,
        case_uuid,
        lambda case: actions.record_outcome(
            request.user, case, request.POST.get("outcome", ""), request.POST.get("penalty", "")
        ),
    )


@access.policy("capability:view_cases")
@login_required
def case_file(request: HttpRequest, case_uuid: Any) -> StreamingHttpResponse:
    """The case file (enforcement.casefile), streamed: exhibits can be large."""
    case = _case(request, case_uuid)
    response = StreamingHttpResponse(casefile.case_file(request, case), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{casefile.file_name(case)}"'
    response["Cache-Control"] = "private, no-store"
    return response
