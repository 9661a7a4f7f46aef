"""Kinds of field record an export can hold, and how each is read: columns, geometry, the
filters that apply, who may read it and what of it is personal.

Every kind reads plain values (`values_list`, `iterator(chunk_size=CHUNK)`), never model
instances, never all rows at once. Observations (all of them, or one vertical with its own
columns) come from exports.observation_rows, which generalises sensitive points and
withholds personal fields as the access policy says; the other kinds are read in the areas
where the user holds VIEW_RECORDS and EXPORT, with personal fields (a leg's leader and
rangers) empty where the user may not read them. Rows that carry a personal field are
recorded in the audit trail (action "export") by one INSERT … SELECT before the export is
written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db.models.functions import AsWKB
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast

from accounts import access
from accounts.access import Capability
from exports import observation_rows
from exports.formats import Chunk, Layout
from exports.records import COLUMNS, Filters, personal_columns
from fieldkit import errors
from observations.models import (
    BudgetLine,
    BudgetReturn,
    METTScore,
    Patrol,
    PatrolLegDay,
    TrackSegment,
    Vertical,
)

CHUNK = 5000

# The types of exports.records.COLUMNS (observations), for files with typed columns.
_OBSERVATION_TYPES = {
    "area": "int",
    "zone": "int",
    "count": "float",
    "individualCount": "int",
    "latitude": "float",
    "longitude": "float",
    "coordinateUncertaintyInMeters": "float",
}


@dataclass(frozen=True)
class Kind:
    """A kind of record: `read(request, filters)` gives its Layout and chunks (after writing
    the audit of what it discloses), `count(user, filters)` how many rows it would hold.
    `filters` names the query-string filters that apply to it."""

    name: str
    title: str
    filters: frozenset[str]
    read: Callable[[Any, Filters], tuple[Layout, Iterator[Chunk]]]
    count: Callable[[Any, Filters], int]
    geometry: str | None = None
    notes: str = field(default="")

    def check(self, params: Any, filters: Filters) -> None:
        """Refuse (400.86) a filter that does not apply to this kind."""
        given = {name for name in ("area", "zone", "vertical", "category") if getattr(filters, name)}
        if filters.since or filters.until:
            given.add("period")
        wrong = sorted(given - self.filters)
        if wrong:
            raise errors.EXPORT_FILTER_NOT_APPLICABLE(kind=self.name, filters=", ".join(wrong))


# --- Observations --------------------------------------------------------------------------------


def _observation_kind(name: str, title: str, vertical: str | None, extra: dict[str, tuple[Any, str]]) -> Kind:
    def narrowed(filters: Filters) -> Filters:
        if vertical is None:
            return filters
        if filters.vertical not in (None, vertical):
            raise errors.EXPORT_FILTER_NOT_APPLICABLE(kind=name, filters="vertical")
        return Filters(filters.area, filters.zone, filters.since, filters.until, vertical, filters.category)

    def read(request: Any, filters: Filters) -> tuple[Layout, Iterator[Chunk]]:
        import shapely

        user = request.user
        filters = narrowed(filters)
        columns = [*COLUMNS, *personal_columns(user), *extra]
        types = [_OBSERVATION_TYPES.get(c, "str") for c in COLUMNS + personal_columns(user)]
        types += [t for _, t in extra.values()]
        layout = Layout(name.replace("-", "_"), tuple(columns), tuple(types), "Point")
        observation_rows.record_export(request, user, filters)
        expressions = {key: expression for key, (expression, _) in extra.items()}

        def chunks() -> Iterator[Chunk]:
            for chunk in observation_rows.python_rows(user, filters, expressions):
                # The chunk's points made at once (shapely.points), not one by one.
                located = [i for i, (_, point) in enumerate(chunk) if point]
                points: list[Any] = [None] * len(chunk)
                if located:
                    for i, made in zip(located, shapely.points([chunk[i][1] for i in located]), strict=True):
                        points[i] = made
                yield [(row, point) for (row, _), point in zip(chunk, points, strict=True)]

        return layout, chunks()

    def count(user: Any, filters: Filters) -> int:
        return observation_rows.base(user, narrowed(filters)).count()

    every = frozenset({"area", "zone", "period", "vertical", "category"})
    return Kind(name, title, every, read, count, "Point")


def _bool(expression: Any) -> tuple[Any, str]:
    return (expression, "bool")


# --- Patrols and leg-days ------------------------------------------------------------------------


def _exportable(user: Any, queryset: QuerySet[Any], area_field: str) -> QuerySet[Any]:
    rows = access.visible(user, Capability.VIEW_RECORDS, queryset, area_field=area_field)
    exportable = access.area_ids_with(user, Capability.EXPORT)
    if exportable is not None:
        rows = rows.filter(**{f"{area_field}__in": exportable})
    return rows


def _area_and_days(rows: QuerySet[Any], filters: Filters, area: str, day: str) -> QuerySet[Any]:
    if filters.area is not None:
        rows = rows.filter(**{area: filters.area})
    if filters.since is not None:
        rows = rows.filter(**{f"{day}__gte": filters.since})
    if filters.until is not None:
        rows = rows.filter(**{f"{day}__lte": filters.until})
    return rows


def _years(rows: QuerySet[Any], filters: Filters, area: str, year: str) -> QuerySet[Any]:
    """A period on records of a year: the years it touches."""
    if filters.area is not None:
        rows = rows.filter(**{area: filters.area})
    if filters.since is not None:
        rows = rows.filter(**{f"{year}__gte": filters.since.year})
    if filters.until is not None:
        rows = rows.filter(**{f"{year}__lte": filters.until.year})
    return rows


def _chunks(rows: QuerySet[Any], geometry: bool) -> Iterator[Chunk]:
    import shapely

    chunk: Chunk = []
    for record in rows.iterator(chunk_size=CHUNK):
        if geometry:
            wkb = record[-1]
            chunk.append((list(record[:-1]), shapely.from_wkb(bytes(wkb)) if wkb is not None else None))
        else:
            chunk.append((list(record), None))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class Table:
    """A kind read from one model: columns as (name, expression, type)."""

    name: str
    title: str
    model: Any
    area_field: str
    filters: frozenset[str]
    columns: tuple[tuple[str, Any, str], ...]
    narrow: Callable[[QuerySet[Any], Filters], QuerySet[Any]]
    order: tuple[str, ...]
    geometry: tuple[str, str] | None = None  # (field, type)
    # Personal columns: name -> key of accounts.access.PERSONAL_FIELDS.
    personal: tuple[tuple[str, Any, str, str], ...] = ()

    def queryset(self, user: Any, filters: Filters) -> QuerySet[Any]:
        return self.narrow(_exportable(user, self.model.objects.all(), self.area_field), filters)

    def open_personal(self, user: Any) -> list[tuple[str, Any, str, frozenset[int] | None]]:
        """The personal columns the user reads somewhere, with the areas where it does."""
        out = []
        for name, expression, kind, key in self.personal:
            areas = access.area_ids_with(user, access.PERSONAL_FIELDS[key])
            if areas != frozenset():
                out.append((name, expression, kind, areas))
        return out

    def kind(self) -> Kind:
        def read(request: Any, filters: Filters) -> tuple[Layout, Iterator[Chunk]]:
            user = request.user
            personal = self.open_personal(user)
            names = [c[0] for c in self.columns] + [p[0] for p in personal]
            types = [c[2] for c in self.columns] + [p[2] for p in personal]
            layout = Layout(self.name.replace("-", "_"), tuple(names), tuple(types), self.geometry_type)
            fields = {f"c{i}": expression for i, (_, expression, _) in enumerate(self.columns)}
            for i, (_, expression, _, areas) in enumerate(personal):
                fields[f"p{i}"] = Case(
                    When(_area_in(self.area_field, areas), then=expression),
                    default=Value(""),
                    output_field=CharField(),
                )
            if self.geometry:
                fields["geometry"] = AsWKB(self.geometry[0])
            rows = self.queryset(user, filters)
            if personal:
                self._record(request, rows, personal)
            ordered = rows.annotate(**fields).values_list(*fields)
            return layout, _chunks(ordered.order_by(*self.order), self.geometry is not None)

        def count(user: Any, filters: Filters) -> int:
            return self.queryset(user, filters).count()

        return Kind(self.name, self.title, self.filters, read, count, self.geometry_type)

    @property
    def geometry_type(self) -> str | None:
        return self.geometry[1] if self.geometry else None

    def _record(self, request: Any, rows: QuerySet[Any], personal: list[Any]) -> None:
        names = sorted(name for name, _, _, _ in personal)
        condition = Q()
        for _, _, _, areas in personal:
            condition |= _area_in(self.area_field, areas)
        events = rows.filter(condition).values(
            e_id=Cast("pk", CharField()),
            e_fields=Value('["' + '", "'.join(names) + '"]', output_field=CharField()),
            e_area=F(self.area_field),
        )
        observation_rows.insert_events(request, events, self.model._meta.label_lower)


def _area_in(field: str, areas: frozenset[int] | None) -> Q:
    if areas is None:
        return Q(pk__isnull=False)
    return Q(**{f"{field}__in": sorted(areas)}) if areas else Q(pk__isnull=True)


def _patrols(rows: QuerySet[Any], filters: Filters) -> QuerySet[Any]:
    return _area_and_days(rows, filters, "area_id", "start__date")


def _leg_days(rows: QuerySet[Any], filters: Filters) -> QuerySet[Any]:
    rows = _area_and_days(rows, filters, "patrol__area_id", "day")
    if filters.zone is not None:
        rows = rows.filter(pk__in=TrackSegment.objects.filter(zone_id=filters.zone).values("leg_day_id"))
    return rows


def _mett(rows: QuerySet[Any], filters: Filters) -> QuerySet[Any]:
    return _years(rows, filters, "assessment__area_id", "assessment__year")


def _budgets(rows: QuerySet[Any], filters: Filters) -> QuerySet[Any]:
    return _years(rows, filters, "area_id", "fiscal_year")


def _budget_lines(rows: QuerySet[Any], filters: Filters) -> QuerySet[Any]:
    return _years(rows, filters, "budget__area_id", "budget__fiscal_year")


AREA_PERIOD = frozenset({"area", "period"})

PATROLS = Table(
    "patrols",
    "Patrols",
    Patrol,
    "area_id",
    AREA_PERIOD,
    (
        ("record_uuid", F("record_uuid"), "str"),
        ("patrol_id", F("patrol_id"), "str"),
        ("area", F("area_id"), "int"),
        ("station", F("station"), "str"),
        ("team", F("team"), "str"),
        ("objective", F("objective"), "str"),
        ("armed", F("armed"), "bool"),
        ("start", F("start"), "str"),
        ("end", F("end"), "str"),
        ("legs", Count("legs", distinct=True), "int"),
        ("notes", F("notes"), "str"),
    ),
    _patrols,
    ("start", "pk"),
)

LEG_DAYS = Table(
    "leg-days",
    "Patrol leg-days with their tracks",
    PatrolLegDay,
    "patrol__area_id",
    frozenset({"area", "zone", "period"}),
    (
        ("record_uuid", F("record_uuid"), "str"),
        ("patrol_uuid", F("patrol__record_uuid"), "str"),
        ("patrol_id", F("patrol__patrol_id"), "str"),
        ("area", F("patrol__area_id"), "int"),
        ("leg", F("leg__number"), "int"),
        ("transport", F("leg__transport"), "str"),
        ("day", F("day"), "str"),
        ("start", F("start"), "str"),
        ("end", F("end"), "str"),
        ("distance_km", F("distance_km"), "float"),
        ("patrol_hours", F("patrol_hours"), "float"),
        ("field_hours", F("field_hours"), "float"),
        ("members", F("members"), "int"),
        ("person_days", F("person_days"), "float"),
    ),
    _leg_days,
    ("day", "pk"),
    geometry=("track", "MultiLineString"),
    personal=(
        ("leader", F("leg__leader"), "str", "observations.patrolleg.leader"),
        ("ranger_names", Cast("leg__members", CharField()), "str", "observations.patrolleg.members"),
    ),
)

METT = Table(
    "mett",
    "METT assessments, a row per question",
    METTScore,
    "assessment__area_id",
    AREA_PERIOD,
    (
        ("assessment_uuid", F("assessment__record_uuid"), "str"),
        ("area", F("assessment__area_id"), "int"),
        ("year", F("assessment__year"), "int"),
        ("version", F("assessment__version"), "str"),
        ("assessed_on", F("assessment__assessed_on"), "str"),
        ("score_total", F("assessment__score_total"), "int"),
        ("score_max", F("assessment__score_max"), "int"),
        ("question", F("question"), "str"),
        ("element", F("element"), "str"),
        ("second_element", F("second_element"), "str"),
        ("is_bonus", F("is_bonus"), "bool"),
        ("score", F("score"), "int"),
        ("comment", F("comment"), "str"),
        ("next_steps", F("next_steps"), "str"),
    ),
    _mett,
    ("assessment__area_id", "assessment__year", "assessment_id", "question"),
)

BUDGETS = Table(
    "budgets",
    "Budget returns",
    BudgetReturn,
    "area_id",
    AREA_PERIOD,
    (
        ("record_uuid", F("record_uuid"), "str"),
        ("area", F("area_id"), "int"),
        ("fiscal_year", F("fiscal_year"), "int"),
        ("fiscal_year_start", F("fiscal_year_start"), "str"),
        ("currency", F("currency"), "str"),
        ("staff_count", F("staff_count"), "int"),
        ("ranger_count", F("ranger_count"), "int"),
        ("need_basic", F("need_basic"), "float"),
        ("need_optimal", F("need_optimal"), "float"),
        ("notes", F("notes"), "str"),
    ),
    _budgets,
    ("area_id", "fiscal_year", "pk"),
)

BUDGET_LINES = Table(
    "budget-lines",
    "Budget lines (planned and actual)",
    BudgetLine,
    "budget__area_id",
    AREA_PERIOD,
    (
        ("budget_uuid", F("budget__record_uuid"), "str"),
        ("area", F("budget__area_id"), "int"),
        ("fiscal_year", F("budget__fiscal_year"), "int"),
        ("currency", F("budget__currency"), "str"),
        ("kind", F("kind"), "str"),
        ("category", F("category"), "str"),
        ("planned", F("planned"), "float"),
        ("actual", F("actual"), "float"),
    ),
    _budget_lines,
    ("budget__area_id", "budget__fiscal_year", "budget_id", "pk"),
)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        _observation_kind("observations", "Observations (every vertical)", None, {}),
        _observation_kind(
            "species",
            "Species observations",
            Vertical.BIODIVERSITY,
            {
                "taxon_name": (F("species__taxon_name"), "str"),
                "iucn_category": (F("species__taxon__iucn_category"), "str"),
                "adult_males": (F("species__adult_males"), "int"),
                "adult_females": (F("species__adult_females"), "int"),
                "juveniles": (F("species__juveniles"), "int"),
                "unknown_age_sex": (F("species__unknown_age_sex"), "int"),
                "evidence": (F("species__evidence"), "str"),
                "is_occurrence": _bool(F("species__is_occurrence")),
            },
        ),
        _observation_kind(
            "illicit-activity",
            "Illicit activity",
            Vertical.ILLICIT,
            {
                "suspects": (F("illicit__suspects"), "int"),
                "infraction": (F("illicit__infraction"), "str"),
                "threat": (F("illicit__threat"), "str"),
            },
        ),
        _observation_kind(
            "resource-use",
            "Natural-resource use",
            Vertical.RESOURCE_USE,
            {
                "resource_kind": (F("resource_use__kind"), "str"),
                "quantity": (F("resource_use__quantity"), "float"),
                "unit": (F("resource_use__unit"), "str"),
                "purpose": (F("resource_use__purpose"), "str"),
                "permitted": _bool(F("resource_use__permitted")),
                "users": (F("resource_use__users"), "str"),
            },
        ),
        PATROLS.kind(),
        LEG_DAYS.kind(),
        METT.kind(),
        BUDGETS.kind(),
        BUDGET_LINES.kind(),
    )
}
