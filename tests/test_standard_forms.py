"""The standard forms in standard_forms/: they convert and pass ODK Validate through the publishing
path, their fieldkit mapping is the vocabulary's, their media resolve, their category
choices are the category tree, and the committed spreadsheets are what standard_forms/build.py
builds.

No database and no shared state: each form is its own test case, so pytest-xdist spreads
the ODK Validate runs (about a second each with Java) over its workers.
"""

from __future__ import annotations

import csv
import re
from functools import cache

import pytest

from observations import categories, vocabulary
from odk_forms import conversion, xform
from standard_forms import (
    COMMITTED_MEDIA,
    GENERATED_MEDIA,
    MEDIA_DIR,
    STANDARD_FORMS,
    area_code,
    areas_csv,
    common,
    xlsx_path,
)
from standard_forms.build import build, standard_forms
from standard_forms.xlsform import EN, MAP_COLUMN, RECORD_COLUMN, TPI, Form, T, read_workbook, trimmed

FORMS = {form.stem: form for form in standard_forms()}
RANGER_FORMS = ("patrol", "incident", "species", "resource_use")
IUCN = {"EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD", "NE"}


@cache
def sheets(stem: str) -> dict[str, list[list[str]]]:
    return read_workbook(xlsx_path(stem))


@cache
def records(stem: str) -> list[dict[str, str]]:
    """Rows of a committed sheet as dicts (survey sheet)."""
    header, *rows = sheets(stem)["survey"]
    return [dict(zip(header, row + [""] * (len(header) - len(row)), strict=True)) for row in rows]


@cache
def converted(stem: str) -> bytes:
    return conversion.prepare_form(f"{stem}.xlsx", xlsx_path(stem).read_bytes(), validate=False).xml


def choice_rows(stem: str, list_name: str) -> list[dict[str, str]]:
    header, *rows = sheets(stem)["choices"]
    rows_as_dicts = [dict(zip(header, row + [""] * (len(header) - len(row)), strict=True)) for row in rows]
    return [row for row in rows_as_dicts if row["list_name"] == list_name]


def test_the_six_forms_are_there():
    assert set(FORMS) == set(STANDARD_FORMS) == {
        "patrol", "incident", "species", "resource_use", "mett", "budget",
    }  # fmt: skip
    assert len({form.form_id for form in FORMS.values()}) == 6
    for form in FORMS.values():
        assert xlsx_path(form.stem).exists()
        assert re.fullmatch(r"20\d{6}\d{2}", form.version), form.version
        assert form.instance_name


@pytest.mark.parametrize("stem", STANDARD_FORMS)
def test_it_converts_and_passes_odk_validate(stem):
    prepared = conversion.prepare_form(f"{stem}.xlsx", xlsx_path(stem).read_bytes(), validate=True)
    form = FORMS[stem]
    assert prepared.info.form_id == form.form_id
    assert prepared.info.version == form.version
    assert prepared.info.title == form.title
    # Neither pyxform nor ODK Validate has anything to say.
    assert prepared.warnings == ()
    xml = prepared.xml.decode()
    assert '<bind nodeset="/data/meta/instanceID"' in xml
    assert '<bind nodeset="/data/meta/instanceName"' in xml


@pytest.mark.parametrize("stem", STANDARD_FORMS)
def test_rebuilding_gives_the_committed_sheets(stem, tmp_path):
    build(tmp_path)
    assert read_workbook(tmp_path / f"{stem}.xlsx") == sheets(stem)
    assert sheets(stem) == trimmed(FORMS[stem].sheets())


@pytest.mark.parametrize("stem", STANDARD_FORMS)
def test_every_mapping_is_in_the_vocabulary(stem):
    for row in records(stem):
        if row.get(MAP_COLUMN):
            assert row[MAP_COLUMN] in vocabulary.TARGETS, (row["name"], row[MAP_COLUMN])
        if row.get(RECORD_COLUMN):
            assert row[RECORD_COLUMN] in vocabulary.RECORD_KINDS, (row["name"], row[RECORD_COLUMN])
    settings = dict(zip(*sheets(stem)["settings"], strict=True))
    assert settings["namespaces"] == vocabulary.NAMESPACE_DECLARATION
    # The reader the publishing step uses accepts it: kinds, records, codes of every choice.
    mapping = vocabulary.read_mapping(converted(stem))
    assert not mapping.is_empty


def _shape(stem: str) -> list[tuple[str, str, bool]]:
    mapping = vocabulary.read_mapping(converted(stem))
    return [(r.kind, r.path, r.is_repeat) for r in mapping.records()]


