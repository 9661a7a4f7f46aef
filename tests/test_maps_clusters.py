"""The precomputed cluster counts (maps.clusters): the observation layer answers from them
as it does live, for every role (member, viewer, law enforcement, another area's manager,
nobody); sensitive records never leave at their exact place; a submission, an edit that
moves a record to another month, and a changed rule keep the answers right."""

from __future__ import annotations

import random
import uuid
from datetime import date
from typing import Any

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts.generalisation import Sensitivity
from maps import clusters, data, geo
from maps.models import ClusterCount
from observations.models import Observation, ObservationPlace, SpeciesObservation
from tests import access_scene as scene
from tests import observation_builders as ob
from tests import test_maps_data as live

OBS = live.OBS
PARK = live.PARK
ROLES = ("member", "viewer", "law", "outsider", "outside_law", "national_viewer", "national_law", "admin")


class ClusterTableAnswersAsLiveTest(live.MapDataTest):
    """Every test of the live layer again, with the table built."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        clusters.rebuild()


class ClusterTableTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        rng = random.Random(3)
        located = list(Observation.objects.all())
        # More records around the park, some of them of the sensitive eagle, in two years.
        for i in range(60):
            template = located[i % len(located)]
            template.pk = None
            template.record_uuid = uuid.uuid4()
            template.instance_path = f"extra[{i}]"
            template.save()
        extras = list(Observation.objects.filter(instance_path__startswith="extra["))
        for obs in extras:
            Observation.objects.filter(pk=obs.pk).update(
                location=f"SRID=4326;POINT({rng.uniform(147.2, 147.6)} {rng.uniform(-9.6, -9.3)})",
                day=f"{rng.choice((2023, 2024))}-{rng.randint(1, 12):02d}-1{rng.randint(0, 9)}",
            )
        ObservationPlace.objects.bulk_create(
            ObservationPlace(observation=obs, area_id=cls.area.pk, zone=None) for obs in extras
        )
        SpeciesObservation.objects.bulk_create(
            SpeciesObservation(
                observation=obs,
                taxon=cls.eagle,
                taxon_name="",
                individual_count=1,
                evidence="",
                is_occurrence=True,
            )
            for obs in extras[::3]
        )
        cls.rows = clusters.rebuild()

    def layer(self, role: str, **params: Any) -> dict[tuple[float, float, str], int]:
        self.client.force_login(getattr(self, role))
        body = self.client.get(OBS, params).json()
        self.assertTrue(body["clustered"])
        return {
            (*f["geometry"]["coordinates"], f["properties"]["vertical"]): f["properties"]["count"]
            for f in body["features"]
        }

    def live(self, role: str, **params: Any) -> dict[tuple[float, float, str], int]:
        ClusterCount.objects.all().delete()
        try:
            return self.layer(role, **params)
        finally:
            clusters.rebuild()

    def test_the_table_is_read_not_the_records(self) -> None:
        self.assertGreater(self.rows, 0)
        self.client.force_login(self.viewer)
        with CaptureQueriesContext(connection) as queries:
            self.client.get(OBS, {"bbox": PARK, "zoom": 9})
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        self.assertIn("maps_clustercount", sql)
        self.assertNotIn("observations_observation", sql)

    def test_same_answers_as_counted_live_for_every_role(self) -> None:
        for role in ROLES:
            for zoom in (3, 7, 10, 13):
                for params in (
                    {},
                    {"vertical": "biodiversity"},
                    {"since": "2024-01-01", "until": "2024-06-30"},
                ):
                    query = {"bbox": PARK, "zoom": zoom, **params}
                    table, counted = self.layer(role, **query), self.live(role, **query)
                    self.assertEqual(sum(table.values()), sum(counted.values()), (role, query))
                    if role in ("viewer", "national_viewer", "outsider"):
                        # Nobody here sees exact locations: the same places too.
                        self.assertEqual(
                            {k: v for k, v in table.items()},
                            {(round(x, 6), round(y, 6), v): n for (x, y, v), n in counted.items()},
                            (role, query),
                        )

    def test_the_viewer_never_gets_an_exact_sensitive_point(self) -> None:
        exact = {
            (round(o.location.x, 6), round(o.location.y, 6))
            for o in Observation.objects.filter(species__taxon=self.eagle)
        }
        for zoom in range(0, clusters.CLUSTER_MAX_ZOOM + 1):
            shown = self.layer("viewer", bbox=PARK, zoom=zoom)
            self.assertFalse({(x, y) for x, y, _ in shown} & exact, zoom)

    def test_withheld_records_only_for_who_sees_exact_locations(self) -> None:
        before = {role: sum(self.layer(role, bbox=PARK, zoom=8).values()) for role in ("viewer", "member")}
        eagles = Observation.objects.filter(species__taxon=self.eagle).count()
        self.eagle.sensitivity = Sensitivity.EXTREME
        self.eagle.save()
        # The rules changed: counted live until rebuilt, then from the table, alike.
        for _ in range(2):
            self.assertEqual(sum(self.layer("viewer", bbox=PARK, zoom=8).values()), before["viewer"] - eagles)
            self.assertEqual(sum(self.layer("member", bbox=PARK, zoom=8).values()), before["member"])
            self.assertEqual(clusters.usable(), _ == 1)
            clusters.rebuild()

    def test_a_new_submission_and_an_edit_are_counted(self) -> None:
        def total(**params: Any) -> int:
            return sum(self.layer("member", bbox=PARK, zoom=8, **params).values())

        may, june = (
            {"since": "2024-05-01", "until": "2024-05-31"},
            {"since": "2024-06-01", "until": "2024-06-30"},
        )
        in_may, in_june = total(**may), total(**june)
        values = ob.observation_values(
            loc=ob.geopoint(147.41, -9.45), when="2024-05-20T10:00:00+10:00", category="animals.live"
        )
        instance = "uuid:0f7c2a1e-5d0b-4a59-9a9e-3b1d9d6a1111"
        xml = ob.instance_xml("fk_patrol", ob.patrol_values(), {"obs": [values]}, instance_id=instance)
        ob.submit(xml, self.collector)
        self.assertTrue(clusters.usable())
        self.assertEqual((total(**may), total(**june)), (in_may + 1, in_june))
        # The edit moves the record to June: May loses it.
        values["when"] = "2024-06-03T10:00:00+10:00"
        edit = ob.instance_xml(
            "fk_patrol",
            ob.patrol_values(
                start_time="2024-06-03T07:00:00.000+10:00", end_time="2024-06-03T15:00:00.000+10:00"
            ),
            {"obs": [values]},
            deprecated_id=instance,
        )
        ob.submit(edit, self.collector)
        self.assertEqual((total(**may), total(**june)), (in_may, in_june + 1))

    def test_a_category_or_a_part_month_is_counted_live(self) -> None:
        bounds = geo.Bounds(147.2, -9.6, 147.6, -9.3)
        self.assertIsNone(
            clusters.rows(clusters.Scopes.of(self.member), data.Filters(category="animals.live"), bounds, 8)
        )
        since = data.Filters(since=date(2024, 5, 2))
        self.assertIsNone(clusters.rows(clusters.Scopes.of(self.member), since, bounds, 8))
        self.assertIsNone(clusters.rows(clusters.Scopes.of(self.member), data.Filters(), bounds, 14))
        self.assertIsNotNone(clusters.rows(clusters.Scopes.of(self.member), data.Filters(), bounds, 13))
