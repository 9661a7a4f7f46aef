"""From a filled-in instance and its form's mapping to plain records: pure, no ORM.

`map_instance()` walks the instance along the form's fieldkit mapping
(observations.vocabulary) and returns dataclasses: a patrol with legs and days,
observations with their vertical details, a METT assessment, a budget return, plus the QA
flags raised on the way. Answers are read by observations.parsing; legs are cut into
leg-days by observations.days. Everything that needs the database (areas, zones, track
clipping, taxon lookup) happens in observations.records, which writes these dataclasses.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element

from observations import categories, vocabulary
from observations.parsing import (
    BadValue,
    GeoPoint,
    is_junk_fix,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_datetime_offset,
    parse_decimal,
    parse_geopoint,
    parse_geotrace,
    parse_int,
    parse_number,
    parse_uuid,
    parse_year,
)
from observations.vocabulary import FieldMapping, FormMapping, RecordMapping
from odk_forms import xform

# Times before this are a phone with a reset clock.
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
# A phone clock may run a little ahead of the server's.
FUTURE_TOLERANCE = timedelta(minutes=10)

LonLat = tuple[float, float]


@dataclass(frozen=True)
class Flag:
    code: str  # observations.models.QAFlagCode
    detail: str
    path: str = ""


@dataclass
class DayInput:
    path: str
    uuid: uuid.UUID | None = None
    # The UTC offset the phone wrote on the day's start.
    utc_offset: timedelta | None = None
    start: datetime | None = None
    end: datetime | None = None
    rest_minutes: float | None = None
    track: list[LonLat] | None = None


@dataclass
class LegInput:
    path: str
    uuid: uuid.UUID | None = None
    transport: str = ""
    mandate: str = ""
    leader: str = ""
    members: list[str] = field(default_factory=list)
    member_count: int | None = None
    # Used when the leg has no patrol_day repeats: cut into calendar days.
    start: datetime | None = None
    end: datetime | None = None
    rest_minutes: float | None = None
    track: list[LonLat] | None = None
    days: list[DayInput] = field(default_factory=list)
    # The UTC offset the phone wrote on the leg's (or its first day's) start: its local
    # time, used for the calendar where no area timezone is known.
    utc_offset: timedelta | None = None

    @property
    def people(self) -> int:
        if self.member_count:
            return self.member_count
        names = {m.strip().lower() for m in self.members if m.strip()}
        if self.leader.strip():
            names.add(self.leader.strip().lower())
        return max(1, len(names))


@dataclass
class PatrolInput:
    path: str
    uuid: uuid.UUID | None = None
    patrol_id: str = ""
    area_ref: str = ""
    station: str = ""
    team: str = ""
    objective: str = ""
    armed: bool | None = None
    notes: str = ""
    legs: list[LegInput] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def track_points(self) -> list[LonLat]:
        """Every track point of the patrol, in order: to find its area before days are cut."""
        points: list[LonLat] = []
        for leg in self.legs:
            for day in leg.days:
                points.extend(day.track or [])
            points.extend(leg.track or [])
        return points


@dataclass
class SeizedInput:
    path: str
    uuid: uuid.UUID | None = None
    kind: str = "other"
    quantity: float | None = None
    unit: str = ""
    destroyed: bool = False
    description: str = ""


@dataclass
class ObservationInput:
    path: str
    kind: str  # record kind as declared (observation, incident, species, resource_use)
    in_patrol: bool
    uuid: uuid.UUID | None = None
    location: GeoPoint | None = None
    time: datetime | None = None
    # The UTC offset written on `time` by the phone (its local time).
    utc_offset: timedelta | None = None
    category: str = "other"
    count: float | None = None
    notes: str = ""
    observer: str = ""
    photos: list[str] = field(default_factory=list)
    area_ref: str = ""
    # Instance path of the patrol_day record the observation sits in, if any.
    day_path: str = ""
    illicit: dict[str, object] | None = None
    # Every action taken (IllicitAction) and every item seized (SeizedItem).
    actions: list[str] = field(default_factory=list)
    seized: list[SeizedInput] = field(default_factory=list)
    resource: dict[str, object] | None = None
    species: dict[str, object] | None = None
    flags: list[Flag] = field(default_factory=list)

    @property
    def vertical(self) -> str:
        return categories.vertical_of(self.category)


@dataclass
class METTScoreInput:
    question: str
    score: int | None
    comment: str = ""
    next_steps: str = ""

    @property
    def is_bonus(self) -> bool:
        return len(self.question) == 4

    @property
    def elements(self) -> tuple[str, ...]:
        """The WCPA element(s) of the question: one, or two for METT-3's 8, 10, 14, 26, 29."""
        return vocabulary.METT_ELEMENTS[self.question[:3]]


