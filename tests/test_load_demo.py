from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts import access
from accounts.access import Capability
from accounts.models import AreaMembership, User
from protected_areas.models import ProtectedArea, Zone

pytestmark = pytest.mark.django_db


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_it_loads_areas_zones_and_users_and_is_idempotent():
    first = load()
    assert "5 created" in first
    areas = ProtectedArea.objects.filter(source="wdpa")
    assert areas.count() == 5
    assert Zone.objects.count() == 35
    for area in areas:
        assert area.timezone == "Pacific/Port_Moresby"
        assert area.iso3 == "PNG"
        assert area.area_km2 == pytest.approx(area.reported_area_km2, rel=0.05)
        for zone in area.zones.all():
            zone.full_clean()  # every zone lies inside its area
    assert User.objects.get(username="admin").is_superuser
    ranger = User.objects.get(username="ranger")
    assert ranger.digest_ha1
    assert set(access.area_ids_with(ranger, Capability.SUBMIT)) == set(areas.values_list("id", flat=True))

    # Cases at every stage, from the demo's illicit incidents, for the officer's pages.
    officer = User.objects.get(username="officer")
    area_ids = set(areas.values_list("id", flat=True))
    assert set(access.area_ids_with(officer, Capability.VIEW_CASES)) == area_ids
    # Here the submissions wait for processing (it runs on commit); tests/test_demo_cases.py
    # opens the cases from processed demo records.
    assert "demo cases opened" in first

    second = load()
    assert "0 demo cases opened" in second
    assert "0 created, 0 updated, 5 unchanged" in second
    assert "0 zones created or updated" in second
    assert "password" not in second
    assert Zone.objects.count() == 35
    assert AreaMembership.objects.count() == 20


def test_loading_restores_the_settings_it_changes(settings):
    from portal.management.commands.load_demo import demo_loading

    settings.ODK_FORMS_BACKGROUND_PROCESSING = True
    settings.ODK_FORMS_FSYNC = True
    settings.INDICATORS_UPDATE_AFTER_SUBMISSION = True
    with demo_loading():
        assert settings.ODK_FORMS_BACKGROUND_PROCESSING is False
        assert settings.ODK_FORMS_FSYNC is False
        assert settings.INDICATORS_UPDATE_AFTER_SUBMISSION is False
    assert settings.INDICATORS_UPDATE_AFTER_SUBMISSION is True
    assert settings.ODK_FORMS_BACKGROUND_PROCESSING is True
    assert settings.ODK_FORMS_FSYNC is True

    with pytest.raises(RuntimeError), demo_loading():
        raise RuntimeError("a failed load")
    assert settings.ODK_FORMS_BACKGROUND_PROCESSING is True
    assert settings.ODK_FORMS_FSYNC is True
