"""Who sees what: the one access policy every output calls.

A user holds a role per protected area (accounts.models.AreaMembership), or one national
role that holds in every area, present and future. Each role grants capabilities
(`CAPABILITIES`); superusers hold every capability everywhere. Nothing else in fieldkit
compares role names: views, queries, admin pages, OpenRosa endpoints, and the tiles,
exports and cases still to come, ask this module.

How to call it
--------------
- Filter a queryset to what a user may see, in the database (one Exists/IN subquery, no
  per-row Python)::

      access.visible(user, Capability.VIEW_RECORDS, Observation.objects.all(), area_field="area")

  `area_field` is the lookup from the model to its protected area (`"area"`,
  `"observation__area"`, `"areas"` for a many-to-many: rows are not duplicated). Rows with
  no area are seen only by superusers and national roles.
- Ask about one area: `access.can(user, Capability.EXPORT, area)` (area: a ProtectedArea, an
  id, or None for "in any area").
- The areas themselves: `access.areas_with(user, cap)` is an `AreaScope` (every area, or a
  subquery of ids) for SQL that is not a queryset of the model.
- A record of an area the user may not see answers 404, never 403: get it through
  `visible()` and let `get_object_or_404` (or the DRF viewset) fail, so ids reveal nothing.
- Whoever lacks VIEW_EXACT_SENSITIVE_LOCATIONS gets the generalised point of a sensitive
  record: observations.sensitivity.located(...) is the one function for that (grid snapping
  itself is the pure accounts.generalisation). Personal fields are listed once in
  `PERSONAL_FIELDS`; `personal_fields_for(user, area)` says which of them a user may read.
- Every output of exact sensitive locations or personal data calls `record_access(...)`,
  which appends an AccessEvent (who, when, what, from where).
- Every view declares its policy with `@access.policy("...")` (or the class attribute
  `access_policy` on a DRF view or ModelAdmin); tests/test_access_policy_declared.py walks
  the URLconf and fails for a view without one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Exists, Model, Q, QuerySet

from accounts.models import AccessAction, AccessEvent, AreaMembership, Role
from protected_areas.models import ProtectedArea


class Capability(enum.StrEnum):
    SUBMIT = "submit"  # list, download and send forms of the area
    VIEW_RECORDS = "view_records"  # every field record of the area
    # Only the illicit-activity records of the area (law enforcement). VIEW_RECORDS implies it.
    VIEW_ILLICIT_RECORDS = "view_illicit_records"
    EDIT_RECORDS = "edit_records"  # send edits of the records of the area's collectors
    VIEW_EXACT_SENSITIVE_LOCATIONS = "view_exact_sensitive_locations"
    VIEW_PERSONAL_DATA = "view_personal_data"  # suspects' names, informants' details
    VIEW_RANGER_NAMES = "view_ranger_names"  # patrol leaders, members, observers
    VIEW_CASES = "view_cases"
    MANAGE_FORMS = "manage_forms"
    MANAGE_MEMBERS = "manage_members"
    VIEW_ACCESS_EVENTS = "view_access_events"  # the audit trail of the area
    VIEW_INDICATORS = "view_indicators"
    EXPORT = "export"


C = Capability

# The whole policy. Collectors send data and see only their forms; members review every
# record of the area (exact locations included: they check the fixes); managers also run
# forms and members and may read the names of their rangers; viewers (NGOs, donors) read
# indicators and records with generalised locations and no personal data, and export what
# they read (exports/: the same policy holds row by row); law enforcement reads
# illicit-activity records and cases with personal data and exact locations.
_REVIEW = {C.VIEW_RECORDS, C.VIEW_ILLICIT_RECORDS, C.VIEW_INDICATORS, C.EXPORT}
_DATA_MANAGEMENT = {*_REVIEW, C.SUBMIT, C.EDIT_RECORDS, C.VIEW_EXACT_SENSITIVE_LOCATIONS, C.EXPORT}
CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.COLLECTOR: frozenset({C.SUBMIT}),
    Role.MEMBER: frozenset(_DATA_MANAGEMENT),
    Role.MANAGER: frozenset(
        {
            *_DATA_MANAGEMENT,
            C.VIEW_RANGER_NAMES,
            C.MANAGE_FORMS,
            C.MANAGE_MEMBERS,
            C.VIEW_ACCESS_EVENTS,
            # Managers verify, dismiss and close their area's cases (enforcement.permissions);
            # personal data in them stays law enforcement's.
            C.VIEW_CASES,
        }
    ),
    Role.VIEWER: frozenset(_REVIEW),
    Role.LAW_ENFORCEMENT: frozenset(
        {
            C.VIEW_ILLICIT_RECORDS,
            C.VIEW_EXACT_SENSITIVE_LOCATIONS,
            C.VIEW_PERSONAL_DATA,
            C.VIEW_RANGER_NAMES,
            C.VIEW_CASES,
            C.VIEW_INDICATORS,
            C.EXPORT,
        }
    ),
}

# The roles that grant each capability, computed once: what the SQL filters on.
ROLES_WITH: dict[Capability, tuple[str, ...]] = {
    cap: tuple(sorted(role for role, caps in CAPABILITIES.items() if cap in caps)) for cap in Capability
}


# --- Personal data ---------------------------------------------------------------------------

# Every personal field of fieldkit, by the capability that opens it. Model fields are named
# "app_label.model.field"; a field not listed here is not personal. Whoever may not read a
# field gets a count instead where the record has one (suspects, member_count).
PERSONAL_FIELDS: dict[str, Capability] = {
    "observations.illicitactivity.suspect_names": C.VIEW_PERSONAL_DATA,
    # The raw submission holds every answer, informants' names and contacts among them
    # (standard_forms.incident's `reporter`, kept in the submission only), and exact
    # locations: its files are never served to anyone without this capability.
    "odk_forms.submission.xml_file": C.VIEW_PERSONAL_DATA,
    "observations.patrolleg.leader": C.VIEW_RANGER_NAMES,
    "observations.patrolleg.members": C.VIEW_RANGER_NAMES,
    "observations.observation.observer": C.VIEW_RANGER_NAMES,
}


# --- Who holds what, where ----------------------------------------------------------------------


def is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def _memberships(user: Any, *caps: Capability) -> QuerySet[AreaMembership]:
    roles = sorted({role for cap in caps for role in ROLES_WITH[cap]})
    return AreaMembership.objects.filter(user_id=user.pk, role__in=roles)


@dataclass(frozen=True)
class AreaScope:
    """Where a user holds a capability: everywhere (`everywhere`), or in the areas whose ids
    `ids` yields (a subquery, evaluated by the database where it is used)."""

    everywhere: bool
    ids: QuerySet[Any]

    def q(self, area_field: str) -> Q:
        """The condition on `area_field` of another model."""
        return Q() if self.everywhere else Q(**{f"{area_field}__in": self.ids})


def _no_ids() -> QuerySet[Any]:
    return ProtectedArea.objects.none().values_list("id", flat=True)


def areas_with(user: Any, cap: Capability) -> AreaScope:
    """The areas where `user` holds `cap`. One query for the national check; the ids stay a
    subquery."""
    if is_superuser(user):
        return AreaScope(True, _no_ids())
    if not _authenticated(user):
        return AreaScope(False, _no_ids())
    memberships = _memberships(user, cap)
    if memberships.filter(national=True).exists():
        return AreaScope(True, _no_ids())
    return AreaScope(False, memberships.filter(area__isnull=False).values_list("area_id", flat=True))


def area_ids_with(user: Any, cap: Capability) -> frozenset[int] | None:
    """`areas_with` as a set of ids, None meaning every area: for code that needs them in
    Python (a few per user). One query: it runs on the request path of every submission."""
    if is_superuser(user):
        return None
    if not _authenticated(user):
        return frozenset()
    ids = set()
    for area_id, national in _memberships(user, cap).values_list("area_id", "national"):
        if national:
            return None
        ids.add(area_id)
    return frozenset(ids)


def _area_id(area: ProtectedArea | int | None) -> int | None:
    return area.pk if isinstance(area, ProtectedArea) else area


def can(user: Any, cap: Capability, area: ProtectedArea | int | None = None) -> bool:
    """Whether `user` holds `cap` in `area` (None: in some area)."""
    if is_superuser(user):
        return True
    if not _authenticated(user):
        return False
    memberships = _memberships(user, cap)
    area_id = _area_id(area)
    if area_id is None:
        return memberships.exists()
    return memberships.filter(Q(national=True) | Q(area_id=area_id)).exists()


def can_everywhere(user: Any, cap: Capability, area_ids: Iterable[int]) -> bool:
    """Whether `user` holds `cap` in each of `area_ids` (and in at least one area)."""
    wanted = set(area_ids)
    held = area_ids_with(user, cap)
    if held is None:
        return True
    return bool(held) and wanted <= held


def capabilities(user: Any, area: ProtectedArea | int | None) -> frozenset[Capability]:
    """Every capability `user` holds in `area` (national roles included): one query, for
    outputs that decide several fields of one record."""
    if is_superuser(user):
        return frozenset(Capability)
    if not _authenticated(user):
        return frozenset()
    area_id = _area_id(area)
    where = Q(national=True) if area_id is None else Q(national=True) | Q(area_id=area_id)
    roles = AreaMembership.objects.filter(where, user_id=user.pk).values_list("role", flat=True)
    return frozenset().union(*(CAPABILITIES.get(role, frozenset()) for role in roles))


M = TypeVar("M", bound=Model)


def visible(
    user: Any, cap: Capability, queryset: QuerySet[M], area_field: str | tuple[str, ...] = "area"
) -> QuerySet[M]:
    """The rows of `queryset` whose area (reached by `area_field`) is one where `user` holds
    `cap`, filtered in the database: an EXISTS on the national role, OR the area among the
    user's areas (a subquery). Rows without an area: superusers and national roles only.
    Several paths in `area_field`: a row is visible when any of them reaches such an area
    (an observation's primary area, or any area containing it)."""
    return visible_any(user, (cap,), queryset, area_field)


def visible_any(
    user: Any, caps: Iterable[Capability], queryset: QuerySet[M], area_field: str | tuple[str, ...] = "area"
) -> QuerySet[M]:
    """`visible` for a user holding any one of `caps` in the row's area."""
    if is_superuser(user):
        return queryset
    if not _authenticated(user):
        return queryset.none()
    memberships = _memberships(user, *caps)
    condition = Q(Exists(memberships.filter(national=True)))
    mine = memberships.filter(area__isnull=False).values("area_id")
    model = queryset.model
    for path in (area_field,) if isinstance(area_field, str) else area_field:
        if _multi_valued(model, path):
            # A join would repeat rows: match the primary keys in a subquery instead.
            condition |= Q(pk__in=model._default_manager.filter(**{f"{path}__in": mine}).values("pk"))
        else:
            condition |= Q(**{f"{path}__in": mine})
    return queryset.filter(condition)


def _multi_valued(model: type[Model], path: str) -> bool:
    """Whether a lookup path crosses a many-to-many or reverse foreign key anywhere."""
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.many_to_many or field.one_to_many:
            return True
        if field.related_model is None:
            return False
        model = field.related_model  # type: ignore[assignment]
    return False


def user_may_enter_admin(user: Any) -> bool:
    """Staff flag set and active: the admin's own gate; what each page shows is `visible`."""
    return bool(getattr(user, "is_active", False) and getattr(user, "is_staff", False))


# --- Personal data ----------------------------------------------------------------------------


def personal_fields_for(held: frozenset[Capability]) -> frozenset[str]:
    """Of PERSONAL_FIELDS, those that the capabilities `held` (see `capabilities`) open."""
    return frozenset(name for name, cap in PERSONAL_FIELDS.items() if cap in held)


# --- Audit -----------------------------------------------------------------------------------------


def client_ip(request: Any) -> str | None:
    """The address the request came from, as the server saw it (REMOTE_ADDR; a proxy in
    front sets it through the WSGI server's forwarded-for handling)."""
    return (getattr(request, "META", {}) or {}).get("REMOTE_ADDR") or None


def record_access(
    request: Any,
    obj: Model,
    fields: Iterable[str],
    *,
    area: ProtectedArea | int | None,
    action: str = AccessAction.VIEW,
) -> AccessEvent | None:
    """Append an AccessEvent: `request.user` saw `fields` of `obj` (exact locations or
    personal data). Nothing is written when `fields` is empty."""
    seen = sorted(set(fields))
    if not seen:
        return None
    user = getattr(request, "user", None)
    meta = getattr(request, "META", {}) or {}
    return AccessEvent.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=getattr(user, "username", "") or "",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        fields=seen,
        area_id=_area_id(area),
        ip=client_ip(request),
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:300],
        path=str(getattr(request, "path", ""))[:500],
    )


