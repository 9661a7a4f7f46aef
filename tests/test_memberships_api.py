"""/api/v1/memberships/ and the membership admin: managers add and end the roles of their
own areas, not others'; nobody grants more than they hold; national roles are for
administrators; ending a collector's last membership revokes its tokens."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from accounts import access
from accounts.access import Capability
from accounts.models import AreaMembership, CollectorToken, Role, User
from tests import access_scene as scene
from tests.base import PASSWORD


class MembershipsApiTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        cls.newcomer = User.objects.create_user("newcomer", password=PASSWORD)

    def post(self, by: User, **data: object):  # type: ignore[no-untyped-def]
        self.client.force_login(by)
        return self.client.post("/api/v1/memberships/", data, content_type="application/json")

    def test_a_manager_lists_the_members_of_its_area_only(self) -> None:
        self.client.force_login(self.manager)
        listed = {m["username"] for m in self.client.get("/api/v1/memberships/").json()["results"]}
        self.assertEqual(listed, {"collector", "member", "manager", "viewer", "law"})

    def test_a_manager_adds_a_member_to_its_area(self) -> None:
        response = self.post(self.manager, username="newcomer", role="viewer", area=self.area.pk)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertTrue(access.can(self.newcomer, Capability.VIEW_RECORDS, self.area))

    def test_a_manager_cannot_add_to_another_area(self) -> None:
        response = self.post(self.outsider, username="newcomer", role="viewer", area=self.area.pk)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["code"], "403.70")
        self.assertFalse(AreaMembership.objects.filter(user=self.newcomer).exists())

    def test_a_manager_cannot_grant_law_enforcement_nor_national_roles(self) -> None:
        response = self.post(self.manager, username="newcomer", role="law_enforcement", area=self.area.pk)
        self.assertEqual(response.json()["code"], "403.72")
        response = self.post(self.manager, username="newcomer", role="viewer", national=True)
        self.assertEqual(response.json()["code"], "403.71")
        self.assertFalse(AreaMembership.objects.filter(user=self.newcomer).exists())

    def test_an_administrator_grants_a_national_role(self) -> None:
        response = self.post(self.admin, username="newcomer", role="law_enforcement", national=True)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertTrue(access.can(self.newcomer, Capability.VIEW_PERSONAL_DATA, self.other_area))

    def test_members_and_viewers_cannot_add(self) -> None:
        for user in (self.member, self.viewer, self.law, self.collector):
            response = self.post(user, username="newcomer", role="viewer", area=self.area.pk)
            self.assertEqual(response.status_code, 403, user)

    def test_ending_a_collectors_membership_revokes_its_token(self) -> None:
        membership = AreaMembership.objects.get(user=self.collector)
        self.client.force_login(self.manager)
        response = self.client.delete(f"/api/v1/memberships/{membership.pk}/")
        self.assertEqual(response.status_code, 204)
        token = CollectorToken.objects.get(user=self.collector)
        self.assertIsNotNone(token.revoked_at)
        # The phone is cut off at once.
        response = self.client.get(f"/key/{token.token}/formList", HTTP_X_OPENROSA_VERSION="1.0")
        self.assertEqual(response.status_code, 403)

    def test_a_collector_of_two_areas_keeps_its_token_while_one_remains(self) -> None:
        AreaMembership.objects.create(user=self.collector, area=self.other_area, role=Role.COLLECTOR)
        membership = AreaMembership.objects.get(user=self.collector, area=self.area)
        self.client.force_login(self.manager)
        self.assertEqual(self.client.delete(f"/api/v1/memberships/{membership.pk}/").status_code, 204)
        self.assertIsNone(CollectorToken.objects.get(user=self.collector).revoked_at)
        self.assertFalse(access.can(self.collector, Capability.SUBMIT, self.area))

    def test_a_membership_of_another_area_is_404(self) -> None:
        membership = AreaMembership.objects.get(user=self.collector)
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.delete(f"/api/v1/memberships/{membership.pk}/").status_code, 404)
        self.assertEqual(self.client.get(f"/api/v1/memberships/{membership.pk}/").status_code, 404)
        self.assertTrue(AreaMembership.objects.filter(pk=membership.pk).exists())

    def test_anonymous_is_refused(self) -> None:
        self.assertIn(self.client.get("/api/v1/memberships/").status_code, (401, 403))


class MembershipAdminTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        cls.newcomer = User.objects.create_user("newcomer", password=PASSWORD)

    def test_a_manager_adds_a_member_in_the_admin(self) -> None:
        self.client.force_login(self.manager)
        response = self.client.post(
            reverse("admin:accounts_areamembership_add"),
            {"user": self.newcomer.pk, "area": self.area.pk, "role": "member"},
        )
        self.assertEqual(response.status_code, 302, response.content[:2000])
        self.assertTrue(AreaMembership.objects.filter(user=self.newcomer, area=self.area).exists())

    def test_another_areas_manager_cannot_add_there_in_the_admin(self) -> None:
        self.client.force_login(self.outsider)
        response = self.client.post(
            reverse("admin:accounts_areamembership_add"),
            {"user": self.newcomer.pk, "area": self.area.pk, "role": "member"},
        )
        self.assertEqual(response.status_code, 200)  # the form again, with its error
        self.assertFalse(AreaMembership.objects.filter(user=self.newcomer).exists())

    def test_the_admin_list_holds_the_managers_areas_only(self) -> None:
        self.client.force_login(self.outsider)
        response = self.client.get(reverse("admin:accounts_areamembership_changelist"))
        self.assertContains(response, "outside_law")
        self.assertContains(response, "2 area memberships")
        collector = AreaMembership.objects.get(user=self.collector)
        self.assertNotContains(response, f"/admin/accounts/areamembership/{collector.pk}/change/")

    def test_removing_in_the_admin_revokes_the_token(self) -> None:
        membership = AreaMembership.objects.get(user=self.collector)
        self.client.force_login(self.manager)
        url = reverse("admin:accounts_areamembership_delete", args=[membership.pk])
        self.assertEqual(self.client.post(url, {"post": "yes"}).status_code, 302)
        self.assertIsNotNone(CollectorToken.objects.get(user=self.collector).revoked_at)

    def test_another_areas_manager_gets_404_for_a_membership(self) -> None:
        membership = AreaMembership.objects.get(user=self.collector)
        self.client.force_login(self.outsider)
        url = reverse("admin:accounts_areamembership_delete", args=[membership.pk])
        self.assertEqual(self.client.post(url, {"post": "yes"}).status_code, 404)
        self.assertTrue(AreaMembership.objects.filter(pk=membership.pk).exists())
