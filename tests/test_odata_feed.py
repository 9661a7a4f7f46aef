"""GET /api/v1/odata/ (service document), /api/v1/odata/$metadata (CSDL) and the entity sets
/api/v1/odata/Observations, /LegDays and /Submissions_<form>: the OData v4 feed Excel and
Power BI refresh. Signed in with HTTP Basic (https, or plain http on loopback while https
is off), a collector token or the session; paged by the server; filtered on dates; under
the access policy (a viewer gets generalised points, nobody gets personal fields, users of
another area get none of the area's rows)."""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlsplit

from defusedxml import ElementTree
from django.test import TestCase, override_settings

from accounts.models import AccessAction, AccessEvent
from observations.models import Observation, PatrolLegDay
from odk_forms.models import Submission
from tests import access_scene as scene
from tests.base import PASSWORD

ROOT = "/api/v1/odata/"
METADATA = ROOT + "$metadata"
OBSERVATIONS = ROOT + "Observations"
LEG_DAYS = ROOT + "LegDays"
SUBMISSIONS = ROOT + "Submissions_fk_patrol"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def basic(username: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class ODataTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def get(self, user: Any, url: str, prefer: str | None = None, **params: Any) -> Any:
        self.client.logout()
        headers = {"HTTP_AUTHORIZATION": basic(user.username)} if user is not None else {}
        if prefer:
            headers["HTTP_PREFER"] = prefer
        return self.client.get(url, params, **headers)

    def rows(self, user: Any, url: str = OBSERVATIONS, **params: Any) -> list[dict[str, Any]]:
        response = self.get(user, url, **params)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response["OData-Version"], "4.0")
        body = response.json()
        self.assertTrue(body["@odata.context"].startswith("http://testserver/api/v1/odata/$metadata#"))
        return body["value"]

    # --- Signing in -------------------------------------------------------------------------

    def test_without_credentials_the_answer_asks_for_basic(self) -> None:
        for url in (ROOT, METADATA, OBSERVATIONS, LEG_DAYS, SUBMISSIONS):
            response = self.get(None, url)
            self.assertEqual(response.status_code, 401, url)
            self.assertTrue(response["WWW-Authenticate"].startswith('Basic realm="'), url)
            self.assertEqual(response.json()["error"]["code"], "401.80")

    def test_a_wrong_password_is_a_401_that_asks_again(self) -> None:
        self.client.logout()
        response = self.client.get(ROOT, HTTP_AUTHORIZATION=basic("member", "wrong"))
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"]["code"], "401.31")
        self.assertIn("Basic", response["WWW-Authenticate"])

    def test_basic_over_plain_http_only_from_this_computer_while_https_is_off(self) -> None:
        remote = {"REMOTE_ADDR": "10.20.30.40", "HTTP_AUTHORIZATION": basic("member")}
        response = self.client.get(ROOT, **remote)
        self.assertEqual((response.status_code, response.json()["error"]["code"]), (401, "401.81"))
        self.assertEqual(self.client.get(ROOT, secure=True, **remote).status_code, 200)
        self.assertEqual(self.client.get(ROOT, HTTP_AUTHORIZATION=basic("member")).status_code, 200)
        with override_settings(SECURE_SSL_REDIRECT=True):
            response = self.client.get(ROOT, HTTP_AUTHORIZATION=basic("member"), secure=False)
            # The https redirect of production comes first; the view refuses it too.
            self.assertIn(response.status_code, (301, 401))
            from django.test import RequestFactory

            from exports import odata_views

            request = RequestFactory().get(ROOT, HTTP_AUTHORIZATION=basic("member"))
            from django.contrib.auth.models import AnonymousUser

            request.user = AnonymousUser()
            response = odata_views.service(request)
            self.assertEqual((response.status_code, response["WWW-Authenticate"][:5]), (401, "Basic"))

    def test_a_collector_token_or_the_session_signs_in_too(self) -> None:
        token = self.tokens["member"].token
        self.client.logout()
        self.assertEqual(self.client.get(ROOT, HTTP_AUTHORIZATION=f"Bearer {token}").status_code, 200)
        self.assertEqual(self.client.get(ROOT, {"st": token}).status_code, 200)
        self.assertEqual(self.client.get(ROOT, HTTP_AUTHORIZATION="Bearer nope").status_code, 403)
        self.client.force_login(self.member)
        self.assertEqual(self.client.get(OBSERVATIONS).status_code, 200)

    def test_who_may_export_nowhere_is_refused(self) -> None:
        for user in (self.collector, self.nobody):
            for url in (ROOT, METADATA, OBSERVATIONS):
                response = self.get(user, url)
                self.assertEqual((response.status_code, response.json()["error"]["code"]), (403, "403.85"))

    # --- Service document and $metadata ------------------------------------------------------

    def test_the_service_document_lists_the_entity_sets(self) -> None:
        body = self.get(self.member, ROOT).json()
        self.assertEqual(body["@odata.context"], "http://testserver/api/v1/odata/$metadata")
        names = [item["name"] for item in body["value"]]
        self.assertEqual(names[:2], ["Observations", "LegDays"])
        self.assertIn("Submissions_fk_patrol", names)
        self.assertTrue(
            all(item["kind"] == "EntitySet" and item["url"] == item["name"] for item in body["value"])
        )

    def test_the_metadata_is_csdl_with_keys_and_types(self) -> None:
        response = self.get(self.member, METADATA)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/xml")
        root = ElementTree.fromstring(response.content)
        self.assertEqual(root.tag, "{http://docs.oasis-open.org/odata/ns/edmx}Edmx")
        self.assertEqual(root.get("Version"), "4.0")
        types = {e.get("Name"): e for e in root.iter(f"{EDM}EntityType")}
        self.assertEqual(set(types), {"Observation", "LegDay", "Submission"})
        observation = types["Observation"]
        self.assertEqual(observation.find(f"{EDM}Key/{EDM}PropertyRef").get("Name"), "id")
        kinds = {p.get("Name"): p.get("Type") for p in observation.iter(f"{EDM}Property")}
        self.assertEqual(
            (kinds["time"], kinds["day"], kinds["latitude"]), ("Edm.DateTimeOffset", "Edm.Date", "Edm.Double")
        )
        self.assertNotIn("observer", kinds)
        sets = {e.get("Name"): e.get("EntityType") for e in root.iter(f"{EDM}EntitySet")}
        self.assertEqual(sets["Observations"], "fieldkit.Observation")
        self.assertEqual(sets["Submissions_fk_patrol"], "fieldkit.Submission")

    # --- Observations ---------------------------------------------------------------------------

    def test_a_member_gets_the_records_of_its_area_with_exact_points_and_an_audit_row(self) -> None:
        rows = self.rows(self.member)
        expected = list(Observation.objects.filter(area=self.area).order_by("pk"))
        self.assertEqual([row["id"] for row in rows], [str(obs.record_uuid) for obs in expected])
        for row, obs in zip(rows, expected, strict=True):
            self.assertEqual((row["longitude"], row["latitude"]), (obs.location.x, obs.location.y))
            self.assertEqual(row["day"], obs.day.isoformat())
            self.assertEqual(row["time"], obs.time.isoformat().replace("+00:00", "Z"))
            self.assertEqual(
                (row["area"], row["category"], row["vertical"]), (self.area.pk, obs.category_id, obs.vertical)
            )
            self.assertNotIn("observer", row)
        event = AccessEvent.objects.get(user=self.member)
        self.assertEqual(
            (event.action, event.object_id, event.fields, event.path),
            (AccessAction.EXPORT, str(self.eagle_obs.pk), ["location"], OBSERVATIONS),
        )

    def test_a_viewer_gets_generalised_points_and_no_personal_field(self) -> None:
        response = self.get(self.viewer, OBSERVATIONS)
        text = response.content.decode()
        for needle in (str(scene.EAGLE_LON), str(scene.EAGLE_LAT), scene.OBSERVER, scene.SUSPECT):
            self.assertNotIn(needle, text)
        eagle = next(row for row in response.json()["value"] if row["id"] == str(self.eagle_obs.record_uuid))
        self.assertEqual((eagle["longitude"], eagle["latitude"]), (147.365, -9.425))
        self.assertIn("0.01° grid cell", eagle["dataGeneralizations"])
        self.assertIsNone(eagle["zone"])
        self.assertFalse(AccessEvent.objects.filter(user=self.viewer).exists())

    def test_law_enforcement_gets_the_illicit_records_without_names(self) -> None:
        response = self.get(self.law, OBSERVATIONS)
        self.assertEqual([row["id"] for row in response.json()["value"]], [str(self.eagle_obs.record_uuid)])
        self.assertNotIn(scene.SUSPECT, response.content.decode())
        self.assertNotIn(scene.OBSERVER, response.content.decode())

    def test_users_of_another_area_get_none_of_its_rows(self) -> None:
        for user in (self.outsider, self.outside_law):
            for url in (OBSERVATIONS, LEG_DAYS, SUBMISSIONS):
                self.assertEqual(self.rows(user, url), [], (user.username, url))

    # --- Leg-days and submissions ----------------------------------------------------------------

    def test_leg_days_carry_their_effort(self) -> None:
        rows = self.rows(self.member, LEG_DAYS)
        days = list(PatrolLegDay.objects.filter(patrol__area=self.area).order_by("pk"))
        self.assertEqual([row["id"] for row in rows], [str(day.record_uuid) for day in days])
        for row, day in zip(rows, days, strict=True):
            self.assertEqual(row["patrol"], str(day.patrol.record_uuid))
            self.assertEqual(
                (row["distanceKm"], row["fieldHours"], row["members"]),
                (day.distance_km, day.field_hours, day.members),
            )
            self.assertEqual(row["day"], day.day.isoformat())
        self.assertNotIn("Kila Oa", self.get(self.manager, LEG_DAYS).content.decode())
        self.assertEqual(self.rows(self.law, LEG_DAYS), [])  # law enforcement reads no patrols
        self.assertEqual(len(self.rows(self.national_viewer, LEG_DAYS)), len(days))

    def test_submissions_of_a_form(self) -> None:
        rows = self.rows(self.member, SUBMISSIONS)
        self.assertEqual([row["id"] for row in rows], [self.submission.instance_id])
        self.assertEqual(rows[0]["state"], self.submission.state)
        self.assertNotIn("submittedBy", rows[0])
        self.assertEqual(self.rows(self.viewer, SUBMISSIONS)[0]["id"], self.submission.instance_id)
        self.assertEqual(self.get(self.member, ROOT + "Submissions_no_such_form").status_code, 404)
        self.assertEqual(Submission.objects.count(), 1)

    # --- Paging, counting, selecting, filtering --------------------------------------------------

    def add_copies(self, total: int) -> None:
        while Observation.objects.filter(area=self.area).count() < total:
            copy = Observation.objects.get(pk=self.cassowary_obs.pk)
            copy.pk, copy.record_uuid = None, uuid.uuid4()
            copy.save()

    def follow(self, user: Any, url: str, prefer: str | None = None, **params: Any) -> list[dict[str, Any]]:
        pages = []
        response = self.get(user, url, prefer=prefer, **params)
        while True:
            self.assertEqual(response.status_code, 200, response.content)
            body = response.json()
            pages.append(body)
            link = body.get("@odata.nextLink")
            if link is None:
                return pages
            parts = urlsplit(link)
            self.assertEqual(parts.netloc, "testserver")
            self.client.logout()
            headers = {"HTTP_AUTHORIZATION": basic(user.username)}
            if prefer:
                headers["HTTP_PREFER"] = prefer
            response = self.client.get(f"{parts.path}?{parts.query}", **headers)

    def test_the_server_pages_and_the_pages_join_up(self) -> None:
        self.add_copies(5)
        expected = [
            str(u)
            for u in Observation.objects.filter(area=self.area)
            .order_by("pk")
            .values_list("record_uuid", flat=True)
        ]
        response = self.get(self.member, OBSERVATIONS, prefer="odata.maxpagesize=2")
        self.assertEqual(response["Preference-Applied"], "odata.maxpagesize=2")
        pages = self.follow(self.member, OBSERVATIONS, prefer="odata.maxpagesize=2", **{"$count": "true"})
        self.assertEqual([len(page["value"]) for page in pages], [2, 2, 1])
        self.assertEqual([row["id"] for page in pages for row in page["value"]], expected)
        self.assertEqual({page["@odata.count"] for page in pages}, {5})
        with self.settings(ODATA_PAGE_SIZE=3):
            pages = self.follow(self.member, OBSERVATIONS)
            self.assertEqual([len(page["value"]) for page in pages], [3, 2])
            pages = self.follow(self.member, OBSERVATIONS, prefer="odata.maxpagesize=50")
            self.assertEqual([len(page["value"]) for page in pages], [3, 2])
        pages = self.follow(self.member, OBSERVATIONS, prefer="odata.maxpagesize=2", **{"$top": "3"})
        self.assertEqual([len(page["value"]) for page in pages], [2, 1])
        self.assertEqual([row["id"] for page in pages for row in page["value"]], expected[:3])
        pages = self.follow(
            self.member, OBSERVATIONS, prefer="odata.maxpagesize=2", **{"$skip": "1", "$top": "3"}
        )
        self.assertEqual([row["id"] for page in pages for row in page["value"]], expected[1:4])
        self.assertEqual(self.rows(self.member, **{"$skip": "4"})[0]["id"], expected[4])
        self.assertEqual(self.rows(self.member, **{"$top": "0"}), [])
        # A next page starts after the last key of the page before it.
        link = self.get(self.member, OBSERVATIONS, prefer="odata.maxpagesize=2").json()["@odata.nextLink"]
        self.assertIn("%24skiptoken=", link)
        self.assertNotIn("%24skip=", link)
        self.assertEqual(
            self.get(self.member, OBSERVATIONS, **{"$skiptoken": "x"}).json()["error"]["code"], "400.84"
        )

    def test_select_and_count(self) -> None:
        response = self.get(self.member, OBSERVATIONS, **{"$select": "id,day", "$count": "true"})
        body = response.json()
        self.assertTrue(body["@odata.context"].endswith("#Observations(id,day)"))
        self.assertEqual(body["@odata.count"], 2)
        self.assertEqual({tuple(row) for row in body["value"]}, {("id", "day")})

    def test_filter_on_dates(self) -> None:
        day = self.cassowary_obs.day.isoformat()
        both = {str(self.eagle_obs.record_uuid), str(self.cassowary_obs.record_uuid)}

        def ids(text: str, url: str = OBSERVATIONS) -> set[str]:
            return {row["id"] for row in self.rows(self.member, url, **{"$filter": text})}

        self.assertEqual(ids(f"day eq {day}"), both)
        self.assertEqual(ids(f"day ge {day} and day le {day}"), both)
        self.assertEqual(ids(f"day lt {day}"), set())
        self.assertEqual(ids(f"day ne {day}"), set())
        self.assertEqual(
            ids("time ge 2024-05-13T22:00:00Z and time lt 2024-05-14T00:00:00Z"),
            {str(self.eagle_obs.record_uuid)},
        )
        self.assertEqual(ids("time gt 2024-05-14T10:30:00+10:00"), {str(self.cassowary_obs.record_uuid)})
        self.assertEqual(
            len(ids(f"day eq {day}", LEG_DAYS)), PatrolLegDay.objects.filter(patrol__area=self.area).count()
        )
        self.assertEqual(ids("receivedAt gt 2000-01-01", SUBMISSIONS), {self.submission.instance_id})

    def test_what_is_not_understood_is_a_400_from_the_catalogue(self) -> None:
        for params, code in (
            ({"$filter": "day gt yesterday"}, "400.83"),
            ({"$filter": "category eq 2024-01-01"}, "400.83"),
            ({"$filter": "day ge 2024-01-01 or day le 2024-02-01"}, "400.83"),
            ({"$top": "-1"}, "400.84"),
            ({"$skip": "x"}, "400.84"),
            ({"$count": "yes"}, "400.84"),
            ({"$expand": "area"}, "400.84"),
            ({"$format": "xml"}, "400.84"),
            ({"$select": "id,observer"}, "400.84"),
            ({"$orderby": "day desc"}, "400.84"),
        ):
            response = self.get(self.member, OBSERVATIONS, **params)
            self.assertEqual((response.status_code, response.json()["error"]["code"]), (400, code), params)
            self.assertTrue(response.json()["error"]["message"])
        response = self.get(self.member, OBSERVATIONS, **{"$filter": "day gt yesterday"})
        self.assertIn("found 'yesterday'", response.json()["error"]["message"])
