"""The fieldkit mapping vocabulary: forms are checked when published, with messages that
name the question, and the category tree and species list hold together."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pyxform.xls2xform import convert

from fieldkit.errors import Problem
from observations import categories, form_check, ingest, parsing, taxa, vocabulary
from observations.days import plan_leg_days
from tests.builders import SHARED_DATA
from tests.observation_builders import incident_form_md, patrol_form_md, xlsform_md


def xform_of(md: str, tmp_path) -> bytes:  # type: ignore[no-untyped-def]
    path = tmp_path / "form.md"
    path.write_text(md)
    return convert(str(path), validate=False).xform.encode()


def problems_of(md: str, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(vocabulary.MappingError) as caught:
        vocabulary.read_mapping(xform_of(md, tmp_path))
    return caught.value.problems


def test_a_patrol_form_maps_to_a_patrol_with_an_observation_repeat(tmp_path):
    mapping = vocabulary.read_mapping(xform_of(patrol_form_md(), tmp_path))
    root = mapping.root
    assert root is not None
    assert (root.kind, root.path, root.is_repeat) == ("patrol", "", False)
    assert {f.target for f in root.fields} >= {"patrol.track", "patrol.start", "patrol.members"}
    (observation,) = root.children
    assert (observation.kind, observation.path, observation.is_repeat) == ("observation", "obs", True)
    location = observation.fields_for("observation.location")[0]
    assert (location.path, location.kind) == ("loc", "geopoint")
    assert observation.fields_for("observation.category")[0].kind == "select_one"


def test_an_incident_form_needs_no_record_column(tmp_path):
    mapping = vocabulary.read_mapping(xform_of(incident_form_md(), tmp_path))
    assert mapping.root is not None
    assert (mapping.root.kind, mapping.root.children) == ("observation", ())


def test_a_form_without_fieldkit_columns_has_an_empty_mapping(tmp_path):
    md = "| survey |\n| | type | name | label |\n| | text | a | A |\n"
    assert vocabulary.read_mapping(xform_of(md, tmp_path)).is_empty


def test_the_namespace_must_be_declared(tmp_path):
    md = xlsform_md([("text", "team", "patrol.team", "")], "fk_t", choices=[], namespaces=None)
    (problem,) = problems_of(md, tmp_path)
    assert "namespaces" in problem
    assert 'fieldkit="https://fieldkit.example.org/xforms"' in problem


def test_an_unknown_target_is_refused_with_a_suggestion(tmp_path):
    md = xlsform_md([("text", "team", "patrol.tem", "")], "fk_t", choices=[])
    assert problems_of(md, tmp_path) == [
        "team: unknown fieldkit:map target 'patrol.tem'; did you mean 'patrol.team'?"
    ]


def test_a_wrong_question_type_is_refused(tmp_path):
    md = xlsform_md([("text", "track", "patrol.track", "")], "fk_t", choices=[])
    assert problems_of(md, tmp_path) == ["track: patrol.track takes a question of type geotrace, not text"]


def test_a_target_in_the_wrong_record_is_refused(tmp_path):
    md = xlsform_md(
        [
            ("text", "team", "patrol.team", ""),
            ("begin repeat", "day", "", "patrol_day"),
            ("text", "taxon", "species.taxon", ""),
            ("end repeat", "", "", ""),
        ],
        "fk_t",
        choices=[],
    )
    (problem,) = problems_of(md, tmp_path)
    assert (
        problem == "day/taxon: species.taxon does not belong in a patrol_day record (it goes in observation)"
    )


def test_a_question_in_a_repeat_without_record_is_refused(tmp_path):
    md = xlsform_md(
        [
            ("begin repeat", "obs", "", ""),
            ("geopoint", "loc", "observation.location", ""),
            ("end repeat", "", "", ""),
        ],
        "fk_t",
        choices=[],
    )
    assert problems_of(md, tmp_path) == [
        "obs/loc: observation.location is inside repeat obs which has no fieldkit:record"
    ]


def test_root_questions_of_two_records_are_refused(tmp_path):
    md = xlsform_md(
        [("text", "team", "patrol.team", ""), ("integer", "year", "mett.year", "")], "fk_t", choices=[]
    )
    (problem,) = problems_of(md, tmp_path)
    assert "different records (mett, patrol)" in problem


def test_a_one_per_submission_record_cannot_repeat(tmp_path):
    md = xlsform_md(
        [
            ("begin repeat", "m", "", "mett"),
            ("integer", "year", "mett.year", ""),
            ("end repeat", "", "", ""),
        ],
        "fk_t",
        choices=[],
    )
    assert problems_of(md, tmp_path) == ["m: mett is one per submission; use a group, not a repeat"]


def test_unknown_record_kind(tmp_path):
    md = xlsform_md(
        [
            ("begin group", "g", "", "sighting"),
            ("text", "n", "observation.notes", ""),
            ("end group", "", "", ""),
        ],
        "fk_t",
        choices=[],
    )
    assert any("unknown fieldkit:record 'sighting'" in p for p in problems_of(md, tmp_path))


def test_choices_must_be_codes_or_name_their_code(tmp_path):
    survey = [("select_one what", "what", "observation.category", "")]
    bad = [("what", "snare_wire", "Snare", ""), ("what", "pig", "Pig", "animals.live")]
    (problem,) = problems_of(xlsform_md(survey, "fk_t", choices=bad), tmp_path)
    assert "'snare_wire'" in problem and "'pig'" not in problem
    assert "fieldkit column" in problem

    good = [
        ("what", "snare_wire", "Snare", "human_activity.weapons.snare"),
        ("what", "pig", "Pig", "animals.live"),
    ]
    mapping = vocabulary.read_mapping(xform_of(xlsform_md(survey, "fk_t", choices=good), tmp_path))
    assert mapping.root is not None
    field = mapping.root.fields_for("observation.category")[0]
    assert field.code("snare_wire") == "human_activity.weapons.snare"
    assert field.code("pig") == "animals.live"


def test_coded_targets_check_their_choices(tmp_path):
    survey = [("select_one mode", "mode", "patrol.transport", "")]
    choices = [("mode", "walk", "Walk", ""), ("mode", "car", "Car", "vehicle")]
    (problem,) = problems_of(xlsform_md(survey, "fk_t", choices=choices), tmp_path)
    assert "'walk'" in problem and "foot, vehicle" in problem


def test_check_form_raises_the_catalogued_problem(tmp_path):
    md = xlsform_md([("text", "track", "patrol.track", "")], "fk_t", choices=[])
    with pytest.raises(Problem) as caught:
        form_check.check_form("patrol.xlsx", xform_of(md, tmp_path))
    assert caught.value.code == "400.60"
    assert str(caught.value).startswith("patrol.xlsx: the form's fieldkit mapping is wrong: track:")


def test_every_target_is_described():
    table = vocabulary.describe_targets()
    assert all(f"`{name}`" in table for name in vocabulary.TARGETS)
    assert "`mett.q30c`" in table and "`budget.spend.patrol_operations`" in table


# --- Category tree and species list --------------------------------------------------------------


def test_the_category_tree_is_consistent():
    slugs = [c.slug for c in categories.CATEGORIES]
    assert len(slugs) == len(set(slugs))
    for c in categories.CATEGORIES:
        assert not c.parent or c.parent in slugs[: slugs.index(c.slug)], c.slug
        assert c.vertical in categories.VERTICALS
        assert c.label_en and c.label_tpi


def test_earthranger_event_types_exist_in_earthranger_defaults():
    fixture = json.loads((SHARED_DATA / "forms/earthranger_event_types/event_data_model.json").read_text())
    event_types = {item["fields"]["value"] for item in fixture if item["model"] == "activity.eventtype"}
    referenced = {c.earthranger for c in categories.CATEGORIES if c.earthranger}
    assert referenced <= event_types
    assert len(referenced) >= 15


def test_the_species_list_and_its_csv():
    rows = list(csv.DictReader(io.StringIO(taxa.taxa_csv())))
    assert len(rows) == len(taxa.TAXA) == len({t.slug for t in taxa.TAXA})
    assert {t.iucn for t in taxa.TAXA} <= {"EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD", "NE"}
    assert {t.sensitivity for t in taxa.TAXA} <= {0, 1, 2, 3, 4}
    assert rows[0]["name"] == taxa.TAXA[0].slug


# --- Pure parsing ------------------------------------------------------------------------------


def test_geopoints_are_turned_into_lon_lat():
    point = parsing.parse_geopoint("-9.44 147.35 512.0 4.5")
    assert (point.lon, point.lat, point.altitude, point.accuracy) == (147.35, -9.44, 512.0, 4.5)
    assert parsing.is_junk_fix(parsing.parse_geopoint("0 0 0 0"))
    assert parsing.is_junk_fix(parsing.parse_geopoint("90 180"))
    with pytest.raises(parsing.BadValue):
        parsing.parse_geopoint("95 147")


def test_times_become_utc():
    assert parsing.parse_datetime("2024-05-14T07:00:00.000+10:00") == datetime(2024, 5, 13, 21, 0, tzinfo=UTC)
    assert parsing.parse_datetime("2024-05-14T07:00:00Z") == datetime(2024, 5, 14, 7, 0, tzinfo=UTC)


def test_a_leg_is_cut_at_midnight_in_the_areas_timezone_without_its_night():
    leg = ingest.LegInput(
        path="",
        start=datetime(2024, 5, 14, 4, 0, tzinfo=UTC),  # 14:00 in Port Moresby
        end=datetime(2024, 5, 14, 16, 0, tzinfo=UTC),  # 02:00 the next day
        rest_minutes=60,
        track=[(147.0, -9.0), (147.0, -9.12)],
    )
    # Recorded: 23:00 on the first day and 01:00 on the second. The night between is no
    # patrol time: 14:00–23:00 (9 h) and 01:00–02:00 (1 h).
    times = [datetime(2024, 5, 14, 13, 0, tzinfo=UTC), datetime(2024, 5, 14, 15, 0, tzinfo=UTC)]
    days = plan_leg_days(leg, ZoneInfo("Pacific/Port_Moresby"), date(2024, 5, 14), times)
    assert [d.day for d in days] == [date(2024, 5, 14), date(2024, 5, 15)]
    assert [d.patrol_hours for d in days] == [9.0, 1.0]
    assert [d.rest_minutes for d in days] == [54.0, 6.0]
    assert [(d.start, d.end) for d in days] == [(leg.start, times[0]), (times[1], leg.end)]
    assert days[0].flags[-1].code == "day_hours_from_times"
    # The track is shared in proportion to the hours: 9/10 of its length, then 1/10.
    assert days[0].track is not None and days[0].track[0][-1] == pytest.approx((147.0, -9.108))
    assert days[1].track is not None and days[1].track[0][-1] == (147.0, -9.12)
    # In UTC the same leg is one day, from start to end.
    utc = plan_leg_days(leg, ZoneInfo("UTC"), date(2024, 5, 14), times)
    assert [d.patrol_hours for d in utc] == [12.0]


def test_mett_totals_leave_out_not_applicable_questions():
    mett = ingest.METTInput(
        path="",
        scores=[
            ingest.METTScoreInput("q01", 3),
            ingest.METTScoreInput("q07", 2),
            ingest.METTScoreInput("q07a", 1),
            ingest.METTScoreInput("q07b", 0),
            ingest.METTScoreInput("q27", None),
            ingest.METTScoreInput("q30a", 1),  # q30 not answered: its bonus does not count
        ],
    )
    assert mett.totals() == (6, 8, 2)


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"wdpa_id": 555543, "source": "wdpa", "source_id": "555543"}, "555543"),
        ({"wdpa_id": None, "source": "cepa", "source_id": "YUS-01"}, "cepa:YUS-01"),
    ],
)
def test_an_area_code_reads_back_as_the_area_it_names(kwargs, code):
    assert parsing.area_code(**kwargs) == code
    ref = parsing.parse_area_code(f" {code} ")
    assert ref is not None
    if kwargs["wdpa_id"]:
        assert ref.wdpa_id == kwargs["wdpa_id"]
    else:
        assert (ref.source, ref.source_id) == (kwargs["source"], kwargs["source_id"])


def test_a_name_is_not_an_area_code():
    assert parsing.parse_area_code("Varirata National Park") is None
