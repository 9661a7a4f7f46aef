"""An OData v4 feed of field records that Excel and Power BI refresh (as ODK Central offers).

One service at /api/v1/odata/: its service document, its `$metadata` (CSDL XML), and entity
sets of JSON rows (`odata.metadata=minimal`, each answer with its `@odata.context`):

- `Observations`: every field record the user may export, each point as
  observations.sensitivity shows it to the user (generalised for a viewer), through the same
  row builder as the CSV export (exports.records); no personal field (observer, suspects).
- `LegDays`: the patrol days of the areas where the user reads every record, with their
  effort (distance, hours, rangers, person-days); no leader or member names.
- `Submissions_<form id>`: one per form the user may export records of: each submission's
  identity and state (no answers, no submitter, no device), those with a record in an area
  where the user may export.

System query options: `$top`, `$skip`, `$count=true`, `$select`, `$format=json`, and
`$filter` on the date properties (exports.odata_filter). Paging is driven by the server:
at most ODATA_PAGE_SIZE rows a page, fewer when the client sends
`Prefer: odata.maxpagesize=N`; a page that is not the last ends with `@odata.nextLink`.
Rows are in a stable order (by primary key) and a next page starts after the previous
page's last key (`$skiptoken`), so pages neither repeat nor skip rows and a deep page costs
no more than the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce

from accounts import access
from accounts.access import Capability
from accounts.models import AccessAction
from exports import odata_filter, records
from fieldkit import errors
from observations import queries, sensitivity
from observations.api import feature
from observations.models import Observation, PatrolLegDay
from odk_forms.models import Form, Submission

EDM = "http://docs.oasis-open.org/odata/ns/edm"
EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
NAMESPACE = "fieldkit"

# Edm types of the properties; the first property is the key.
OBSERVATION_PROPERTIES = [
    ("id", "Edm.String"),
    ("time", "Edm.DateTimeOffset"),
    ("day", "Edm.Date"),
    ("area", "Edm.Int64"),
    ("zone", "Edm.Int64"),
    ("vertical", "Edm.String"),
    ("category", "Edm.String"),
    ("count", "Edm.Double"),
    ("taxon", "Edm.String"),
    ("individualCount", "Edm.Int64"),
    ("latitude", "Edm.Double"),
    ("longitude", "Edm.Double"),
    ("coordinateUncertaintyInMeters", "Edm.Double"),
    ("dataGeneralizations", "Edm.String"),
    ("informationWithheld", "Edm.String"),
]
LEG_DAY_PROPERTIES = [
    ("id", "Edm.String"),
    ("patrol", "Edm.String"),
    ("area", "Edm.Int64"),
    ("day", "Edm.Date"),
    ("start", "Edm.DateTimeOffset"),
    ("end", "Edm.DateTimeOffset"),
    ("distanceKm", "Edm.Double"),
    ("patrolHours", "Edm.Double"),
    ("fieldHours", "Edm.Double"),
    ("members", "Edm.Int64"),
    ("personDays", "Edm.Double"),
]
SUBMISSION_PROPERTIES = [
    ("id", "Edm.String"),
    ("formVersion", "Edm.String"),
    ("receivedAt", "Edm.DateTimeOffset"),
    ("processedAt", "Edm.DateTimeOffset"),
    ("state", "Edm.String"),
    ("isCurrent", "Edm.Boolean"),
    ("deprecatedId", "Edm.String"),
    ("isEncrypted", "Edm.Boolean"),
]
_KINDS: dict[str, odata_filter.Kind] = {"Edm.Date": "date", "Edm.DateTimeOffset": "datetime"}
_LOOKUPS = {"eq": "exact", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
SUBMISSIONS = "Submissions_"


@dataclass(frozen=True)
class EntitySet:
    name: str
    type_name: str
    properties: list[tuple[str, str]]
    # property -> model field, for $filter
    columns: dict[str, str] = field(default_factory=dict)

    def date_fields(self) -> dict[str, odata_filter.Kind]:
        return {
            name: _KINDS[kind] for name, kind in self.properties if kind in _KINDS and name in self.columns
        }


OBSERVATIONS = EntitySet(
    "Observations", "Observation", OBSERVATION_PROPERTIES, {"time": "time", "day": "day"}
)
LEG_DAYS = EntitySet("LegDays", "LegDay", LEG_DAY_PROPERTIES, {"day": "day", "start": "start", "end": "end"})


def _identifier(xml_form_id: str) -> str:
    """An OData SimpleIdentifier for a form id: letters, digits and underscores."""
    return SUBMISSIONS + re.sub(r"\W", "_", xml_form_id, flags=re.ASCII)


def submission_set(form: Form) -> EntitySet:
    return EntitySet(
        _identifier(form.xml_form_id),
        "Submission",
        SUBMISSION_PROPERTIES,
        {"receivedAt": "received_at", "processedAt": "processed_at"},
    )


# --- Who reads what ---------------------------------------------------------------------------


def _exportable(user: Any) -> frozenset[int] | None:
    return access.area_ids_with(user, Capability.EXPORT)


def leg_days_for(user: Any) -> QuerySet[PatrolLegDay]:
    """The patrol days of the areas where the user reads every record and may export."""
    days = access.visible(user, Capability.VIEW_RECORDS, PatrolLegDay.objects.all(), "patrol__area")
    exportable = _exportable(user)
    if exportable is not None:
        days = days.filter(patrol__area_id__in=exportable)
    return days.order_by("pk")


def submissions_for(user: Any, form: Form) -> QuerySet[Submission]:
    """The submissions of `form` (every version, not the drafts) with a record the user may
    export: an observation it reads, or a patrol day, in an area where it may export."""
    exportable = _exportable(user)
    readable = queries.observations_visible_to(user)
    if exportable is not None:
        readable = readable.filter(area_id__in=exportable)
    first = Coalesce(OuterRef("root_id"), OuterRef("pk"))
    observed = Exists(readable.filter(root_submission_id=first).order_by().values("pk"))
    patrolled = Exists(leg_days_for(user).filter(patrol__root_submission_id=first).order_by().values("pk"))
    rows = Submission.objects.filter(form=form, is_draft=False).filter(observed | patrolled)
    return rows.select_related("form_version").order_by("pk")


def forms_for(user: Any) -> list[Form]:
    """The forms whose submissions the user may list: any form of an area where it exports."""
    if _exportable(user) == frozenset():
        return []
    forms = access.visible(user, Capability.EXPORT, Form.objects.all(), area_field="areas")
    return list(forms.order_by("xml_form_id"))


def entity_sets(user: Any) -> list[EntitySet]:
    return [OBSERVATIONS, LEG_DAYS, *(submission_set(form) for form in forms_for(user))]


# --- Documents --------------------------------------------------------------------------------


def service_document(base: str, user: Any) -> dict[str, Any]:
    return {
        "@odata.context": f"{base}$metadata",
        "value": [{"name": s.name, "kind": "EntitySet", "url": s.name} for s in entity_sets(user)],
    }


def metadata_xml(user: Any) -> bytes:
    """The CSDL of the service (OData v4 CSDL XML)."""
    ElementTree.register_namespace("edmx", EDMX)
    root = ElementTree.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    services = ElementTree.SubElement(root, f"{{{EDMX}}}DataServices")
    schema = ElementTree.SubElement(services, "Schema", {"xmlns": EDM, "Namespace": NAMESPACE})
    for type_name, properties in (
        ("Observation", OBSERVATION_PROPERTIES),
        ("LegDay", LEG_DAY_PROPERTIES),
        ("Submission", SUBMISSION_PROPERTIES),
    ):
        entity = ElementTree.SubElement(schema, "EntityType", {"Name": type_name})
        key = ElementTree.SubElement(entity, "Key")
        ElementTree.SubElement(key, "PropertyRef", {"Name": properties[0][0]})
        for index, (name, kind) in enumerate(properties):
            attributes = {"Name": name, "Type": kind}
            if index == 0:
                attributes["Nullable"] = "false"
            ElementTree.SubElement(entity, "Property", attributes)
    container = ElementTree.SubElement(schema, "EntityContainer", {"Name": NAMESPACE})
    for entity_set in entity_sets(user):
        ElementTree.SubElement(
            container,
            "EntitySet",
            {"Name": entity_set.name, "EntityType": f"{NAMESPACE}.{entity_set.type_name}"},
        )
    ElementTree.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="utf-8")


# --- Queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    top: int | None
    skip: int
    after: int | None  # $skiptoken: the key of the last row of the previous page
    count: bool
    select: list[str] | None
    conditions: list[odata_filter.Condition]


_KNOWN = {"$top", "$skip", "$skiptoken", "$count", "$filter", "$select", "$format", "$orderby"}


def _non_negative(params: Any, name: str) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise errors.ODATA_BAD_QUERY(detail=f"{name} must be a whole number, 0 or more")
    return int(text)


def options_of(params: Any, entity_set: EntitySet) -> Options:
    """The system query options of a request to `entity_set`."""
    unknown = sorted(name for name in params if name.startswith("$") and name not in _KNOWN)
    if unknown:
        raise errors.ODATA_BAD_QUERY(detail=f"{', '.join(unknown)} is not supported here")
    form = (params.get("$format") or "json").lower()
    if form not in ("json", "application/json"):
        raise errors.ODATA_BAD_QUERY(detail="$format: only json is served")
    if params.get("$orderby"):
        raise errors.ODATA_BAD_QUERY(detail="$orderby is not supported: rows come in a stable order")
    count = (params.get("$count") or "false").lower()
    if count not in ("true", "false"):
        raise errors.ODATA_BAD_QUERY(detail="$count must be true or false")
    select = None
    if params.get("$select"):
        names = [name.strip() for name in params["$select"].split(",")]
        known = {name for name, _ in entity_set.properties}
        wrong = [name for name in names if name not in known]
        if wrong:
            raise errors.ODATA_BAD_QUERY(detail=f"$select: no property {', '.join(wrong)}")
        select = names
    conditions = odata_filter.parse(params.get("$filter") or "", entity_set.date_fields())
    return Options(
        _non_negative(params, "$top"),
        _non_negative(params, "$skip") or 0,
        _non_negative(params, "$skiptoken"),
        count == "true",
        select,
        conditions,
    )


def filtered(rows: QuerySet[Any], entity_set: EntitySet, conditions: Iterable[odata_filter.Condition]) -> Any:
    for condition in conditions:
        column = entity_set.columns[condition.field]
        if condition.op == "ne":
            rows = rows.exclude(**{column: condition.value})
        else:
            rows = rows.filter(**{f"{column}__{_LOOKUPS[condition.op]}": condition.value})
    return rows


def max_page_size(prefer: str) -> tuple[int, bool]:
    """The page size for a Prefer header: ODATA_PAGE_SIZE, or the client's smaller
    odata.maxpagesize; and whether the preference was applied."""
    limit = settings.ODATA_PAGE_SIZE
    match = re.search(r"(?:^|[,;\s])odata\.maxpagesize\s*=\s*(\d+)", prefer or "")
    if match and int(match.group(1)) > 0:
        return min(limit, int(match.group(1))), True
    return limit, False


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- Rows of each entity set ---------------------------------------------------------------------


def observation_rows(request: Any, rows: list[Observation]) -> list[dict[str, Any]]:
    """The rows as the user may see them (exports.records builds them for the CSV export as
    well); the exact sensitive points among them are recorded in the audit log."""
    view = sensitivity.UserView.of(request.user)
    out, seen = [], []
    for obs in rows:
        data, disclosed = feature(obs, view)
        properties = data["properties"]
        lon, lat = data["geometry"]["coordinates"] if data["geometry"] else (None, None)
        # Only the point is disclosed here: the personal fields of `feature` are left out.
        seen.append((obs, [name for name in disclosed if name == "location"], obs.area_id))
        out.append(
            {
                "id": str(obs.record_uuid), "time": obs.time, "day": obs.day, "area": obs.area_id,
                "zone": properties["zone"], "vertical": obs.vertical, "category": obs.category_id,
                "count": obs.count, "taxon": properties.get("taxon"),
                "individualCount": properties.get("individualCount"), "latitude": lat, "longitude": lon,
                "coordinateUncertaintyInMeters": properties["coordinateUncertaintyInMeters"],
                "dataGeneralizations": properties["dataGeneralizations"],
                "informationWithheld": properties["informationWithheld"],
            }
        )  # fmt: skip
    access.record_accesses(request, seen, action=AccessAction.EXPORT)
    return out


def leg_day_rows(request: Any, rows: list[PatrolLegDay]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(day.record_uuid),
            "patrol": str(day.patrol.record_uuid),
            "area": day.patrol.area_id,
            "day": day.day,
            "start": day.start,
            "end": day.end,
            "distanceKm": day.distance_km,
            "patrolHours": day.patrol_hours,
            "fieldHours": day.field_hours,
            "members": day.members,
            "personDays": day.person_days,
        }
        for day in rows
    ]


def submission_rows(request: Any, rows: list[Submission]) -> list[dict[str, Any]]:
    return [
        {
            "id": sub.instance_id,
            "formVersion": sub.form_version.version,
            "receivedAt": sub.received_at,
            "processedAt": sub.processed_at,
            "state": sub.state,
            "isCurrent": sub.is_current,
            "deprecatedId": sub.deprecated_id,
            "isEncrypted": sub.is_encrypted,
        }
        for sub in rows
    ]


@dataclass(frozen=True)
class Source:
    entity_set: EntitySet
    rows: QuerySet[Any]
    build: Callable[[Any, list[Any]], list[dict[str, Any]]]


def source(request: Any, name: str) -> Source | None:
    """The entity set `name` as the user may read it, or None when there is none such."""
    user = request.user
    if name == OBSERVATIONS.name:
        rows = records.observations_for(user, records.Filters()).order_by("pk")
        return Source(OBSERVATIONS, rows, observation_rows)
    if name == LEG_DAYS.name:
        return Source(LEG_DAYS, leg_days_for(user).select_related("patrol"), leg_day_rows)
    if name.startswith(SUBMISSIONS):
        for form in forms_for(user):
            entity_set = submission_set(form)
            if entity_set.name == name:
                return Source(entity_set, submissions_for(user, form), submission_rows)
    return None


def page(request: Any, base: str, found: Source) -> tuple[dict[str, Any], bool]:
    """One page of an entity set as OData JSON, and whether the client's page size was
    applied."""
    options = options_of(request.GET, found.entity_set)
    rows = filtered(found.rows, found.entity_set, options.conditions)
    size, applied = max_page_size(request.headers.get("Prefer", ""))
    wanted = size if options.top is None else min(size, options.top)
    # The next pages start after the last row's key ($skiptoken), not at an offset: the
    # database reads from the primary key's index however deep the page.
    keyed = rows if options.after is None else rows.filter(pk__gt=options.after)
    chunk = list(keyed[options.skip : options.skip + wanted + 1]) if wanted else []
    more = len(chunk) > wanted
    chunk = chunk[:wanted]
    body: dict[str, Any] = {"@odata.context": f"{base}$metadata#{found.entity_set.name}"}
    if options.select:
        body["@odata.context"] += f"({','.join(options.select)})"
    if options.count:
        body["@odata.count"] = rows.count()
    values = found.build(request, chunk)
    if options.select:
        values = [{name: value[name] for name in options.select} for value in values]
    body["value"] = [{name: _value(v) for name, v in value.items()} for value in values]
    left = None if options.top is None else options.top - len(chunk)
    if more and (left is None or left > 0):
        params = {k: v for k, v in request.GET.items() if k not in ("$skip", "$top", "$skiptoken")}
        params["$skiptoken"] = str(chunk[-1].pk)
        if left is not None:
            params["$top"] = str(left)
        body["@odata.nextLink"] = f"{base}{found.entity_set.name}?{urlencode(params)}"
    return body, applied
