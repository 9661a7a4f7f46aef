"""The fieldkit mapping vocabulary: how a form says which of its questions become which
domain records (patrols, observations of the four verticals, METT assessments, budgets).

Any form can be mapped, the standard ones and an agency's own, without code. The mapping
lives in the form as attributes on its binds, read once when the form is published
(`read_mapping`); mistakes (unknown target, wrong question type, unknown code) are refused
there, with a message naming the question, not at ingest.

The manual for people writing forms (XLSForm columns, record kinds, targets, values) is
standard_forms/README.md, "The mapping vocabulary"; the targets and codes themselves are
below (TARGETS, CODES), and `read_mapping` checks a form against them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from observations import categories
from odk_forms import xform

FIELDKIT_NS = "https://fieldkit.example.org/xforms"
NAMESPACE_DECLARATION = f'fieldkit="{FIELDKIT_NS}"'
_MAP = f"{{{FIELDKIT_NS}}}map"
_RECORD = f"{{{FIELDKIT_NS}}}record"

# --- Record kinds ----------------------------------------------------------------------

PATROL, LEG, DAY = "patrol", "patrol_leg", "patrol_day"
OBSERVATION, METT, BUDGET = "observation", "mett", "budget"
# Something seized or destroyed, a repeat inside an observation (SeizedItem).
SEIZED = "seized_item"
# Observation aliases → the category an observation of that kind has when none is answered.
OBSERVATION_ALIASES = {
    "incident": "human_activity",
    "species": "animals",
    "resource_use": "human_activity",
}
RECORD_KINDS = (PATROL, LEG, DAY, OBSERVATION, *OBSERVATION_ALIASES, METT, BUDGET, SEIZED)
# Where each kind may sit: the kinds of its nearest enclosing record ("" = the root).
_ALLOWED_PARENTS: dict[str, set[str]] = {
    PATROL: {""},
    LEG: {PATROL},
    DAY: {PATROL, LEG},
    OBSERVATION: {"", PATROL, LEG, DAY},
    METT: {""},
    BUDGET: {""},
    SEIZED: {OBSERVATION},
}
# Kinds that may repeat within one submission.
_REPEATABLE = {LEG, DAY, OBSERVATION, SEIZED}


def base_kind(kind: str) -> str:
    return OBSERVATION if kind in OBSERVATION_ALIASES else kind


# --- Question kinds --------------------------------------------------------------------

TEXT, INT, DECIMAL, DATE, DATETIME, TIME = "text", "int", "decimal", "date", "datetime", "time"
GEOPOINT, GEOTRACE, GEOSHAPE, SELECT_ONE, SELECT_MULTIPLE, BINARY = (
    "geopoint", "geotrace", "geoshape", "select_one", "select_multiple", "binary",
)  # fmt: skip
_BIND_TYPES = {
    "string": TEXT, "int": INT, "integer": INT, "decimal": DECIMAL, "date": DATE,
    "datetime": DATETIME, "time": TIME, "geopoint": GEOPOINT, "geotrace": GEOTRACE,
    "geoshape": GEOSHAPE, "binary": BINARY, "barcode": TEXT,
}  # fmt: skip

# --- Codes -----------------------------------------------------------------------------

YES = ("yes", "true", "1", "y")
NO = ("no", "false", "0", "n")
CODES: dict[str, tuple[str, ...]] = {
    # SMART's transport groups are ground, marine and air; speed checks need finer kinds.
    "transport": ("foot", "vehicle", "motorbike", "boat", "air"),
    # SMART's actiontaken_people values, plus what rangers do with items found.
    "action_taken": (
        "observed_only", "unsuccessful_pursuit", "arrested", "verbal_warning", "written_warning",
        "confiscated", "destroyed", "reported",
    ),
    "resource_kind": ("timber", "firewood", "ntfp", "fish", "bushmeat", "clearing", "minerals", "other"),
    "resource_unit": ("logs", "m3", "kg", "ha", "items", "bundles", "litres"),
    "purpose": ("subsistence", "commercial", "customary", "unknown"),
    "users": ("community", "outsiders", "mixed", "unknown"),
    "evidence": ("direct", "sign", "track", "dung", "call", "carcass", "camera_trap", "nest", "other"),
    "boolean": YES + NO,
    "mett_score": ("0", "1", "2", "3", "na"),
    "mett_bonus": ("0", "1"),
    "seized_kind": (
        "snare", "firearm", "homemade_gun", "ammunition", "cutting_tool", "chainsaw", "fishing_gear",
        "explosive", "bushmeat", "animal_parts", "live_animal", "timber", "fish", "vehicle", "boat",
        "other",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    name: str
    kinds: frozenset[str]
    # Record kinds (base kinds) that accept the target.
    records: frozenset[str]
    # Model and field it fills, for people: "Patrol.team".
    field: str
    # Name of a CODES list, "category", "area", "taxon", or "" for free values.
    codes: str = ""
    # May be mapped by several questions of one record.
    multiple: bool = False
    help: str = ""


_T = Target
_P, _PL, _PLD = frozenset({PATROL}), frozenset({PATROL, LEG}), frozenset({PATROL, LEG, DAY})
_OBS, _M, _B = frozenset({OBSERVATION}), frozenset({METT}), frozenset({BUDGET})
_SZ = frozenset({SEIZED})
_ALL_RECORDS = frozenset({PATROL, LEG, DAY, OBSERVATION, METT, BUDGET, SEIZED})


def _k(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


_NUMBER = _k(INT, DECIMAL)
_CHOICE_OR_TEXT = _k(SELECT_ONE, TEXT)
_BOOL = _k(SELECT_ONE, INT, TEXT)

_TARGET_LIST: list[Target] = [
    # Any record: its stable identity (the standard forms' once(uuid()) in every repeat)
    _T("record.uuid", _k(TEXT), _ALL_RECORDS, "<record>.record_uuid",
       help="a UUID that stays the same across edits, e.g. a calculate once(uuid()) in the repeat"),
    # Patrol (SMART patrol / leg / leg-day)
    _T("patrol.id", _k(TEXT), _P, "Patrol.patrol_id", help="the agency's patrol number"),
    _T("patrol.area", _k(SELECT_ONE, TEXT, INT), _P, "Patrol.area", "area"),
    _T("patrol.station", _CHOICE_OR_TEXT, _P, "Patrol.station"),
    _T("patrol.team", _CHOICE_OR_TEXT, _P, "Patrol.team"),
    _T("patrol.objective", _k(TEXT), _P, "Patrol.objective"),
    _T("patrol.leader", _CHOICE_OR_TEXT, _PL, "PatrolLeg.leader"),
    _T("patrol.members", _k(SELECT_MULTIPLE, TEXT), _PL, "PatrolLeg.members"),
    _T("patrol.member_count", _k(INT), _PL, "PatrolLeg.member_count",
       help="people on the leg when members are not listed by name"),
    _T("patrol.transport", _CHOICE_OR_TEXT, _PL, "PatrolLeg.transport", "transport"),
    _T("patrol.mandate", _CHOICE_OR_TEXT, _PL, "PatrolLeg.mandate",
       help="free slug: law_enforcement, monitoring, community, boundary..."),
    _T("patrol.armed", _BOOL, _P, "Patrol.armed", "boolean"),
    _T("patrol.start", _k(DATETIME), _PLD, "PatrolLegDay.start"),
    _T("patrol.end", _k(DATETIME), _PLD, "PatrolLegDay.end"),
    _T("patrol.rest_minutes", _NUMBER, _PLD, "PatrolLegDay.rest_minutes"),
    _T("patrol.track", _k(GEOTRACE), _PLD, "PatrolLegDay.track"),
    _T("patrol.notes", _k(TEXT), _P, "Patrol.notes"),
    # Observation (SMART waypoint + observation; EarthRanger event)
    _T("observation.location", _k(GEOPOINT), _OBS, "Observation.location"),
    _T("observation.time", _k(DATETIME), _OBS, "Observation.time"),
    _T("observation.category", _CHOICE_OR_TEXT, _OBS, "Observation.category", "category", multiple=True),
    _T("observation.photo", _k(BINARY), _OBS, "Observation.photos", multiple=True),
    _T("observation.count", _NUMBER, _OBS, "Observation.count"),
    _T("observation.notes", _k(TEXT), _OBS, "Observation.notes", multiple=True),
    _T("observation.observer", _CHOICE_OR_TEXT, _OBS, "Observation.observer"),
    _T("observation.area", _k(SELECT_ONE, TEXT, INT), _OBS, "Observation.area", "area",
       help="only where no location is taken: the point-in-polygon join wins"),
    # Illicit activity
    _T("illicit.action_taken", _k(SELECT_ONE, SELECT_MULTIPLE, TEXT), _OBS, "IllicitAction.action",
       "action_taken", multiple=True, help="every action taken: arrested and confiscated are two"),
    _T("illicit.suspects", _k(INT), _OBS, "IllicitActivity.suspects"),
    _T("illicit.suspect_names", _k(TEXT), _OBS, "IllicitActivity.suspect_names",
       help="kept for law enforcement, never published"),
    _T("illicit.infraction", _CHOICE_OR_TEXT, _OBS, "IllicitActivity.infraction",
       help="free slug: hunting_in_pa, illegal_entry, possession_firearm..."),
    _T("illicit.threat", _CHOICE_OR_TEXT, _OBS, "IllicitActivity.threat",
       help="IUCN-CMP threat class, e.g. 5.1.1"),
    _T("illicit.items", _k(TEXT), _OBS, "SeizedItem(other).description",
       help="free text of what was seized; better a seized_item repeat"),
    # Seized or destroyed items (a seized_item repeat inside the observation)
    _T("seized.kind", _CHOICE_OR_TEXT, _SZ, "SeizedItem.kind", "seized_kind"),
    _T("seized.quantity", _NUMBER, _SZ, "SeizedItem.quantity"),
    _T("seized.unit", _CHOICE_OR_TEXT, _SZ, "SeizedItem.unit", "resource_unit"),
    _T("seized.destroyed", _BOOL, _SZ, "SeizedItem.destroyed", "boolean"),
    _T("seized.description", _k(TEXT), _SZ, "SeizedItem.description"),
    # Resource use
    _T("resource.kind", _CHOICE_OR_TEXT, _OBS, "ResourceUse.kind", "resource_kind"),
    _T("resource.quantity", _NUMBER, _OBS, "ResourceUse.quantity"),
    _T("resource.unit", _CHOICE_OR_TEXT, _OBS, "ResourceUse.unit", "resource_unit"),
    _T("resource.purpose", _CHOICE_OR_TEXT, _OBS, "ResourceUse.purpose", "purpose"),
    _T("resource.permitted", _BOOL, _OBS, "ResourceUse.permitted", "boolean"),
    _T("resource.users", _CHOICE_OR_TEXT, _OBS, "ResourceUse.users", "users"),
    # Species
    _T("species.taxon", _CHOICE_OR_TEXT, _OBS, "SpeciesObservation.taxon", "taxon"),
    _T("species.count_adult_male", _k(INT), _OBS, "SpeciesObservation.adult_males"),
    _T("species.count_adult_female", _k(INT), _OBS, "SpeciesObservation.adult_females"),
    _T("species.count_juvenile", _k(INT), _OBS, "SpeciesObservation.juveniles"),
    _T("species.count_unknown", _k(INT), _OBS, "SpeciesObservation.unknown_age_sex"),
    _T("species.evidence", _CHOICE_OR_TEXT, _OBS, "SpeciesObservation.evidence", "evidence"),
    _T("species.occurrence", _BOOL, _OBS, "SpeciesObservation.is_occurrence", "boolean",
       help="yes: the record counts in species richness even for bushmeat, parts or a carcass"),
    # METT-3
    _T("mett.area", _k(SELECT_ONE, TEXT, INT), _M, "METTAssessment.area", "area"),
    _T("mett.year", _k(INT, DATE), _M, "METTAssessment.year"),
    _T("mett.date", _k(DATE), _M, "METTAssessment.assessed_on"),
    _T("mett.assessors", _k(TEXT), _M, "METTAssessment.assessors"),
    _T("mett.notes", _k(TEXT), _M, "METTAssessment.notes"),
    _T("mett.version", _CHOICE_OR_TEXT, _M, "METTAssessment.version",
       help="METT-3 (if absent), METT-4 or a national variant such as PNG-METT"),
    # Budget and spending (UNDP Financial Sustainability Scorecard, part I)
    _T("budget.area", _k(SELECT_ONE, TEXT, INT), _B, "BudgetReturn.area", "area"),
    _T("budget.fiscal_year", _k(INT, DATE), _B, "BudgetReturn.fiscal_year"),
    _T("budget.currency", _CHOICE_OR_TEXT, _B, "BudgetReturn.currency", help="ISO 4217; PGK if absent"),
    _T("budget.staff_count", _k(INT), _B, "BudgetReturn.staff_count"),
    _T("budget.ranger_count", _k(INT), _B, "BudgetReturn.ranger_count"),
    _T("budget.need.basic", _NUMBER, _B, "BudgetReturn.need_basic"),
    _T("budget.need.optimal", _NUMBER, _B, "BudgetReturn.need_optimal"),
    _T("budget.notes", _k(TEXT), _B, "BudgetReturn.notes"),
]  # fmt: skip

METT_QUESTIONS = tuple(f"q{n:02d}" for n in range(1, 31))
# Bonus points of METT-3 (one each): 7a-c, 21a-c, 24a-c, 30a-c.
METT_BONUS = tuple(f"q{n:02d}{letter}" for n in (7, 21, 24, 30) for letter in "abc")
# The IUCN-WCPA element(s) each METT-3 question assesses, as the 2007 form gives them
# (Stolton et al. 2007; domain.md §3): the one table of them, which indicators import.
# Questions 8, 10, 14, 26 and 29 assess two elements and count fully in both (METTScore's
# element and second_element); the standard METT form groups its pages by the first.
# Values are observations.models.METTElement's. The table is METT-3's; an assessment of
# another version (METT-4, PNG-METT) that uses the same question numbers is grouped by it
# too, and its scores are never compared with METT-3's (METTAssessment.version).
METT_ELEMENTS: dict[str, tuple[str, ...]] = {
    "q01": ("context",), "q02": ("planning",), "q03": ("inputs",), "q04": ("planning",),
    "q05": ("planning",), "q06": ("process",), "q07": ("planning",),
    "q08": ("planning", "outputs"), "q09": ("inputs",), "q10": ("process", "outcomes"),
    "q11": ("process",), "q12": ("process",), "q13": ("inputs",),
    "q14": ("inputs", "process"), "q15": ("inputs",), "q16": ("inputs",),
    "q17": ("process",), "q18": ("inputs",), "q19": ("process",), "q20": ("process",),
    "q21": ("planning",), "q22": ("process",), "q23": ("process",), "q24": ("process",),
    "q25": ("outcomes",), "q26": ("planning", "process"), "q27": ("outputs",),
    "q28": ("process",), "q29": ("inputs", "process"), "q30": ("outcomes",),
}  # fmt: skip
# Versions an assessment may name (mett.version); a national variant is any other short code.
METT_VERSIONS = ("METT-3", "METT-4", "PNG-METT")

BUDGET_INCOME = ("government", "donor", "own_revenue", "other")
BUDGET_SPEND = ("staff", "patrol_operations", "equipment", "community", "infrastructure", "other")

for _q in METT_QUESTIONS:
    _TARGET_LIST += [
        _T(f"mett.{_q}", _k(SELECT_ONE, INT, TEXT), _M, f"METTScore({_q}).score", "mett_score"),
        _T(f"mett.{_q}.comment", _k(TEXT), _M, f"METTScore({_q}).comment"),
        _T(f"mett.{_q}.next_steps", _k(TEXT), _M, f"METTScore({_q}).next_steps"),
    ]
for _q in METT_BONUS:
    _TARGET_LIST.append(
        _T(f"mett.{_q}", _k(SELECT_ONE, INT, TEXT), _M, f"METTScore({_q}).score", "mett_bonus")
    )
for _kind, _names in (("income", BUDGET_INCOME), ("spend", BUDGET_SPEND)):
    for _s in _names:
        _TARGET_LIST += [
            _T(f"budget.{_kind}.{_s}", _NUMBER, _B, f"BudgetLine({_kind}, {_s}).actual"),
            _T(f"budget.{_kind}.{_s}.planned", _NUMBER, _B, f"BudgetLine({_kind}, {_s}).planned"),
        ]

TARGETS: dict[str, Target] = {t.name: t for t in _TARGET_LIST}

# The root record's kind, from the prefix of the targets found outside any record group.
_PREFIX_RECORD = {
    "patrol": PATROL, "observation": OBSERVATION, "illicit": OBSERVATION, "resource": OBSERVATION,
    "species": OBSERVATION, "mett": METT, "budget": BUDGET, "seized": SEIZED,
}  # fmt: skip
# Prefixes that say nothing of their record's kind (`record.uuid` goes in any).
_ANY_RECORD_PREFIXES = {"record"}


def describe_targets() -> str:
    """The target table as Markdown, for people writing forms."""
    lines = ["| target | question types | records | fills |", "|---|---|---|---|"]
    for t in TARGETS.values():
        kinds, records = ", ".join(sorted(t.kinds)), ", ".join(sorted(t.records))
        lines.append(f"| `{t.name}` | {kinds} | {records} | {t.field} |")
    return "\n".join(lines)


# --- The parsed mapping ----------------------------------------------------------------


@dataclass(frozen=True)
class FieldMapping:
    target: str
    # Path of the question relative to its record's element ("loc", "details/loc").
    path: str
    kind: str
    # Choice name → canonical code, for selects whose choices carry a `fieldkit` column.
    translate: dict[str, str] = field(default_factory=dict, compare=False)

    def code(self, value: str) -> str:
        return self.translate.get(value, value)


@dataclass(frozen=True)
class RecordMapping:
    kind: str  # as declared: observation aliases are kept
    # Absolute path of the record's element without the root ("" for the root record).
    path: str
    is_repeat: bool
    fields: tuple[FieldMapping, ...]
    children: tuple[RecordMapping, ...] = ()

    @property
    def base_kind(self) -> str:
        return base_kind(self.kind)

    def fields_for(self, target: str) -> list[FieldMapping]:
        return [f for f in self.fields if f.target == target]


@dataclass(frozen=True)
class FormMapping:
    # The root record (path ""), or None for a form with no fieldkit mapping at all.
    root: RecordMapping | None

    @property
    def is_empty(self) -> bool:
        return self.root is None

    def records(self) -> Iterable[RecordMapping]:
        stack = [self.root] if self.root else []
        while stack:
            record = stack.pop(0)
            yield record
            stack.extend(record.children)


class MappingError(ValueError):
    """The form's fieldkit mapping is wrong; `problems` lists every mistake found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- Reading the mapping from an XForm -------------------------------------------------


