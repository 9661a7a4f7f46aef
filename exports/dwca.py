"""A Darwin Core Archive for GBIF: patrol effort as an Event core, species as Occurrences.

The archive (https://dwc.tdwg.org/text/) holds four files besides meta.xml and eml.xml:

- ``event.txt``, the **Event core**: each patrol (``eventType`` Patrol), each of its
  leg-days (``eventType`` Patrol day, ``parentEventID`` the patrol), and an event of its own
  for a species record that belongs to no exported leg-day (an incidental sighting). The
  distance walked is ``sampleSizeValue`` in km; ``samplingEffort`` says the whole effort in
  words.
- ``humboldt.txt``, the **Humboldt extension** (TDWG, ratified February 2024; namespace
  ``http://rs.tdwg.org/eco/terms/``, rowType ``http://rs.tdwg.org/eco/terms/Event``; terms
  as in tdwg/hc ``dist/simple_eco_vertical.csv``): one row per patrol and leg-day, with
  ``samplingEffortValue`` in person-hours (field hours × rangers), ``eventDurationValue``
  in hours (patrol hours), ``isAbsenceReported`` false (patrols note what they see, not
  what they miss), ``targetTaxonomicScope`` from settings.
- ``occurrence.txt``, the **Occurrence extension**: the species records that are
  occurrences (observations.models.SpeciesObservation.is_occurrence) of a known taxon,
  joined to their event by ``eventID``; ``occurrenceID`` is the record's stable uuid.

Everything goes through the access policy as the other exports do: the records the user
may read in the areas where it may export; each point as observations.sensitivity shows it
to the user (generalised with ``dataGeneralizations``, ``informationWithheld`` and a grown
``coordinateUncertaintyInMeters``, or exact where the user may see it, which is audited per
chunk, action "export"). No personal field is written: no ranger, leader or observer name
(``recordedBy`` stays out), no suspect, no notes.

Files are tab-separated UTF-8 with one header line and no quoting, as GBIF's own archives
are; tabs and line breaks inside values become spaces. The ZIP is written as it is read
(zipfile on a stream that only appends): memory holds one chunk of rows at a time.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, cast
from xml.etree import ElementTree

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.db.models import Exists, F, FloatField, Func, Max, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts import access
from accounts.access import Capability
from accounts.models import AccessAction
from fieldkit import errors
from fieldkit.streams import ZipPipe
from observations import queries, sensitivity
from observations.models import Observation, PatrolLegDay, Taxon
from protected_areas.models import ProtectedArea

CHUNK = 2000

DWC = "http://rs.tdwg.org/dwc/terms/"
DCTERMS = "http://purl.org/dc/terms/"
ECO = "http://rs.tdwg.org/eco/terms/"
TEXT_NS = "http://rs.tdwg.org/dwc/text/"

EVENT_ROW_TYPE = DWC + "Event"
OCCURRENCE_ROW_TYPE = DWC + "Occurrence"
HUMBOLDT_ROW_TYPE = ECO + "Event"

# Columns of each file: (header, term IRI). The first column is the row's id (core) or the
# core id it joins (extensions).
EVENT_COLUMNS = [
    ("eventID", DWC + "eventID"),
    ("parentEventID", DWC + "parentEventID"),
    ("eventType", DWC + "eventType"),
    ("eventDate", DWC + "eventDate"),
    ("year", DWC + "year"),
    ("samplingProtocol", DWC + "samplingProtocol"),
    ("sampleSizeValue", DWC + "sampleSizeValue"),
    ("sampleSizeUnit", DWC + "sampleSizeUnit"),
    ("samplingEffort", DWC + "samplingEffort"),
    ("locationID", DWC + "locationID"),
    ("locality", DWC + "locality"),
    ("countryCode", DWC + "countryCode"),
    ("license", DCTERMS + "license"),
]
HUMBOLDT_COLUMNS = [
    ("eventID", DWC + "eventID"),
    ("isSamplingEffortReported", ECO + "isSamplingEffortReported"),
    ("samplingEffortProtocol", ECO + "samplingEffortProtocol"),
    ("samplingEffortValue", ECO + "samplingEffortValue"),
    ("samplingEffortUnit", ECO + "samplingEffortUnit"),
    ("eventDurationValue", ECO + "eventDurationValue"),
    ("eventDurationUnit", ECO + "eventDurationUnit"),
    ("targetTaxonomicScope", ECO + "targetTaxonomicScope"),
    ("isTaxonomicScopeFullyReported", ECO + "isTaxonomicScopeFullyReported"),
    ("isAbsenceReported", ECO + "isAbsenceReported"),
    ("isAbundanceReported", ECO + "isAbundanceReported"),
    ("inventoryTypes", ECO + "inventoryTypes"),
    ("protocolNames", ECO + "protocolNames"),
    ("samplingPerformedBy", ECO + "samplingPerformedBy"),
]
OCCURRENCE_COLUMNS = [
    ("eventID", DWC + "eventID"),
    ("occurrenceID", DWC + "occurrenceID"),
    ("basisOfRecord", DWC + "basisOfRecord"),
    ("occurrenceStatus", DWC + "occurrenceStatus"),
    ("scientificName", DWC + "scientificName"),
    ("taxonRank", DWC + "taxonRank"),
    ("kingdom", DWC + "kingdom"),
    ("class", DWC + "class"),
    ("family", DWC + "family"),
    ("vernacularName", DWC + "vernacularName"),
    ("individualCount", DWC + "individualCount"),
    ("eventDate", DWC + "eventDate"),
    ("decimalLatitude", DWC + "decimalLatitude"),
    ("decimalLongitude", DWC + "decimalLongitude"),
    ("geodeticDatum", DWC + "geodeticDatum"),
    ("coordinateUncertaintyInMeters", DWC + "coordinateUncertaintyInMeters"),
    ("dataGeneralizations", DWC + "dataGeneralizations"),
    ("informationWithheld", DWC + "informationWithheld"),
    ("countryCode", DWC + "countryCode"),
    ("locality", DWC + "locality"),
    ("license", DCTERMS + "license"),
]
FILES = {"event": "event.txt", "humboldt": "humboldt.txt", "occurrence": "occurrence.txt"}

PERSON_HOURS = "person-hours"
EFFORT_PROTOCOL = (
    "Person-hours: the leg-day's field hours (end minus start, less rest) times the rangers "
    "on it; a patrol sums its days. Distance (dwc:sampleSizeValue, km): geodesic length of "
    "the GPS track."
)
PATROL_PROTOCOL = "Ranger patrol (SMART-style leg-days): opportunistic sightings along the route"
INCIDENTAL_PROTOCOL = "Incidental sighting outside a recorded patrol day"

LICENCES = {
    "CC0_1_0": (
        "http://creativecommons.org/publicdomain/zero/1.0/legalcode",
        "Public Domain (CC0 1.0)",
    ),
    "CC_BY_4_0": (
        "http://creativecommons.org/licenses/by/4.0/legalcode",
        "Creative Commons Attribution (CC-BY) 4.0 License",
    ),
    "CC_BY_NC_4_0": (
        "http://creativecommons.org/licenses/by-nc/4.0/legalcode",
        "Creative Commons Attribution Non Commercial (CC-BY-NC) 4.0 License",
    ),
}

# Incidental events are named from their occurrence: uuid5 in this namespace.
_INCIDENTAL = uuid.UUID("6f1f3c1e-7d39-5a55-9a3c-0e1c6b7d2a11")


# --- Filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    areas: tuple[int, ...] = ()  # none: every area the user may export
    year: int | None = None  # the local calendar year of the day


def filters_of(params: Any) -> Filters:
    """`area` (repeated, or comma-separated ids) and `year` of a query string."""
    areas: list[int] = []
    for value in params.getlist("area") if hasattr(params, "getlist") else [params.get("area") or ""]:
        for text in str(value).split(","):
            text = text.strip()
            if not text:
                continue
            if not text.isdigit():
                raise errors.DWCA_BAD_FILTER(detail="area must be an id, or ids separated by commas")
            areas.append(int(text))
    year_text = (params.get("year") or "").strip()
    year = None
    if year_text:
        if not (year_text.isdigit() and len(year_text) == 4):
            raise errors.DWCA_BAD_FILTER(detail="year must be four digits, e.g. 2024")
        year = int(year_text)
    return Filters(tuple(sorted(set(areas))), year)


def _day_filter(field: str, filters: Filters) -> Q:
    if filters.year is None:
        return Q()
    # A range, not __year: the database can use the day's index.
    return Q(**{f"{field}__gte": date(filters.year, 1, 1), f"{field}__lte": date(filters.year, 12, 31)})


def leg_days_for(user: Any, filters: Filters) -> QuerySet[PatrolLegDay]:
    """The leg-days `user` may export: those of patrols of areas where it reads every record
    and may export, filtered."""
    days = access.visible(user, Capability.VIEW_RECORDS, PatrolLegDay.objects.all(), "patrol__area")
    exportable = access.area_ids_with(user, Capability.EXPORT)
    if exportable is not None:
        days = days.filter(patrol__area_id__in=exportable)
    if filters.areas:
        days = days.filter(patrol__area_id__in=filters.areas)
    return days.filter(_day_filter("day", filters))


def _in_events(user: Any, filters: Filters) -> Exists:
    """Whether an observation's leg-day is among the exported events (else it has its own)."""
    return Exists(leg_days_for(user, filters).filter(pk=OuterRef("leg_day_id")))