@dataclass
class METTInput:
    path: str
    uuid: uuid.UUID | None = None
    area_ref: str = ""
    year: int | None = None
    version: str = "METT-3"
    assessed_on: date | None = None
    assessors: str = ""
    notes: str = ""
    scores: list[METTScoreInput] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def totals(self) -> tuple[int, int, int]:
        """(total, maximum, questions answered). N/A questions count in neither; a bonus
        point counts in the maximum when its question applies (METT-3's 7a–c, 21a–c,
        24a–c, 30a–c)."""
        main = {s.question: s.score for s in self.scores if not s.is_bonus}
        total = maximum = answered = 0
        for s in self.scores:
            if s.is_bonus:
                if main.get(s.question[:3]) is None:
                    continue
                maximum += 1
                total += s.score or 0
            elif s.score is not None:
                maximum += 3
                total += s.score
                answered += 1
        return total, maximum, answered


@dataclass
class BudgetInput:
    path: str
    uuid: uuid.UUID | None = None
    area_ref: str = ""
    fiscal_year: int | None = None
    currency: str = "PGK"
    staff_count: int | None = None
    ranger_count: int | None = None
    need_basic: Decimal | None = None
    need_optimal: Decimal | None = None
    notes: str = ""
    # (kind, category) → (planned, actual)
    lines: dict[tuple[str, str], tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)


@dataclass
class MappedSubmission:
    patrol: PatrolInput | None = None
    observations: list[ObservationInput] = field(default_factory=list)
    mett: METTInput | None = None
    budget: BudgetInput | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.patrol or self.observations or self.mett or self.budget)


# --- Walking the instance ----------------------------------------------------------------


def _find_all(element: Element, path: str) -> list[Element]:
    """Elements at `path` ("a/b/c") below `element`, every instance of every repeat (in a
    tree whose tags are local names: _local_tags)."""
    current = [element]
    for name in path.split("/") if path else []:
        current = [child for parent in current for child in parent if child.tag == name]
    return current


def _local_tags(root: Element) -> Element:
    """The instance with every tag reduced to its local name, once, rather than at each of
    the thousands of look-ups a patrol's answers take."""
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = xform.local_name(element.tag)
    return root


def _text_at(element: Element, path: str) -> str:
    found = _find_all(element, path)
    return (found[0].text or "").strip() if found else ""


class _Reader:
    """The answers of one record instance, by target, with flags for unreadable ones."""

    def __init__(self, record: RecordMapping, element: Element, path: str, flags: list[Flag]) -> None:
        self.record = record
        self.element = element
        self.path = path
        self.flags = flags

    def texts(self, target: str) -> list[tuple[FieldMapping, str]]:
        return [(f, _text_at(self.element, f.path)) for f in self.record.fields_for(target)]

    def has(self, target: str) -> bool:
        return bool(self.record.fields_for(target))

    def text(self, target: str) -> str:
        values = [v for _, v in self.texts(target) if v]
        return values[-1] if values else ""

    def answered(self, prefix: str) -> bool:
        return any(_text_at(self.element, f.path) for f in self.record.fields if f.target.startswith(prefix))

    def _where(self, f: FieldMapping) -> str:
        return f"{self.path}/{f.path}" if self.path else f.path

    def value(self, target: str, parse):  # type: ignore[no-untyped-def]
        """The parsed answer, or None when empty or unreadable (then flagged)."""
        for f, text in reversed(self.texts(target)):
            if not text:
                continue
            try:
                return parse(text)
            except BadValue as exc:
                self.flags.append(Flag("bad_value", f"{target}: {exc}", self._where(f)))
                return None
        return None

    def code(self, target: str, codes: str) -> str:
        """A coded answer (after the choice's fieldkit column), or "" (flagged if unknown)."""
        for f, text in reversed(self.texts(target)):
            if not text:
                continue
            value = f.code(text).strip().lower()
            if value in vocabulary.CODES[codes]:
                return value
            self.flags.append(
                Flag("unknown_code", f"{target}: {text!r} is not one of {codes}", self._where(f))
            )
            return ""
        return ""

    def codes_of(self, target: str) -> list[str]:
        """Every answer of a select_multiple (or lines/commas of a text), translated."""
        found: list[str] = []
        for f, text in self.texts(target):
            if f.kind == vocabulary.SELECT_MULTIPLE:
                found.extend(f.code(part) for part in text.split())
            else:
                found.extend(part.strip() for part in text.replace("\n", ",").split(",") if part.strip())
        return found

    def uuid(self) -> uuid.UUID | None:
        """The record's own `record.uuid` answer, or None (its uuid is then derived)."""
        return self.value("record.uuid", parse_uuid)

    def translated(self, target: str) -> str:
        for f, text in reversed(self.texts(target)):
            if text:
                return f.code(text)
        return ""