@dataclass
class _Bind:
    path: str  # without the root element: "obs/loc"
    kind: str | None  # None for groups and repeats
    target: str = ""
    record: str = ""
    choices: str = ""  # secondary instance id of its itemset


def read_mapping(xml: bytes) -> FormMapping:
    """The fieldkit mapping of an XForm; raises MappingError listing every problem."""
    try:
        root = xform.parse_xml(xml)
    except xform.XMLError as exc:
        if "unbound prefix" in str(exc):
            raise MappingError(
                [
                    f"the form uses fieldkit: columns without declaring the namespace; add a "
                    f"`namespaces` column to the settings sheet with {NAMESPACE_DECLARATION} ({exc})"
                ]
            ) from exc
        raise MappingError([f"not a readable XForm: {exc}"]) from exc
    head = xform.child(root, "head")
    model = xform.child(head, "model") if head is not None else None
    if model is None:
        raise MappingError(["no h:head/model element: not an XForm"])

    problems: list[str] = []
    binds = _read_binds(model, problems)
    body = xform.child(root, "body")
    repeats, controls, itemsets = _read_body(body)
    instances = _secondary_instances(model)
    for bind in binds.values():
        control = controls.get(bind.path)
        if bind.kind == TEXT and control in ("select1", "select"):
            bind.kind = SELECT_ONE if control == "select1" else SELECT_MULTIPLE
        elif bind.kind is None and control is not None and bind.path not in repeats:
            bind.kind = TEXT
        bind.choices = itemsets.get(bind.path, "")
    # Groups and repeats without binds of their own (a repeat without fieldkit:record has
    # no bind at all) still matter for "which record encloses this question".
    mapped = [b for b in binds.values() if b.target or b.record]
    if not mapped:
        if problems:
            raise MappingError(problems)
        return FormMapping(root=None)

    root_record = _assemble(binds, repeats, instances, problems)
    if problems:
        raise MappingError(problems)
    return FormMapping(root=root_record)