def occurrences_for(user: Any, filters: Filters) -> QuerySet[Observation]:
    """The species records (occurrences of a known taxon) `user` may export, filtered, with
    their sensitivity level and whether their leg-day is among the exported events."""
    rows = queries.observations_visible_to(user)
    exportable = access.area_ids_with(user, Capability.EXPORT)
    if exportable is not None:
        rows = rows.filter(area_id__in=exportable)
    if filters.areas:
        rows = rows.filter(area_id__in=filters.areas)
    rows = rows.filter(_day_filter("day", filters)).filter(
        species__is_occurrence=True, species__taxon__isnull=False
    )
    return sensitivity.with_levels(
        rows.annotate(
            in_events=_in_events(user, filters),
            leg_day_uuid=F("leg_day__record_uuid"),
            taxon_id=F("species__taxon_id"),
            individual_count=F("species__individual_count"),
            lon=Func("location", function="ST_X", output_field=FloatField()),
            lat=Func("location", function="ST_Y", output_field=FloatField()),
        ).order_by("pk")
    )


def patrols_for(user: Any, filters: Filters) -> QuerySet[Any]:
    """The patrols with at least one exported leg-day, with the effort of those days summed
    by the database (one GROUP BY over the exported leg-days)."""
    return (
        leg_days_for(user, filters)
        .values("patrol_id", "patrol__record_uuid", "patrol__area_id")
        .annotate(
            km=Sum("distance_km"),
            hours=Sum("patrol_hours"),
            person_hours=Sum(F("field_hours") * F("members")),
            first=Min("start"),
            last=Max("end"),
            first_day=Min("day"),
        )
        .order_by("patrol_id")
    )