def map_instance(mapping: FormMapping, xml: bytes | Element, received_at: datetime) -> MappedSubmission:
    """The records a filled-in instance makes under its form's mapping.

    `received_at` is when the server got the submission: times later than that are flagged
    as future times, so a re-run next year flags the same things.
    """
    root = _local_tags(xform.parse_xml(xml) if isinstance(xml, bytes) else copy.deepcopy(xml))
    result = MappedSubmission()
    if mapping.root is None:
        return result
    _walk(mapping.root, root, "", None, result, received_at)
    return result


def _walk(
    record: RecordMapping,
    element: Element,
    path: str,
    patrol: PatrolInput | None,
    result: MappedSubmission,
    received_at: datetime,
    day_path: str = "",
) -> None:
    kind = record.base_kind
    if kind == vocabulary.PATROL:
        patrol = _read_patrol(record, element, path, received_at)
        result.patrol = patrol
    elif kind == vocabulary.OBSERVATION:
        observation = _read_observation(record, element, path, patrol is not None, received_at)
        observation.day_path = day_path
        result.observations.append(observation)
    elif kind == vocabulary.METT:
        result.mett = _read_mett(record, element, path)
    elif kind == vocabulary.BUDGET:
        result.budget = _read_budget(record, element, path)
    elif kind == vocabulary.DAY:
        # Read with its patrol; only the observations inside it are walked here, and
        # they belong to this day whatever their clock says.
        day_path = path
    for child in record.children:
        relative = child.path[len(record.path) + 1 :] if record.path else child.path
        for index, child_element in enumerate(_find_all(element, relative), start=1):
            child_path = _join(path, f"{relative}[{index}]" if child.is_repeat else relative)
            _walk(child, child_element, child_path, patrol, result, received_at, day_path)


def _join(base: str, relative: str) -> str:
    return f"{base}/{relative}" if base else relative


def _children_of(record: RecordMapping, kind: str, element: Element, path: str):  # type: ignore[no-untyped-def]
    for child in record.children:
        if child.base_kind != kind:
            continue
        relative = child.path[len(record.path) + 1 :] if record.path else child.path
        for index, child_element in enumerate(_find_all(element, relative), start=1):
            yield child, child_element, _join(path, f"{relative}[{index}]")


def _read_patrol(record: RecordMapping, element: Element, path: str, received_at: datetime) -> PatrolInput:
    flags: list[Flag] = []
    r = _Reader(record, element, path, flags)
    patrol = PatrolInput(
        path=path,
        uuid=r.uuid(),
        patrol_id=r.text("patrol.id"),
        area_ref=r.translated("patrol.area"),
        station=r.translated("patrol.station"),
        team=r.translated("patrol.team"),
        objective=r.text("patrol.objective"),
        armed=r.value("patrol.armed", parse_bool),
        notes=r.text("patrol.notes"),
        flags=flags,
    )
    defaults = _read_leg(r, path, received_at)
    defaults.uuid = None  # the patrol's own uuid is not its leg's
    legs = list(_children_of(record, vocabulary.LEG, element, path))
    if legs:
        for leg_record, leg_element, leg_path in legs:
            leg_reader = _Reader(leg_record, leg_element, leg_path, flags)
            leg = _read_leg(leg_reader, leg_path, received_at, defaults)
            leg.days = [
                _read_day(_Reader(d, e, p, flags), p, received_at)
                for d, e, p in _children_of(leg_record, vocabulary.DAY, leg_element, leg_path)
            ]
            patrol.legs.append(leg)
    else:
        defaults.days = [
            _read_day(_Reader(d, e, p, flags), p, received_at)
            for d, e, p in _children_of(record, vocabulary.DAY, element, path)
        ]
        patrol.legs.append(defaults)
    for leg in patrol.legs:
        if leg.utc_offset is None:
            leg.utc_offset = next((d.utc_offset for d in leg.days if d.utc_offset is not None), None)
    return patrol