def _read_binds(model: Element, problems: list[str]) -> dict[str, _Bind]:
    binds: dict[str, _Bind] = {}
    for element in model:
        if xform.local_name(element.tag) != "bind":
            continue
        path = _relative(element.get("nodeset", ""))
        if not path:
            continue
        raw_type = element.get("type")
        kind = _BIND_TYPES.get(raw_type.rpartition(":")[2].lower()) if raw_type else None
        if raw_type and kind is None:
            kind = TEXT
        bind = binds.setdefault(path, _Bind(path=path, kind=kind))
        bind.kind = bind.kind or kind
        for name, value in element.attrib.items():
            value = value.strip()
            if name == _MAP:
                bind.target = value
            elif name == _RECORD:
                bind.record = value
            elif name.endswith("}map") or name.endswith("}record"):
                problems.append(
                    f"{path}: attribute {name} is in another namespace; declare "
                    f"{NAMESPACE_DECLARATION} in the settings sheet's namespaces column"
                )
    return binds


_CONTROLS = ("input", "select1", "select", "upload", "range", "trigger", "rank")


def _read_body(body: Element | None) -> tuple[set[str], dict[str, str], dict[str, str]]:
    """Repeat paths, control kind per question path, itemset instance id per question."""
    repeats: set[str] = set()
    controls: dict[str, str] = {}
    itemsets: dict[str, str] = {}
    if body is None:
        return repeats, controls, itemsets
    for element in body.iter():
        name = xform.local_name(element.tag)
        if name == "repeat" and element.get("nodeset"):
            repeats.add(_relative(element.get("nodeset", "")))
        elif name in _CONTROLS and element.get("ref"):
            path = _relative(element.get("ref", ""))
            controls[path] = name
            itemset = xform.child(element, "itemset")
            if itemset is not None:
                match = re.match(r"""\s*instance\(\s*['"]([^'"]+)['"]\s*\)""", itemset.get("nodeset", ""))
                if match:
                    itemsets[path] = match.group(1)
    return repeats, controls, itemsets