def record_accesses(
    request: Any,
    seen: Iterable[tuple[Model, Iterable[str], int | None]],
    action: str = AccessAction.VIEW,
) -> int:
    """`record_access` for many records at once (a list page, a chunk of an export): one
    INSERT. `seen` holds (record, fields, area id) triples; those with no fields are skipped."""
    user = getattr(request, "user", None)
    meta = getattr(request, "META", {}) or {}
    common = {
        "user": user if getattr(user, "pk", None) else None,
        "username": getattr(user, "username", "") or "",
        "action": action,
        "ip": client_ip(request),
        "user_agent": str(meta.get("HTTP_USER_AGENT", ""))[:300],
        "path": str(getattr(request, "path", ""))[:500],
    }
    rows = [
        AccessEvent(
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            fields=sorted(set(fields)),
            area_id=area_id,
            **common,
        )
        for obj, fields, area_id in seen
        if fields
    ]
    AccessEvent.objects.bulk_create(rows)
    return len(rows)


# --- Declared policies ----------------------------------------------------------------------

# What a view's policy says, in words a reviewer can check against CAPABILITIES. Names a
# view may declare:
#   "public"                    anyone, no data that depends on who asks
#   "authenticated"             any signed-in user; the data is filtered by `visible`
#   "openrosa"                  OpenRosa: SUBMIT in the form's areas (token, Digest, draft token)
#   "admin"                     the admin site's own pages (index, login): staff only
#   "superuser"                 administrators only (reference data, users, tokens)
#   "capability:<cap>"          the view's data is filtered by `visible(user, cap, ...)`
POLICY_ATTRIBUTE = "access_policy"