def _read_leg(r: _Reader, path: str, received_at: datetime, defaults: LegInput | None = None) -> LegInput:
    """A leg's answers; what a leg does not answer comes from the patrol (`defaults`)."""
    start, offset = _checked_time_offset(r, "patrol.start", received_at)
    leg = LegInput(
        path=path,
        uuid=r.uuid(),
        utc_offset=offset,
        transport=r.code("patrol.transport", "transport"),
        mandate=r.translated("patrol.mandate"),
        leader=r.translated("patrol.leader"),
        members=r.codes_of("patrol.members"),
        member_count=r.value("patrol.member_count", parse_int),
        start=start,
        end=_checked_time(r, "patrol.end", received_at),
        rest_minutes=r.value("patrol.rest_minutes", parse_number),
        track=_read_track(r),
    )
    if defaults is not None:
        leg.transport = leg.transport or defaults.transport
        leg.mandate = leg.mandate or defaults.mandate
        leg.leader = leg.leader or defaults.leader
        leg.members = leg.members or defaults.members
        leg.member_count = leg.member_count or defaults.member_count
    return leg


def _read_day(r: _Reader, path: str, received_at: datetime) -> DayInput:
    start, offset = _checked_time_offset(r, "patrol.start", received_at)
    return DayInput(
        path=path,
        uuid=r.uuid(),
        utc_offset=offset,
        start=start,
        end=_checked_time(r, "patrol.end", received_at),
        rest_minutes=r.value("patrol.rest_minutes", parse_number),
        track=_read_track(r),
    )


def _read_track(r: _Reader) -> list[LonLat] | None:
    """The track's points without junk fixes; None (flagged) when fewer than two remain."""
    if not r.has("patrol.track"):
        return None
    text = r.text("patrol.track")
    where = r.path or "(root)"
    if not text:
        r.flags.append(Flag("short_track", "no track was recorded", where))
        return None
    try:
        points = parse_geotrace(text)
    except BadValue as exc:
        r.flags.append(Flag("bad_fix", f"patrol.track: {exc}", where))
        return None
    junk = [p for p in points if is_junk_fix(p)]
    if junk:
        r.flags.append(Flag("junk_fix", f"{len(junk)} junk point(s) left out of the track", where))
    kept = [(p.lon, p.lat) for p in points if not is_junk_fix(p)]
    # Consecutive duplicates (the phone standing still) add nothing and make zero-length parts.
    deduped = [pt for i, pt in enumerate(kept) if i == 0 or pt != kept[i - 1]]
    if len(deduped) < 2:
        r.flags.append(Flag("short_track", f"the track has {len(deduped)} usable point(s)", where))
        return None
    return deduped


def _checked_time_offset(
    r: _Reader, target: str, received_at: datetime
) -> tuple[datetime | None, timedelta | None]:
    found = r.value(target, parse_datetime_offset)
    if found is None:
        return None, None
    value, offset = found
    _flag_time(value, target, r.path, r.flags, received_at)
    return value, offset


def _checked_time(r: _Reader, target: str, received_at: datetime) -> datetime | None:
    value = r.value(target, parse_datetime)
    if value is not None:
        _flag_time(value, target, r.path, r.flags, received_at)
    return value