@dataclass(frozen=True)
class _Choices:
    # None when the list lives in an external file (select_one_from_file): unknown here.
    names: tuple[str, ...] | None
    translate: dict[str, str]


def _secondary_instances(model: Element) -> dict[str, _Choices]:
    found: dict[str, _Choices] = {}
    for instance in model:
        if xform.local_name(instance.tag) != "instance" or "id" not in instance.attrib:
            continue
        if instance.get("src"):
            found[instance.get("id", "")] = _Choices(None, {})
            continue
        names: list[str] = []
        translate: dict[str, str] = {}
        for item in instance.iter():
            if xform.local_name(item.tag) != "item":
                continue
            values = {xform.local_name(c.tag): (c.text or "").strip() for c in item}
            name = values.get("name", "")
            names.append(name)
            if values.get("fieldkit"):
                translate[name] = values["fieldkit"]
        found[instance.get("id", "")] = _Choices(tuple(names), translate)
    return found


def _assemble(
    binds: dict[str, _Bind], repeats: set[str], instances: dict[str, _Choices], problems: list[str]
) -> RecordMapping | None:
    # Record groups by path; the root record's kind comes from its targets.
    record_paths = {b.path: b.record for b in binds.values() if b.record}
    for path, kind in record_paths.items():
        if kind not in RECORD_KINDS:
            problems.append(f"{path}: unknown fieldkit:record {kind!r}; use one of {', '.join(RECORD_KINDS)}")
        if binds[path].target:
            problems.append(f"{path}: a group cannot have both fieldkit:record and fieldkit:map")

    def enclosing_record(path: str) -> str:
        parts = path.split("/")
        for i in range(len(parts) - 1, 0, -1):
            candidate = "/".join(parts[:i])
            if candidate in record_paths:
                return candidate
        return ""

    fields_by_record: dict[str, list[FieldMapping]] = {p: [] for p in record_paths}
    fields_by_record[""] = []
    root_prefixes: set[str] = set()
    for bind in binds.values():
        if not bind.target:
            continue
        record_path = enclosing_record(bind.path)
        target = TARGETS.get(bind.target)
        if target is None:
            hint = difflib.get_close_matches(bind.target, TARGETS, n=1)
            problems.append(
                f"{bind.path}: unknown fieldkit:map target {bind.target!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
            )
            continue
        if bind.kind is None or bind.path in repeats:
            problems.append(f"{bind.path}: {bind.target} must be on a question, not a group or repeat")
            continue
        if bind.kind not in target.kinds:
            problems.append(
                f"{bind.path}: {bind.target} takes a question of type {' or '.join(sorted(target.kinds))}, "
                f"not {bind.kind}"
            )
            continue
        # A record's repeat inside another record: the question must not cross a repeat
        # that is not a record (its answers would have no single record to go to).
        inner = bind.path[len(record_path) + 1 :] if record_path else bind.path
        crossed = [p for p in repeats if bind.path.startswith(p + "/") and len(p) > len(record_path)]
        if crossed:
            problems.append(
                f"{bind.path}: {bind.target} is inside repeat {crossed[0]} which has no fieldkit:record"
            )
            continue
        translate: dict[str, str] = {}
        if bind.choices:
            choices = instances.get(bind.choices)
            if choices is not None:
                translate = dict(choices.translate)
                if choices.names is not None:
                    _check_codes(bind, target, choices, problems)
        if not record_path and bind.target.split(".")[0] not in _ANY_RECORD_PREFIXES:
            root_prefixes.add(bind.target.split(".")[0])
        fields_by_record[record_path].append(FieldMapping(bind.target, inner, bind.kind, translate))

    root_kinds = {_PREFIX_RECORD[p] for p in root_prefixes}
    if len(root_kinds) > 1:
        problems.append(
            "questions outside any fieldkit:record group map to different records "
            f"({', '.join(sorted(root_kinds))}); put them in groups with fieldkit:record"
        )
        return None
    root_kind = root_kinds.pop() if root_kinds else ""
    if not root_kind:
        # Only records below the root: the root is a plain container.
        root_kind = PATROL if any(base_kind(k) in (LEG, DAY) for k in record_paths.values()) else ""

    def build(path: str, kind: str) -> RecordMapping:
        children = []
        for child_path, child_kind in sorted(record_paths.items()):
            if child_kind in RECORD_KINDS and enclosing_record(child_path) == path:
                children.append(build(child_path, child_kind))
        record = RecordMapping(
            kind=kind,
            path=path,
            is_repeat=path in repeats,
            fields=tuple(fields_by_record.get(path, [])),
            children=tuple(children),
        )
        _check_record(record, problems)
        return record

    return build("", root_kind)


