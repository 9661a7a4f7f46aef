"""The demo data set gives indicators for every demo area, and a new submission updates
them through the update task."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from indicators.models import DirtyKey, IndicatorRow, IndicatorValue
from observations.models import Observation
from protected_areas.models import ProtectedArea
from tests import observation_builders as ob

pytestmark = pytest.mark.django_db(transaction=False)


def test_every_demo_area_has_indicators_and_a_submission_updates_them(django_capture_on_commit_callbacks):
    # The submissions are processed after commit, and the update after them.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", "--years", "1", stdout=io.StringIO())
    assert IndicatorValue.objects.filter(indicator="effort.km").exists()
    assert not DirtyKey.objects.exists()
    IndicatorValue.objects.all().delete()
    out = io.StringIO()
    call_command("compute_indicators", stdout=out)
    assert "computed" in out.getvalue()
    areas = ProtectedArea.objects.filter(source="wdpa")
    for area in areas:
        assert IndicatorValue.objects.filter(area=area, indicator="effort.km", period_kind="Y").exists(), area
        assert IndicatorValue.objects.filter(
            area=area, indicator="count.records", period_kind="M"
        ).exists(), area
    assert IndicatorValue.objects.filter(indicator="bio.chao1", period_kind="Y").exists()
    assert IndicatorValue.objects.filter(indicator="mett.percent").exists()
    assert IndicatorValue.objects.filter(indicator__startswith="finance.").exists()
    assert IndicatorRow.objects.filter(indicator="cell.records").exists()
    # Effort and encounter rates on the grid, coverage, accumulation and METT evidence.
    assert IndicatorRow.objects.filter(indicator="effort.km", cell_id__gt=0).exists()
    assert IndicatorRow.objects.filter(indicator="cpue.records.km", cell_id__gt=0).exists()
    assert IndicatorValue.objects.filter(indicator="coverage.area", value__gt=0).exists()
    assert IndicatorValue.objects.filter(indicator="coverage.cells", value__gt=0).exists()
    assert IndicatorValue.objects.filter(indicator="bio.accumulation").exists()
    assert IndicatorValue.objects.filter(indicator="mett.suggested").exists()

    # One more snare in a demo area, sent on a form of its own.
    obs = (
        Observation.objects.filter(area__in=areas, location__isnull=False, day__isnull=False)
        .order_by("pk")
        .first()
    )
    area, day = obs.area, obs.day
    year = day.replace(month=1, day=1)
    key = {"area": area, "zone_id": 0, "period_kind": "Y", "period_start": year, "indicator": "count.records"}
    before = IndicatorValue.objects.filter(**key, subject="category:human_activity.weapons.snare").first()
    ob.publish(ob.incident_form_md(form_id="fk_test_incident"), [area], name="incident.md")
    xml = ob.instance_xml(
        "fk_test_incident",
        ob.observation_values(
            loc=ob.geopoint(obs.location.x, obs.location.y),
            when=f"{day.isoformat()}T12:00:00+10:00",
            category="human_activity.weapons.snare",
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        ob.submit(xml, User.objects.get(username="ranger"))
    assert not DirtyKey.objects.exists()
    after = IndicatorValue.objects.get(**key, subject="category:human_activity.weapons.snare")
    assert after.value == (before.value if before else 0) + 1
