from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from protected_areas.models import Zone, ZoneKind
from tests.builders import box, make_area, make_zone

pytestmark = pytest.mark.django_db


def test_a_zone_must_lie_inside_its_area():
    area = make_area(bounds=(147.0, -9.5, 147.1, -9.4))
    inside = make_zone(area)
    inside.full_clean()
    assert inside.area_km2 > 0

    outside = Zone(
        area=area, code="x", name="X", kind=ZoneKind.BUFFER, boundary=box(147.05, -9.5, 147.2, -9.4)
    )
    with pytest.raises(ValidationError, match="lies outside"):
        outside.full_clean()


def test_zone_codes_are_unique_per_area():
    area = make_area()
    make_zone(area, code="core")
    make_zone(make_area(name="Other"), code="core")
    # SQLite names the columns, PostgreSQL the constraint.
    with pytest.raises(IntegrityError, match=r"zone_unique_code_per_area|protected_areas_zone\.code"):
        make_zone(area, code="core")