# --- Rows -------------------------------------------------------------------------------------

_CLEAN = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def _text(value: Any) -> str:
    """A free text as a field of a file without quoting: tabs and line breaks become spaces."""
    return "" if value is None else str(value).translate(_CLEAN)


def _urn(value: uuid.UUID | str) -> str:
    return f"urn:uuid:{value}"


def _number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return ""
    rounded = round(float(value), digits)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def _interval(start: datetime | None, end: datetime | None, day: date | None = None) -> str:
    if start and end and end > start:
        return f"{start.isoformat()}/{end.isoformat()}"
    if start:
        return start.isoformat()
    return day.isoformat() if day else ""


def _effort_words(km: float | None, person_hours: float | None, hours: float | None) -> str:
    return (
        f"{_number(km, 2) or 0} km walked or driven; {_number(hours, 2) or 0} patrol hours; "
        f"{_number(person_hours, 2) or 0} person-hours"
    )


class _Areas:
    """Names and WDPA ids of the areas, read once (a few rows) for locality and locationID."""

    def __init__(self) -> None:
        self.rows = {
            pk: (_text(name), wdpa)
            for pk, name, wdpa in ProtectedArea.objects.values_list("pk", "name", "wdpa_id")
        }

    def location_id(self, pk: int | None) -> str:
        name_wdpa = self.rows.get(pk) if pk is not None else None
        if name_wdpa is None:
            return ""
        return f"https://www.protectedplanet.net/{name_wdpa[1]}" if name_wdpa[1] else f"area:{pk}"

    def name(self, pk: int | None) -> str:
        name_wdpa = self.rows.get(pk) if pk is not None else None
        return name_wdpa[0] if name_wdpa else ""


