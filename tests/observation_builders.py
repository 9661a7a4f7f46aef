"""Builders of mapped forms and of their filled-in instances, with keyword defaults.

Forms are written as XLSForms (pyxform's Markdown flavour) with `bind::fieldkit:*` columns
and go through the real publication path, so the tests exercise pyxform's handling of the
fieldkit namespace as well as the mapping.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from observations import categories, vocabulary
from odk_forms import processing, publishing, receiving, xform
from odk_forms.models import FormVersion, Submission
from protected_areas.models import ProtectedArea
from tests.xml_builders import ORX, openrosa_meta

NAMESPACES = 'fieldkit="https://fieldkit.example.org/xforms"'

# (type, name, fieldkit:map) of the patrol form's questions; names are the instance's tags.
PATROL_QUESTIONS: list[tuple[str, str, str]] = [
    ("text", "patrol_no", "patrol.id"),
    ("text", "team", "patrol.team"),
    ("text", "leader", "patrol.leader"),
    ("text", "members", "patrol.members"),
    ("select_one transport", "transport", "patrol.transport"),
    ("text", "mandate", "patrol.mandate"),
    ("select_one yn", "armed", "patrol.armed"),
    ("dateTime", "start_time", "patrol.start"),
    ("dateTime", "end_time", "patrol.end"),
    ("integer", "rest", "patrol.rest_minutes"),
    ("geotrace", "track", "patrol.track"),
]
OBSERVATION_QUESTIONS: list[tuple[str, str, str]] = [
    ("geopoint", "loc", "observation.location"),
    ("dateTime", "when", "observation.time"),
    ("select_one category", "category", "observation.category"),
    ("decimal", "count", "observation.count"),
    ("text", "notes", "observation.notes"),
    ("image", "photo", "observation.photo"),
    ("select_one action", "action", "illicit.action_taken"),
    ("integer", "suspects", "illicit.suspects"),
    ("select_one kind", "res_kind", "resource.kind"),
    ("decimal", "qty", "resource.quantity"),
    ("select_one unit", "unit", "resource.unit"),
    ("select_one purpose", "purpose", "resource.purpose"),
    ("select_one yn", "permitted", "resource.permitted"),
    ("select_one users", "users", "resource.users"),
    ("text", "taxon", "species.taxon"),
    ("integer", "males", "species.count_adult_male"),
    ("integer", "females", "species.count_adult_female"),
    ("integer", "young", "species.count_juvenile"),
    ("select_one evidence", "evidence", "species.evidence"),
]


def _choices() -> list[tuple[str, str, str, str]]:
    """(list_name, name, label, fieldkit) rows for every list the builders use."""
    rows = [("category", c.slug, c.label_en, "") for c in categories.CATEGORIES]
    for list_name, codes in (
        ("transport", vocabulary.CODES["transport"]),
        ("action", vocabulary.CODES["action_taken"]),
        ("kind", vocabulary.CODES["resource_kind"]),
        ("unit", vocabulary.CODES["resource_unit"]),
        ("purpose", vocabulary.CODES["purpose"]),
        ("users", vocabulary.CODES["users"]),
        ("evidence", vocabulary.CODES["evidence"]),
        ("score", vocabulary.CODES["mett_score"]),
    ):
        rows += [(list_name, code, code.replace("_", " ").title(), "") for code in codes]
    rows += [("yn", "yes", "Yes", ""), ("yn", "no", "No", "")]
    return rows


def xlsform_md(
    survey: Sequence[tuple[str, str, str, str]],
    form_id: str,
    version: str = "1",
    choices: Iterable[tuple[str, str, str, str]] | None = None,
    namespaces: str | None = NAMESPACES,
) -> str:
    """An XLSForm in Markdown; survey rows are (type, name, fieldkit:map, fieldkit:record)."""
    header = "| | type | name | label | bind::fieldkit:map | bind::fieldkit:record | required |"
    lines = ["| survey |", header]
    for kind, name, target, record in survey:
        label = name.replace("_", " ").capitalize() if not kind.startswith("end") else ""
        lines.append(f"| | {kind} | {name} | {label} | {target} | {record} | |")
    lines += ["| choices |", "| | list_name | name | label | fieldkit |"]
    for list_name, name, label, code in _choices() if choices is None else choices:
        lines.append(f"| | {list_name} | {name} | {label} | {code} |")
    lines.append("| settings |")
    if namespaces:
        lines += ["| | form_id | version | namespaces |", f"| | {form_id} | {version} | {namespaces} |"]
    else:
        lines += ["| | form_id | version |", f"| | {form_id} | {version} |"]
    return "\n".join(lines) + "\n"


def patrol_form_md(form_id: str = "fk_patrol", version: str = "1") -> str:
    survey = [(k, n, t, "") for k, n, t in PATROL_QUESTIONS]
    survey.append(("begin repeat", "obs", "", "observation"))
    survey += [(k, n, t, "") for k, n, t in OBSERVATION_QUESTIONS]
    survey.append(("end repeat", "", "", ""))
    return xlsform_md(survey, form_id, version)


def incident_form_md(form_id: str = "fk_incident", version: str = "1") -> str:
    survey = [(k, n, t, "") for k, n, t in OBSERVATION_QUESTIONS]
    return xlsform_md(survey, form_id, version)


def mett_form_md(form_id: str = "fk_mett", version: str = "1", questions: int = 30) -> str:
    survey = [("integer", "area", "mett.area", ""), ("integer", "year", "mett.year", "")]
    for n in range(1, questions + 1):
        q = f"q{n:02d}"
        survey.append(("select_one score", q, f"mett.{q}", ""))
        survey.append(("text", f"{q}_comment", f"mett.{q}.comment", ""))
    survey += [("integer", "q07a", "mett.q07a", ""), ("integer", "q30a", "mett.q30a", "")]
    return xlsform_md(survey, form_id, version)


def budget_form_md(form_id: str = "fk_budget", version: str = "1") -> str:
    survey = [
        ("integer", "area", "budget.area", ""),
        ("integer", "fy", "budget.fiscal_year", ""),
        ("decimal", "gov", "budget.income.government", ""),
        ("decimal", "donor", "budget.income.donor", ""),
        ("decimal", "staff", "budget.spend.staff", ""),
        ("decimal", "patrols", "budget.spend.patrol_operations", ""),
        ("integer", "staff_n", "budget.staff_count", ""),
        ("decimal", "basic", "budget.need.basic", ""),
        ("decimal", "optimal", "budget.need.optimal", ""),
    ]
    return xlsform_md(survey, form_id, version)


def publish(md: str, areas: Iterable[ProtectedArea] = (), name: str = "form.md") -> FormVersion:
    return publishing.publish_form_version(name, md.encode(), area_ids=[a.id for a in areas], validate=False)


# --- Instances -------------------------------------------------------------------------------


def geopoint(lon: float, lat: float, altitude: float = 0.0, accuracy: float = 5.0) -> str:
    """ODK's order: latitude first."""
    return f"{lat} {lon} {altitude} {accuracy}"


