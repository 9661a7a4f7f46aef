"""Every code list has one owner, and the lists that restate a model's choices say the same
as the model: the mapping vocabulary, the category maps, the speed limits, the METT
elements and the standard forms' lists."""

from __future__ import annotations

import inspect
import re

import pytest
from django.db import models

from observations import categories, days, ingest, queries, records, vocabulary
from observations import models as m
from observations.records import MAX_SPEED_KMH
from standard_forms import common, mett

MODEL_CHOICES: dict[str, type[models.TextChoices]] = {
    "transport": m.Transport,
    "action_taken": m.ActionTaken,
    "resource_kind": m.ResourceKind,
    "resource_unit": m.ResourceUnit,
    "purpose": m.Purpose,
    "users": m.ResourceUsers,
    "evidence": m.Evidence,
}


@pytest.mark.parametrize("codes", sorted(MODEL_CHOICES))
def test_vocabulary_codes_are_the_model_choices(codes):
    assert vocabulary.CODES[codes] == tuple(MODEL_CHOICES[codes].values)


@pytest.mark.parametrize(
    "codes, form_list",
    [
        ("transport", common.TRANSPORT),
        ("action_taken", common.ACTION_TAKEN),
        ("resource_kind", common.RESOURCE_KIND),
        ("resource_unit", common.RESOURCE_UNIT),
        ("purpose", common.PURPOSE),
        ("users", common.USERS),
    ],
)
def test_standard_form_lists_are_the_model_choices(codes, form_list):
    assert [choice.name for choice in form_list] == list(MODEL_CHOICES[codes].values)


def test_standard_evidence_list_holds_every_evidence():
    # The species form orders its evidence by what rangers see most; the set is the model's.
    assert {choice.name for choice in common.EVIDENCE} == set(m.Evidence.values)


def test_every_transport_has_a_speed_limit():
    assert set(MAX_SPEED_KMH) == {*m.Transport.values, ""}


def test_every_mett_question_has_one_or_two_elements():
    assert tuple(vocabulary.METT_ELEMENTS) == vocabulary.METT_QUESTIONS
    elements = {e for pair in vocabulary.METT_ELEMENTS.values() for e in pair}
    assert elements <= set(m.METTElement.values)
    assert {q for q, pair in vocabulary.METT_ELEMENTS.items() if len(pair) == 2} == {
        "q08",
        "q10",
        "q14",
        "q26",
        "q29",
    }


def test_the_mett_form_groups_questions_by_the_recorded_element():
    assert tuple(m.METTElement.choices) == mett.ELEMENTS
    assert [q.name for q in mett.QUESTIONS] == list(vocabulary.METT_QUESTIONS)
    assert all(q.element == vocabulary.METT_ELEMENTS[q.name][0] for q in mett.QUESTIONS)


def test_category_maps_name_known_categories_and_model_values():
    for slug, kind in categories.RESOURCE_KIND_BY_CATEGORY.items():
        assert categories.is_known(slug) and kind in m.ResourceKind.values
    for slug, evidence in categories.EVIDENCE_BY_CATEGORY.items():
        assert categories.is_known(slug) and evidence in m.Evidence.values


def test_the_forms_compute_what_ingest_implies():
    # The resource-use and species forms derive their maps from observations.categories.
    assert (
        dict((slug, kind) for kind, slug in common.RESOURCE_CATEGORY) == categories.RESOURCE_KIND_BY_CATEGORY
    )
    for evidence, slug in common.EVIDENCE_CATEGORY.items():
        if slug in categories.EVIDENCE_BY_CATEGORY:
            assert categories.EVIDENCE_BY_CATEGORY[slug] == evidence


@pytest.mark.parametrize(
    "category, kind",
    [
        ("human_activity.timber.firewood", "firewood"),
        ("human_activity.timber.logs", "timber"),
        ("human_activity.hunting.bushmeat", "bushmeat"),
        ("animals.live", ""),
    ],
)
def test_a_category_implies_its_most_specific_resource_kind(category, kind):
    assert categories.implied(categories.RESOURCE_KIND_BY_CATEGORY, category) == kind


def test_a_qa_flag_code_written_by_ingest_is_a_model_choice():
    source = "".join(inspect.getsource(module) for module in (ingest, days, records, queries))
    written = set(re.findall(r'Flag\(\s*"(\w+)"', source))
    assert written and written <= set(m.QAFlagCode.values), written - set(m.QAFlagCode.values)