def _check_codes(bind: _Bind, target: Target, choices: _Choices, problems: list[str]) -> None:
    assert choices.names is not None
    codes = [choices.translate.get(name, name) for name in choices.names]
    unknown: list[str] = []
    if target.codes == "category":
        unknown = [c for c in codes if not categories.is_known(c)]
    elif target.codes in CODES:
        allowed = CODES[target.codes]
        unknown = [c for c in codes if c.lower() not in allowed]
    if unknown:
        allowed_text = (
            "the slugs of observations.categories"
            if target.codes == "category"
            else ", ".join(CODES[target.codes])
        )
        problems.append(
            f"{bind.path}: {bind.target} choices {', '.join(repr(u) for u in unknown[:8])} are not codes "
            f"fieldkit knows ({allowed_text}); give each its code in the choices sheet's fieldkit column"
        )


def _check_record(record: RecordMapping, problems: list[str]) -> None:
    label = record.path or "the form's root"
    kind = record.base_kind
    seen: set[str] = set()
    for f in record.fields:
        target = TARGETS[f.target]
        if kind and kind not in target.records:
            problems.append(
                f"{label}/{f.path}: {f.target} does not belong in a {record.kind} record "
                f"(it goes in {' or '.join(sorted(target.records))})"
            )
        if f.target in seen and not target.multiple:
            problems.append(f"{label}: {f.target} is mapped by more than one question")
        seen.add(f.target)
    for child in record.children:
        allowed = _ALLOWED_PARENTS.get(child.base_kind, set())
        if kind not in allowed:
            where = "at the form's root" if not kind else f"inside a {record.kind}"
            problems.append(f"{child.path}: a {child.kind} record cannot sit {where}")
        if child.is_repeat and child.base_kind not in _REPEATABLE:
            problems.append(f"{child.path}: {child.kind} is one per submission; use a group, not a repeat")
        if not child.is_repeat and child.base_kind in (LEG, DAY):
            problems.append(f"{child.path}: {child.kind} must be a repeat")


def _relative(nodeset: str) -> str:
    """`/data/obs[1]/loc` → `obs/loc`: paths without the root element or predicates."""
    path = re.sub(r"\[[^\]]*\]", "", nodeset.strip()).strip("/")
    return path.partition("/")[2]