def geotrace(points: Iterable[tuple[float, float]]) -> str:
    return ";".join(geopoint(lon, lat) for lon, lat in points)


def instance_xml(
    form_id: str,
    values: dict[str, object],
    repeats: dict[str, list[dict[str, object]]] | None = None,
    version: str = "1",
    instance_id: str | None = None,
    deprecated_id: str | None = None,
) -> bytes:
    answers: dict[str, object] = {**values, **(repeats or {})}
    answers[ORX + "meta"] = openrosa_meta(instance_id or f"uuid:{uuid.uuid4()}", deprecated_id)
    return xform.write_instance("data", {"id": form_id, "version": version}, answers)


def patrol_values(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "patrol_no": "VNP-2024-017",
        "team": "Varirata north",
        "leader": "Kila Oa",
        "members": "Kila Oa, Mary Gabi, John Vele, Ruth Koi",
        "transport": "foot",
        "mandate": "law_enforcement",
        "armed": "no",
        "start_time": "2024-05-14T07:00:00.000+10:00",
        "end_time": "2024-05-14T15:30:00.000+10:00",
        "rest": "90",
        "track": "",
    }
    values.update(overrides)
    return values


def observation_values(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {name: "" for _, name, _ in OBSERVATION_QUESTIONS}
    values.update(overrides)
    return values


def submit(xml: bytes, user: object, parts: dict | None = None) -> Submission:
    """Receive a submission and process it, as the processing task does after commit."""
    received = receiving.receive_submission(xml, parts or {}, user=user)
    processing.process_submission(received.submission.pk)
    received.submission.refresh_from_db()
    return received.submission