def _flag_time(value: datetime, what: str, path: str, flags: list[Flag], received_at: datetime) -> None:
    if value > received_at + FUTURE_TOLERANCE:
        flags.append(Flag("future_time", f"{what} {value.isoformat()} is after the submission arrived", path))
    elif value < EARLIEST_TIME:
        flags.append(Flag("ancient_time", f"{what} {value.isoformat()} is before 2000", path))


def _read_observation(
    record: RecordMapping, element: Element, path: str, in_patrol: bool, received_at: datetime
) -> ObservationInput:
    flags: list[Flag] = []
    r = _Reader(record, element, path, flags)
    obs = ObservationInput(path=path, kind=record.kind, in_patrol=in_patrol, uuid=r.uuid(), flags=flags)

    location_text = r.text("observation.location")
    if location_text:
        try:
            point = parse_geopoint(location_text)
        except BadValue as exc:
            flags.append(Flag("bad_fix", str(exc), path))
        else:
            if is_junk_fix(point):
                flags.append(Flag("junk_fix", f"junk GPS fix {point.lat} {point.lon} left out", path))
            else:
                obs.location = point
    elif r.has("observation.location"):
        flags.append(Flag("no_location", "no GPS fix was taken", path))

    obs.time, obs.utc_offset = _checked_time_offset(r, "observation.time", received_at)
    obs.count = r.value("observation.count", parse_number)
    obs.notes = "\n".join(v for _, v in r.texts("observation.notes") if v)
    obs.observer = r.translated("observation.observer")
    obs.photos = [xform.basename(v) for _, v in r.texts("observation.photo") if v]
    obs.area_ref = r.translated("observation.area")

    category = ""
    for f, text in reversed(r.texts("observation.category")):
        if not text:
            continue
        slug = f.code(text).strip()
        if categories.is_known(slug):
            category = slug
        else:
            flags.append(Flag("unknown_code", f"observation.category: {text!r} is not a category", path))
        break
    wants_illicit = record.kind == "incident" or r.answered("illicit.")
    wants_resource = record.kind == "resource_use" or r.answered("resource.")
    wants_species = record.kind == "species" or r.answered("species.")
    if not category:
        category = vocabulary.OBSERVATION_ALIASES.get(record.kind, "")
        if not category:
            if wants_species:
                category = "animals"
            elif wants_illicit or wants_resource:
                category = "human_activity"
            else:
                category = "other"
    implied_action = ""
    if category in categories.ACTION_CATEGORIES:
        # Counting rule 2: an arrest or a confiscation is an action, not a category record.
        implied_action, category = categories.ACTION_CATEGORIES[category]
        wants_illicit = True
    obs.category = category
    vertical = obs.vertical

    if wants_illicit or vertical == "illicit":
        obs.illicit = {
            "suspects": r.value("illicit.suspects", parse_int),
            "suspect_names": r.text("illicit.suspect_names"),
            "infraction": r.translated("illicit.infraction"),
            "threat": r.translated("illicit.threat"),
        }
        obs.actions = _read_actions(r, implied_action)
        obs.seized = [
            _read_seized(_Reader(s, e, p, flags), p)
            for s, e, p in _children_of(record, vocabulary.SEIZED, element, path)
        ]
        items_text = r.text("illicit.items")
        if items_text:
            obs.seized.append(SeizedInput(path=path, kind="other", description=items_text))
    if wants_resource or vertical == "resource_use":
        obs.resource = {
            "kind": r.code("resource.kind", "resource_kind")
            or categories.implied(categories.RESOURCE_KIND_BY_CATEGORY, category),
            "quantity": r.value("resource.quantity", parse_number),
            "unit": r.code("resource.unit", "resource_unit"),
            "purpose": r.code("resource.purpose", "purpose"),
            "permitted": r.value("resource.permitted", parse_bool),
            "users": r.code("resource.users", "users"),
        }
    if wants_species or vertical == "biodiversity":
        counts = {
            "adult_males": r.value("species.count_adult_male", parse_int),
            "adult_females": r.value("species.count_adult_female", parse_int),
            "juveniles": r.value("species.count_juvenile", parse_int),
            "unknown_age_sex": r.value("species.count_unknown", parse_int),
        }
        answered = [v for v in counts.values() if v is not None]
        if answered:
            individuals: int | None = sum(answered)
        elif obs.count is not None and obs.count >= 0 and obs.count == int(obs.count):
            individuals = int(obs.count)
        else:
            individuals = None
        evidence = r.code("species.evidence", "evidence") or categories.implied(
            categories.EVIDENCE_BY_CATEGORY, category
        )
        # Counting rule 1: bushmeat, parts and carcasses name a taxon but are no occurrence,
        # unless the form says they are.
        occurrence = r.value("species.occurrence", parse_bool)
        obs.species = {
            "taxon": r.translated("species.taxon").strip(),
            **counts,
            "individual_count": individuals,
            "evidence": evidence,
            "is_occurrence": occurrence
            if occurrence is not None
            else categories.is_occurrence(category, evidence),
        }
    return obs