def _licence() -> str:
    return LICENCES.get(settings.DWCA_LICENCE, LICENCES["CC_BY_4_0"])[0]


def _event_row(
    event_id: str,
    parent: str,
    kind: str,
    when: str,
    year: int | None,
    protocol: str,
    km: float | None,
    effort: str,
    area: int | None,
    areas: _Areas,
) -> list[str]:
    return [
        event_id, parent, kind, when, str(year or ""), protocol,
        _number(km) if km is not None else "", "km" if km is not None else "", effort,
        areas.location_id(area), areas.name(area), _text(settings.DWCA_COUNTRY_CODE), _licence(),
    ]  # fmt: skip


def _humboldt_row(event_id: str, person_hours: float | None, hours: float | None) -> list[str]:
    return [
        event_id, "true", EFFORT_PROTOCOL, _number(person_hours), PERSON_HOURS,
        _number(hours), "hours" if hours is not None else "", _text(settings.DWCA_TARGET_TAXONOMIC_SCOPE),
        "false", "false", "true", "open search", PATROL_PROTOCOL, _text(settings.DWCA_PUBLISHER),
    ]  # fmt: skip


def _chunks(rows: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def event_rows(user: Any, filters: Filters, areas: _Areas) -> Iterator[list[list[str]]]:
    """The Event core, chunk by chunk: patrols, their leg-days, then incidental events."""
    for chunk in _chunks(patrols_for(user, filters).iterator(chunk_size=CHUNK)):
        yield [
            _event_row(
                _urn(p["patrol__record_uuid"]),
                "",
                "Patrol",
                _interval(p["first"], p["last"], p["first_day"]),
                p["first_day"].year,
                PATROL_PROTOCOL,
                p["km"],
                _effort_words(p["km"], p["person_hours"], p["hours"]),
                p["patrol__area_id"],
                areas,
            )
            for p in chunk
        ]
    days = (
        leg_days_for(user, filters)
        .values_list(
            "record_uuid", "patrol__record_uuid", "patrol__area_id", "day", "start", "end",
            "distance_km", "patrol_hours", "field_hours", "members",
        )
        .order_by("pk")
    )  # fmt: skip
    for chunk in _chunks(days.iterator(chunk_size=CHUNK)):
        yield [
            _event_row(
                _urn(day_uuid),
                _urn(patrol_uuid),
                "Patrol day",
                _interval(start, end, day),
                day.year,
                PATROL_PROTOCOL,
                km,
                _effort_words(km, field * members, hours),
                area,
                areas,
            )
            for day_uuid, patrol_uuid, area, day, start, end, km, hours, field, members in chunk
        ]
    incidental = (
        occurrences_for(user, filters)
        .filter(~_in_events(user, filters))
        .values_list("record_uuid", "time", "day", "area_id")
        .order_by("pk")
    )
    for chunk in _chunks(incidental.iterator(chunk_size=CHUNK)):
        yield [
            _event_row(
                _urn(incidental_event_id(record)),
                "",
                "Incidental sighting",
                _interval(time, None, day),
                day.year if day else None,
                INCIDENTAL_PROTOCOL,
                None,
                "",
                area,
                areas,
            )
            for record, time, day, area in chunk
        ]


def incidental_event_id(record_uuid: uuid.UUID | str) -> uuid.UUID:
    return uuid.uuid5(_INCIDENTAL, str(record_uuid))


def humboldt_rows(user: Any, filters: Filters) -> Iterator[list[list[str]]]:
    """The Humboldt extension: the effort of each patrol and leg-day."""
    for chunk in _chunks(patrols_for(user, filters).iterator(chunk_size=CHUNK)):
        yield [_humboldt_row(_urn(p["patrol__record_uuid"]), p["person_hours"], p["hours"]) for p in chunk]
    days = leg_days_for(user, filters).values_list("record_uuid", "field_hours", "members", "patrol_hours")
    for chunk in _chunks(days.order_by("pk").iterator(chunk_size=CHUNK)):
        yield [
            _humboldt_row(_urn(day_uuid), field * members, hours) for day_uuid, field, members, hours in chunk
        ]


@dataclass(frozen=True)
class _XY:
    x: float
    y: float


@dataclass(frozen=True)
class _Located:
    """What observations.sensitivity.located reads of an observation (its point, accuracy,
    area and level), read as plain values: no model instance and no geometry object per
    row, which would cost more than the rest of the row."""

    pk: int
    location: _XY | None
    accuracy_m: float | None
    area_id: int | None
    sensitivity_rank: int


_OCCURRENCE_VALUES = (
    "pk", "record_uuid", "time", "day", "accuracy_m", "area_id", "taxon_id", "individual_count",
    "in_events", "leg_day_uuid", "sensitivity_rank", "lon", "lat",
)  # fmt: skip


def _taxa() -> dict[int, list[str]]:
    """The taxon columns of each taxon, read once (the species list: hundreds of rows)."""
    return {
        pk: [_text(value) for value in names]
        for pk, *names in Taxon.objects.values_list(
            "pk", "scientific_name", "rank", "kingdom", "taxon_class", "family", "common_name"
        )
    }


def occurrence_rows(request: Any, filters: Filters, areas: _Areas) -> Iterator[list[list[str]]]:
    """The Occurrence extension, chunk by chunk, each point as the user may see it
    (observations.sensitivity.located). The exact sensitive points of a chunk are recorded
    (AccessAction.EXPORT) before it is given out."""
    view = sensitivity.UserView.of(request.user)
    country, licence = _text(settings.DWCA_COUNTRY_CODE), _licence()
    taxa = _taxa()
    values = occurrences_for(request.user, filters).values_list(*_OCCURRENCE_VALUES)
    for chunk in _chunks(values.iterator(chunk_size=CHUNK)):
        out, seen = [], []
        for pk, record, time, day, accuracy, area, taxon, count, in_events, leg_day, rank, lon, lat in chunk:
            point = _XY(lon, lat) if lon is not None else None
            shown = sensitivity.located(
                cast(Observation, _Located(pk, point, accuracy, area, rank or 0)), view
            )
            if sensitivity.exact_sensitive(shown):
                seen.append((Observation(pk=pk), ["location"], area))
            event = leg_day if in_events else incidental_event_id(record)
            placed = shown.lat is not None
            out.append([
                _urn(event), _urn(record), "HumanObservation", "present", *taxa[taxon],
                "" if count is None else str(count), _interval(time, None, day),
                repr(shown.lat) if placed else "", repr(shown.lon) if placed else "",
                "EPSG:4326" if placed else "", _number(shown.uncertainty_m, 0) if placed else "",
                shown.data_generalizations, shown.information_withheld, country, areas.name(area), licence,
            ])  # fmt: skip
        access.record_accesses(request, seen, action=AccessAction.EXPORT)
        yield out


# --- Files ------------------------------------------------------------------------------------


def tsv(rows: Iterable[list[str]]) -> bytes:
    """Rows as tab-separated lines. Values are made without tabs or line breaks: free texts
    (names, settings) pass through `_text` where they are read."""
    return "".join("\t".join(row) + "\n" for row in rows).encode()


def meta_xml() -> bytes:
    """The archive's descriptor: the Event core and its two extensions."""
    ElementTree.register_namespace("", TEXT_NS)
    archive = ElementTree.Element(f"{{{TEXT_NS}}}archive", {"metadata": "eml.xml"})

    def section(tag: str, row_type: str, location: str, columns: list[tuple[str, str]]) -> None:
        element = ElementTree.SubElement(
            archive,
            f"{{{TEXT_NS}}}{tag}",
            {
                "encoding": "UTF-8",
                "fieldsTerminatedBy": "\\t",
                "linesTerminatedBy": "\\n",
                "fieldsEnclosedBy": "",
                "ignoreHeaderLines": "1",
                "rowType": row_type,
            },
        )
        files = ElementTree.SubElement(element, f"{{{TEXT_NS}}}files")
        ElementTree.SubElement(files, f"{{{TEXT_NS}}}location").text = location
        ElementTree.SubElement(element, f"{{{TEXT_NS}}}{'id' if tag == 'core' else 'coreid'}", {"index": "0"})
        for index, (_, term) in enumerate(columns):
            ElementTree.SubElement(element, f"{{{TEXT_NS}}}field", {"index": str(index), "term": term})

    section("core", EVENT_ROW_TYPE, FILES["event"], EVENT_COLUMNS)
    section("extension", OCCURRENCE_ROW_TYPE, FILES["occurrence"], OCCURRENCE_COLUMNS)
    section("extension", HUMBOLDT_ROW_TYPE, FILES["humboldt"], HUMBOLDT_COLUMNS)
    ElementTree.indent(archive)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(archive, encoding="utf-8")


@dataclass(frozen=True)
class Coverage:
    west: float | None = None
    south: float | None = None
    east: float | None = None
    north: float | None = None
    begin: date | None = None
    end: date | None = None


def coverage(user: Any, filters: Filters) -> Coverage:
    """What the archive covers, computed by the database: the extent of the areas its rows
    belong to (the areas, not the points: a bounding box of exact points could give a lone
    sensitive record away) and its first and last day."""
    days = leg_days_for(user, filters)
    occurrences = occurrences_for(user, filters)
    # order_by(): the querysets' own order would make DISTINCT run over every row.
    area_ids = set(days.order_by().values_list("patrol__area_id", flat=True).distinct()) | set(
        occurrences.order_by().values_list("area_id", flat=True).distinct()
    )
    extent = ProtectedArea.objects.filter(pk__in=area_ids - {None}).aggregate(box=Extent("boundary"))["box"]
    span = days.aggregate(begin=Min("day"), end=Max("day"))
    seen = occurrences.order_by().aggregate(begin=Min("day"), end=Max("day"))
    begins = [d for d in (span["begin"], seen["begin"]) if d]
    ends = [d for d in (span["end"], seen["end"]) if d]
    west, south, east, north = extent if extent else (None, None, None, None)
    return Coverage(west, south, east, north, min(begins, default=None), max(ends, default=None))


def eml_xml(cover: Coverage, filters: Filters) -> bytes:
    """The dataset's metadata (EML 2.1.1, GBIF profile): title, publisher, contact, licence
    from settings; geographic and temporal coverage from the data."""
    eml_ns = "eml://ecoinformatics.org/eml-2.1.1"
    ElementTree.register_namespace("eml", eml_ns)
    lang = {"{http://www.w3.org/XML/1998/namespace}lang": settings.DWCA_LANGUAGE}
    package = {"packageId": f"fieldkit-dwca-{timezone.now():%Y%m%dT%H%M%S}", "system": "http://gbif.org"}
    root = ElementTree.Element(f"{{{eml_ns}}}eml", {**package, "scope": "system", **lang})
    dataset = ElementTree.SubElement(root, "dataset")
    title = settings.DWCA_TITLE + (f" ({filters.year})" if filters.year else "")
    ElementTree.SubElement(dataset, "title", lang).text = title

    def party(tag: str) -> None:
        element = ElementTree.SubElement(dataset, tag)
        if tag == "contact":
            name = ElementTree.SubElement(element, "individualName")
            ElementTree.SubElement(name, "surName").text = settings.DWCA_CONTACT_NAME
        ElementTree.SubElement(element, "organizationName").text = settings.DWCA_PUBLISHER
        if settings.DWCA_CONTACT_EMAIL:
            ElementTree.SubElement(element, "electronicMailAddress").text = settings.DWCA_CONTACT_EMAIL

    party("creator")
    party("metadataProvider")
    ElementTree.SubElement(dataset, "pubDate").text = timezone.now().date().isoformat()
    ElementTree.SubElement(dataset, "language").text = settings.DWCA_LANGUAGE
    abstract = ElementTree.SubElement(dataset, "abstract")
    ElementTree.SubElement(abstract, "para").text = settings.DWCA_ABSTRACT
    rights = ElementTree.SubElement(dataset, "intellectualRights")
    para = ElementTree.SubElement(rights, "para")
    url, words = LICENCES.get(settings.DWCA_LICENCE, LICENCES["CC_BY_4_0"])
    para.text = "This work is licensed under a "
    link = ElementTree.SubElement(para, "ulink", {"url": url})
    ElementTree.SubElement(link, "citetitle").text = words
    link.tail = "."
    cover_element = ElementTree.SubElement(dataset, "coverage")
    if cover.west is not None:
        geographic = ElementTree.SubElement(cover_element, "geographicCoverage")
        ElementTree.SubElement(
            geographic, "geographicDescription"
        ).text = "The protected areas the records come from (their bounding box)."
        box = ElementTree.SubElement(geographic, "boundingCoordinates")
        for tag, value in (
            ("westBoundingCoordinate", cover.west),
            ("eastBoundingCoordinate", cover.east),
            ("northBoundingCoordinate", cover.north),
            ("southBoundingCoordinate", cover.south),
        ):
            ElementTree.SubElement(box, tag).text = _number(value, 6)
    if cover.begin is not None and cover.end is not None:
        temporal = ElementTree.SubElement(cover_element, "temporalCoverage")
        dates = ElementTree.SubElement(temporal, "rangeOfDates")
        for tag, day in (("beginDate", cover.begin), ("endDate", cover.end)):
            when = ElementTree.SubElement(dates, tag)
            ElementTree.SubElement(when, "calendarDate").text = day.isoformat()
    party("contact")
    methods = ElementTree.SubElement(dataset, "methods")
    step = ElementTree.SubElement(ElementTree.SubElement(methods, "methodStep"), "description")
    ElementTree.SubElement(step, "para").text = f"{PATROL_PROTOCOL}. {EFFORT_PROTOCOL}"
    ElementTree.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="utf-8")


def _header(columns: list[tuple[str, str]]) -> list[str]:
    return [name for name, _ in columns]


def archive_chunks(request: Any, filters: Filters) -> Iterator[bytes]:
    """The archive as a ZIP, written and given out chunk by chunk."""
    user = request.user
    pipe = ZipPipe()
    areas = _Areas()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.xml", meta_xml())
        archive.writestr("eml.xml", eml_xml(coverage(user, filters), filters))
        yield pipe.take()
        parts: list[tuple[str, list[tuple[str, str]], Iterator[list[list[str]]]]] = [
            (FILES["event"], EVENT_COLUMNS, event_rows(user, filters, areas)),
            (FILES["humboldt"], HUMBOLDT_COLUMNS, humboldt_rows(user, filters)),
            (FILES["occurrence"], OCCURRENCE_COLUMNS, occurrence_rows(request, filters, areas)),
        ]
        for name, columns, chunks in parts:
            with archive.open(name, mode="w", force_zip64=True) as member:
                member.write(tsv([_header(columns)]))
                for chunk in chunks:
                    member.write(tsv(chunk))
                    yield pipe.take()
            yield pipe.take()
    yield pipe.take()