V = TypeVar("V", bound=Callable[..., Any])


def policy(name: str) -> Callable[[V], V]:
    """Declare the access policy of a view function: recorded on the callable, read by the
    URLconf test. Declaring is not enforcing; the view still filters through `visible`."""
    check_policy_name(name)

    def declare(view: V) -> V:
        setattr(view, POLICY_ATTRIBUTE, name)
        return view

    return declare


def check_policy_name(name: str) -> None:
    fixed = {"public", "authenticated", "openrosa", "admin", "superuser"}
    if name in fixed:
        return
    kind, _, cap = name.partition(":")
    if kind != "capability" or cap not in {c.value for c in Capability}:
        raise ValueError(f"unknown access policy {name!r}")


def declared_policy(view: Any) -> str | None:
    """The policy a URL's callback declares: on the function, on a DRF view's class
    (`view.cls`), on a class-based view (`view.view_class`), or, for admin pages, on the
    ModelAdmin or AdminSite the bound method belongs to."""
    for candidate in (
        view,
        getattr(view, "cls", None),
        getattr(view, "view_class", None),
        # A model's admin page declares on its ModelAdmin, never through the site's.
        getattr(view, "model_admin", None),
        getattr(view, "admin_site", None),
        getattr(getattr(view, "__wrapped__", None), "__self__", None),
        getattr(view, "__self__", None),
    ):
        name = getattr(candidate, POLICY_ATTRIBUTE, None)
        if isinstance(name, str):
            check_policy_name(name)
            return name
    wrapped = getattr(view, "__wrapped__", None)
    return declared_policy(wrapped) if wrapped is not None and wrapped is not view else None