def _read_actions(r: _Reader, implied_action: str) -> list[str]:
    """Every action taken (a select_multiple, or several questions), known codes only,
    each once, in the order of vocabulary.CODES."""
    allowed = vocabulary.CODES["action_taken"]
    found = {implied_action} if implied_action else set()
    for f, text in r.texts("illicit.action_taken"):
        parts = text.split() if f.kind == vocabulary.SELECT_MULTIPLE else [text] if text else []
        for part in parts:
            code = f.code(part).strip().lower()
            if code in allowed:
                found.add(code)
            else:
                r.flags.append(
                    Flag("unknown_code", f"illicit.action_taken: {part!r} is not one of action_taken", r.path)
                )
    return [code for code in allowed if code in found]


def _read_seized(r: _Reader, path: str) -> SeizedInput:
    return SeizedInput(
        path=path,
        uuid=r.uuid(),
        kind=r.code("seized.kind", "seized_kind") or "other",
        quantity=r.value("seized.quantity", parse_number),
        unit=r.code("seized.unit", "resource_unit"),
        destroyed=bool(r.value("seized.destroyed", parse_bool)),
        description=r.text("seized.description"),
    )


def _read_mett(record: RecordMapping, element: Element, path: str) -> METTInput:
    flags: list[Flag] = []
    r = _Reader(record, element, path, flags)
    mett = METTInput(
        path=path,
        uuid=r.uuid(),
        version=(r.translated("mett.version").strip() or "METT-3")[:16],
        area_ref=r.translated("mett.area"),
        year=r.value("mett.year", parse_year),
        assessed_on=r.value("mett.date", parse_date),
        assessors=r.text("mett.assessors"),
        notes=r.text("mett.notes"),
        flags=flags,
    )
    if mett.year is None and mett.assessed_on is not None:
        mett.year = mett.assessed_on.year
    for question in (*vocabulary.METT_QUESTIONS, *vocabulary.METT_BONUS):
        target = f"mett.{question}"
        if not r.has(target):
            continue
        codes = "mett_bonus" if question in vocabulary.METT_BONUS else "mett_score"
        answer = r.code(target, codes)
        mett.scores.append(
            METTScoreInput(
                question=question,
                score=int(answer) if answer not in ("", "na") else None,
                comment=r.text(f"{target}.comment"),
                next_steps=r.text(f"{target}.next_steps"),
            )
        )
    return mett


def _read_budget(record: RecordMapping, element: Element, path: str) -> BudgetInput:
    flags: list[Flag] = []
    r = _Reader(record, element, path, flags)
    budget = BudgetInput(
        path=path,
        uuid=r.uuid(),
        area_ref=r.translated("budget.area"),
        fiscal_year=r.value("budget.fiscal_year", parse_year),
        currency=(r.translated("budget.currency") or "PGK").upper()[:3],
        staff_count=r.value("budget.staff_count", parse_int),
        ranger_count=r.value("budget.ranger_count", parse_int),
        need_basic=r.value("budget.need.basic", parse_decimal),
        need_optimal=r.value("budget.need.optimal", parse_decimal),
        notes=r.text("budget.notes"),
        flags=flags,
    )
    for kind, names in (("income", vocabulary.BUDGET_INCOME), ("spend", vocabulary.BUDGET_SPEND)):
        for name in names:
            actual = r.value(f"budget.{kind}.{name}", parse_decimal)
            planned = r.value(f"budget.{kind}.{name}.planned", parse_decimal)
            if actual is not None or planned is not None:
                budget.lines[(kind, name)] = (planned, actual)
    return budget