def test_records_of_each_form():
    assert _shape("patrol") == [
        ("patrol", "", False),
        ("patrol_day", "day", True),
        ("observation", "day/observation", True),
        ("seized_item", "day/observation/illicit/seized", True),
    ]
    assert _shape("incident") == [
        ("", "", False),
        ("incident", "report", False),
        ("seized_item", "report/illicit/seized", True),
    ]
    assert _shape("species") == [("", "", False), ("species", "sighting", True)]
    assert _shape("resource_use") == [("", "", False), ("resource_use", "use", False)]
    assert _shape("mett") == [("mett", "", False)]
    assert _shape("budget") == [("budget", "", False)]


def _targets(stem: str) -> set[str]:
    return {row[MAP_COLUMN] for row in records(stem) if row.get(MAP_COLUMN)}


def test_patrol_maps_effort_and_the_four_verticals():
    targets = _targets("patrol")
    effort = {"patrol.leader", "patrol.member_count", "patrol.transport", "patrol.mandate", "patrol.start",
              "patrol.end", "patrol.rest_minutes", "patrol.track"}  # fmt: skip
    assert effort <= targets
    assert {
        "observation.location",
        "observation.time",
        "observation.category",
        "observation.photo",
    } <= targets
    assert {
        "illicit.action_taken",
        "illicit.suspects",
        "seized.kind",
        "seized.quantity",
        "seized.unit",
    } <= targets
    assert {"record.uuid"} <= targets
    assert {"resource.quantity", "resource.unit", "resource.purpose", "resource.permitted",
            "resource.users", "resource.kind"} <= targets  # fmt: skip
    assert {
        "species.taxon",
        "species.evidence",
        "species.count_adult_male",
        "species.count_unknown",
    } <= targets


def test_mett_and_budget_map_every_target_of_their_record():
    for stem, prefix in (("mett", "mett."), ("budget", "budget.")):
        expected = {name for name in vocabulary.TARGETS if name.startswith(prefix)}
        assert _targets(stem) == expected, stem


def test_mett_has_the_30_questions_by_element():
    survey = records("mett")
    questions = [row for row in survey if re.fullmatch(r"q\d\d", row["name"])]
    assert [row["name"] for row in questions] != sorted(
        row["name"] for row in questions
    )  # grouped, not 1..30
    assert sorted(row["name"] for row in questions) == list(vocabulary.METT_QUESTIONS)
    bonus = sorted(row["name"] for row in survey if re.fullmatch(r"q\d\d[abc]", row["name"]))
    assert bonus == sorted(vocabulary.METT_BONUS)
    groups = [
        row["name"] for row in survey if row["type"] == "begin_group" and not row["name"].startswith("q")
    ]
    assert groups == ["assessment", "context", "planning", "inputs", "process", "outputs", "outcomes"]
    for name in vocabulary.METT_QUESTIONS:
        scores = choice_rows("mett", f"mett_{name}")
        assert [c["name"] for c in scores] == ["0", "1", "2", "3", "na"]
        assert all(c[f"label::{EN}"] for c in scores)


def test_media_resolve():
    for stem in STANDARD_FORMS:
        info = xform.parse_xform(converted(stem))
        assert set(info.media_names) <= set(COMMITTED_MEDIA) | set(GENERATED_MEDIA), stem
    for name in COMMITTED_MEDIA:
        assert (MEDIA_DIR / name).exists()
    uses_taxa = [s for s in STANDARD_FORMS if "taxa.csv" in xform.parse_xform(converted(s)).media_names]
    assert uses_taxa == ["patrol", "incident", "species", "resource_use"]


