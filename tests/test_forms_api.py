from __future__ import annotations

from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AreaMembership, Role, User
from odk_forms import conversion
from odk_forms.models import Form, FormState, MediaFile
from tests.base import PASSWORD, BaseTestCase
from tests.xml_builders import make_form, make_xform


def form_file(**kwargs: object) -> SimpleUploadedFile:
    return SimpleUploadedFile("form.xml", make_xform(**kwargs), content_type="text/xml")  # type: ignore[arg-type]


class FormsApiTest(BaseTestCase):
    def setUp(self) -> None:
        self.version = make_form([self.area])
        self.form = self.version.form

    def test_list_is_scoped_to_the_users_areas(self) -> None:
        make_form([self.other_area], form_id="tonda")
        for username, expected in [
            ("member", ["patrol"]),
            ("collector", ["patrol"]),
            ("outsider", ["tonda"]),
        ]:
            self.client.force_login(getattr(self, username))
            response = self.client.get("/api/v1/forms/")
            self.assertEqual(response.status_code, 200)
            self.assertEqual([f["xml_form_id"] for f in response.json()["results"]], expected, username)

    def test_detail_has_versions(self) -> None:
        self.client.force_login(self.member)
        data = self.client.get(f"/api/v1/forms/{self.form.pk}/").json()
        self.assertEqual([v["version"] for v in data["versions"]], ["1"])
        self.assertEqual(data["versions"][0]["md5"], self.version.md5)

    def test_outsider_cannot_see_the_form(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(f"/api/v1/forms/{self.form.pk}/").status_code, 404)

    def test_anonymous_is_refused(self) -> None:
        self.assertIn(self.client.get("/api/v1/forms/").status_code, (401, 403))

    def test_owner_publishes_a_new_version_with_media(self) -> None:
        self.client.force_login(self.owner)
        media = SimpleUploadedFile("zebra.png", b"\x89PNG")
        response = self.client.post(
            "/api/v1/forms/",
            {"file": form_file(version="2", media=["zebra.png"]), "media": [media], "areas": [self.area.pk]},
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.form.refresh_from_db()
        self.assertEqual(self.form.current_version.version, "2")
        self.assertEqual(MediaFile.objects.get().name, "zebra.png")

    def test_two_different_media_files_with_one_name_are_refused(self) -> None:
        self.client.force_login(self.owner)
        media = [
            SimpleUploadedFile("zebra.png", b"\x89PNG one"),
            SimpleUploadedFile("zebra.png", b"\x89PNG two"),
        ]
        response = self.client.post(
            "/api/v1/forms/",
            {"file": form_file(version="2", media=["zebra.png"]), "media": media, "areas": [self.area.pk]},
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertEqual(response.json()["code"], "400.46")
        self.form.refresh_from_db()
        self.assertEqual(self.form.current_version.version, "1")
        self.assertFalse(MediaFile.objects.exists())

    def test_owner_publishes_a_new_form(self) -> None:
        self.client.force_login(self.owner)
        response = self.client.post(
            "/api/v1/forms/", {"file": form_file(form_id="incident"), "areas": [self.area.pk]}
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(list(Form.objects.get(xml_form_id="incident").areas.all()), [self.area])

    def test_new_form_needs_an_area_the_user_manages(self) -> None:
        self.client.force_login(self.owner)
        for areas in ([], [self.other_area.pk]):
            response = self.client.post(
                "/api/v1/forms/", {"file": form_file(form_id="incident"), "areas": areas}
            )
            self.assertEqual(response.status_code, 403, areas)
        self.assertFalse(Form.objects.filter(xml_form_id="incident").exists())

    def test_member_and_outsider_cannot_publish_a_version(self) -> None:
        for user in (self.member, self.collector, self.outsider):
            self.client.force_login(user)
            response = self.client.post("/api/v1/forms/", {"file": form_file(version="2")})
            self.assertEqual(response.status_code, 403, user.username)
        self.form.refresh_from_db()
        self.assertEqual(self.form.current_version.version, "1")

    def test_bad_form_message(self) -> None:
        self.client.force_login(self.owner)
        bad = SimpleUploadedFile("form.xml", b"<html/>")
        response = self.client.post("/api/v1/forms/", {"file": bad})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["code"], "400.43")

    def test_draft_then_publish(self) -> None:
        self.client.force_login(self.owner)
        response = self.client.post("/api/v1/forms/", {"file": form_file(version="2"), "draft": "true"})
        self.assertEqual(response.status_code, 201, response.content)
        draft = next(v for v in response.json()["versions"] if v["is_draft"])
        self.assertIn("/test/", draft["test_url"])
        response = self.client.post(f"/api/v1/forms/{self.form.pk}/publish-draft/")
        self.assertEqual(response.status_code, 200, response.content)
        self.form.refresh_from_db()
        self.assertEqual(self.form.current_version.version, "2")

    def test_owner_changes_state(self) -> None:
        self.client.force_login(self.owner)
        response = self.client.post(
            f"/api/v1/forms/{self.form.pk}/state/", {"state": "closing"}, content_type="application/json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.form.refresh_from_db()
        self.assertEqual(self.form.state, FormState.CLOSING)

    def test_it_validates_ownership_of_state_changes(self) -> None:
        for user, status in [(self.member, 403), (self.collector, 403), (self.outsider, 404)]:
            self.client.force_login(user)
            response = self.client.post(
                f"/api/v1/forms/{self.form.pk}/state/", {"state": "closed"}, content_type="application/json"
            )
            self.assertEqual(response.status_code, status, user.username)
        self.form.refresh_from_db()
        self.assertEqual(self.form.state, FormState.OPEN)


class DraftVisibilityTest(BaseTestCase):
    """A draft's test URLs let anyone who holds them download the draft and send data to it:
    only those who manage the form see drafts."""

    def setUp(self) -> None:
        make_form([self.area])
        self.draft = make_form([self.area], version="2", draft=True)
        self.donor = User.objects.create_user("donor", password=PASSWORD)
        AreaMembership.objects.create(user=self.donor, area=self.area, role=Role.VIEWER)

    def versions_seen_by(self, user: User) -> list[dict[str, object]]:
        self.client.force_login(user)
        listed = self.client.get("/api/v1/forms/").json()["results"]
        detail = self.client.get(f"/api/v1/forms/{self.draft.form_id}/").json()
        self.assertEqual(listed[0]["versions"], detail["versions"])
        return detail["versions"]

    def test_the_manager_sees_the_draft_and_its_test_url(self) -> None:
        versions = {v["version"]: v for v in self.versions_seen_by(self.owner)}
        self.assertEqual({name: v["is_draft"] for name, v in versions.items()}, {"1": False, "2": True})
        self.assertIn(f"/test/{self.draft.draft_token}", versions["2"]["test_url"])

    def test_other_area_users_do_not_see_drafts(self) -> None:
        for user in (self.donor, self.collector, self.member):
            versions = self.versions_seen_by(user)
            self.assertEqual([(v["version"], v["is_draft"]) for v in versions], [("1", False)], user.username)
            self.assertNotIn(self.draft.draft_token, str(versions))

    def test_a_manager_of_only_one_area_of_the_form_does_not_see_it(self) -> None:
        self.draft.form.areas.add(self.other_area)
        AreaMembership.objects.create(user=self.outsider, area=self.area, role=Role.MEMBER)
        versions = self.versions_seen_by(self.outsider)
        self.assertEqual([v["is_draft"] for v in versions], [False])


class PublishRightFirstTest(BaseTestCase):
    """Converting a form runs pyxform and ODK Validate, a Java process: nobody without the
    right to publish may make the server do that."""

    def test_users_who_may_not_publish_never_reach_the_converter(self) -> None:
        donor = User.objects.create_user("donor", password=PASSWORD)
        AreaMembership.objects.create(user=donor, area=self.area, role=Role.VIEWER)
        nobody = User.objects.create_user("nobody", password=PASSWORD)
        with mock.patch.object(
            conversion, "prepare_form", side_effect=AssertionError("converted")
        ) as convert:
            for user in (self.member, self.collector, donor, nobody):
                self.client.force_login(user)
                for areas in ([], [self.area.pk]):
                    response = self.client.post("/api/v1/forms/", {"file": form_file(), "areas": areas})
                    self.assertEqual(response.status_code, 403, (user.username, areas))
                    self.assertEqual(response.json()["code"], "403.41")
            # A manager, but not of the areas asked for.
            self.client.force_login(self.outsider)
            response = self.client.post("/api/v1/forms/", {"file": form_file(), "areas": [self.area.pk]})
            self.assertEqual(response.status_code, 403)
        convert.assert_not_called()
        self.assertFalse(Form.objects.exists())