def test_taxa_csv_serves_select_one_from_file():
    with (MEDIA_DIR / "taxa.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames
        rows = list(reader)
    assert columns == ["name", "label", f"label::{TPI}", "scientific_name", "iucn", "class", "group"]
    names = [row["name"] for row in rows]
    assert len(names) == len(set(names))
    assert 60 <= len(rows) <= 120
    groups = {c.name for c in common.TAXON_GROUP}
    for row in rows:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", row["name"]), row["name"]
        assert row["label"] and row[f"label::{TPI}"], row["name"]
        assert row["iucn"] in IUCN | {""}, row
        if row["name"] == "unknown":
            continue
        # The species question filters on `group`: every row is reachable from a group.
        assert row["group"] in groups, row
        if not row["name"].startswith("other_"):
            assert row["iucn"], row["name"]
            genus, _, rest = row["scientific_name"].partition(" ")
            assert genus.istitle() and rest.islower(), row["scientific_name"]
    # Each group has its "not in the list" entry, and the filter's fallback exists.
    assert {row["group"] for row in rows if row["name"].startswith("other_")} == groups
    assert "unknown" in names
    assert {"dendrolagus_goodfellowi", "zaglossus_bartoni", "casuarius_casuarius", "goura_victoria",
            "dermochelys_coriacea", "ornithoptera_alexandrae"} <= set(names)  # fmt: skip


@pytest.mark.parametrize("stem", ["patrol", "incident"])
def test_category_choices_are_the_tree(stem):
    active = [c for c in categories.CATEGORIES if c.active]
    headings = {c.parent for c in active if c.parent} & {c.slug for c in active if c.depth == 0}
    category = choice_rows(stem, "category")
    detail = choice_rows(stem, "subcategory")
    offered = [c["name"] for c in category] + [c["name"] for c in detail]
    # Every active category is offered once, except the roots that only head their children.
    assert sorted(offered) == sorted(c.slug for c in active if c.slug not in headings)
    by_slug = categories.by_slug()
    for row in category:
        c = by_slug[row["name"]]
        assert row["vertical"] == c.vertical
        assert (row[f"label::{EN}"], row[f"label::{TPI}"]) == (c.label_en, c.label_tpi)
    for row in detail:
        c = by_slug[row["name"]]
        assert row["parent"] == c.parent and row["parent"] in {r["name"] for r in category}
        assert (row[f"label::{EN}"], row[f"label::{TPI}"]) == (c.label_en, c.label_tpi)
    assert [c["name"] for c in choice_rows(stem, "vertical")] == list(categories.VERTICALS)


def test_slugs_the_forms_compute_are_in_the_tree():
    computed = [slug for _, slug in common.RESOURCE_CATEGORY] + list(common.EVIDENCE_CATEGORY.values())
    computed += ["plants.notable", "human_activity.confiscation", "human_activity.hunting"]
    for slug in computed:
        assert categories.is_known(slug), slug
    assert {kind for kind, _ in common.RESOURCE_CATEGORY} <= set(vocabulary.CODES["resource_kind"])
    assert set(common.EVIDENCE_CATEGORY) == set(vocabulary.CODES["evidence"])


@pytest.mark.parametrize("stem", RANGER_FORMS)
def test_ranger_forms_speak_tok_pisin(stem):
    form: Form = FORMS[stem]
    assert form.languages == (EN, TPI)
    settings = dict(zip(*sheets(stem)["settings"], strict=True))
    assert settings["default_language"] == EN
    for row in form.rows():
        for column in ("label", "hint", "constraint_message"):
            text = row.get(column)
            if text is not None:
                assert isinstance(text, T) and text.tpi, (row["name"], column)
    # Choices fall back to English only where no Tok Pisin word is written.
    english_only = [c.name for c in form.choices if not (isinstance(c.label, T) and c.label.tpi)]
    assert set(english_only) <= {"bundles"}, english_only
    # And no cell shows pyxform's "-" placeholder.
    header, *rows = sheets(stem)["survey"]
    tpi_columns = [i for i, h in enumerate(header) if h.endswith(f"::{TPI}")]
    english_columns = [header.index(header[i].replace(TPI, EN)) for i in tpi_columns]
    for row in rows:
        row = row + [""] * (len(header) - len(row))
        for i, j in zip(tpi_columns, english_columns, strict=True):
            assert bool(row[i]) == bool(row[j]), row[:2]


def test_phone_appearances():
    for stem in RANGER_FORMS:
        for row in records(stem):
            if row["type"] == "geopoint":
                assert row["appearance"] in ("maps", "placement-map"), (stem, row["name"])
            if row["type"].startswith("select_one_from_file"):
                assert row["appearance"] in ("autocomplete", "minimal"), (stem, row["name"])
    track = next(row for row in records("patrol") if row["name"] == "track")
    assert track["type"] == "geotrace" and track[MAP_COLUMN] == "patrol.track"


def test_areas_csv_lists_areas_by_the_code_the_forms_send():
    content = areas_csv(
        [
            (area_code(wdpa_id=900000102, source="wdpa", source_id="900000102"), "YUS"),
            (area_code(wdpa_id=None, source="osm", source_id="r123"), "Kimbe Bay"),
        ]
    )
    assert content.decode() == "name,label\nosm:r123,Kimbe Bay\n900000102,YUS\n"
    with pytest.raises(ValueError):
        areas_csv([("a b", "Bad")])
    # The forms look labels up by `name` (instance names) and list `label`.
    area = next(row for row in records("mett") if row["name"] == "area")
    assert area["type"] == "select_one_from_file areas.csv"
