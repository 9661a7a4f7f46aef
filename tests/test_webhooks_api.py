"""/api/v1/webhooks/ and /api/v1/webhook-deliveries/<id>/send-again/: each user manages its
own subscriptions, only over areas whose data it may read; another user's subscription or
delivery is a 404 (404.88), whoever asks."""

from __future__ import annotations

from accounts.models import Role
from tests.base import BaseTestCase
from webhooks.models import Delivery, DeliveryState, Subscription

URL = "/api/v1/webhooks/"
HOOK = "https://hooks.example.org/fieldkit"


class WebhooksApiTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.viewer = cls._user("viewer", cls.area, Role.VIEWER)

    def login(self, user) -> None:  # type: ignore[no-untyped-def]
        self.client.force_login(user)

    def create(self, user, **body):  # type: ignore[no-untyped-def]
        self.login(user)
        data = {"url": HOOK, "areas": [self.area.pk], "kinds": ["record", "case"], **body}
        return self.client.post(URL, data, content_type="application/json")

    def test_it_works_for_the_owner(self):
        response = self.create(self.owner)
        self.assertEqual(response.status_code, 201, response.content)
        made = response.json()
        self.assertEqual(
            (made["areas"], made["kinds"], made["active"]), ([self.area.pk], ["case", "record"], True)
        )
        self.assertGreaterEqual(len(made["secret"]), 32)
        listed = self.client.get(URL).json()["results"]
        self.assertEqual([s["id"] for s in listed], [made["id"]])
        changed = self.client.patch(f"{URL}{made['id']}/", {"active": False}, content_type="application/json")
        self.assertEqual(changed.status_code, 200, changed.content)
        self.assertFalse(Subscription.objects.get().active)
        self.assertEqual(self.client.get(f"{URL}{made['id']}/deliveries/").json(), [])
        self.assertEqual(self.client.delete(f"{URL}{made['id']}/").status_code, 204)

    def test_a_member_and_a_viewer_subscribe_to_their_area(self):
        self.assertEqual(self.create(self.member).status_code, 201)
        self.assertEqual(self.create(self.viewer).status_code, 201)

    def test_it_validates_the_areas(self):
        response = self.create(self.outsider)
        self.assertEqual((response.status_code, response.json()["code"]), (400, "400.88"))
        response = self.create(self.collector)  # sends data, reads none
        self.assertEqual((response.status_code, response.json()["code"]), (400, "400.88"))
        response = self.create(self.owner, areas=[self.area.pk, 999999])
        self.assertEqual(response.json()["code"], "400.88")
        self.assertFalse(Subscription.objects.exists())

    def test_it_validates_the_url_and_kinds(self):
        self.assertEqual(self.create(self.owner, url="ftp://example.org/x").json()["code"], "400.89")
        self.assertEqual(self.create(self.owner, url="file:///etc/passwd").json()["code"], "400.89")
        self.assertEqual(self.create(self.owner, kinds=[]).json()["code"], "400.89")
        self.assertEqual(self.create(self.owner, kinds=["everything"]).status_code, 400)

    def test_it_validates_ownership(self):
        made = self.create(self.owner).json()
        delivery = Delivery.objects.create(
            subscription_id=made["id"], kind="record", action="created", ref="x", body="{}"
        )
        for user in (self.outsider, self.member):
            self.login(user)
            self.assertEqual(self.client.get(URL).json()["results"], [])
            for response in (
                self.client.get(f"{URL}{made['id']}/"),
                self.client.get(f"{URL}{made['id']}/deliveries/"),
                self.client.patch(f"{URL}{made['id']}/", {"active": False}, content_type="application/json"),
                self.client.delete(f"{URL}{made['id']}/"),
                self.client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/send-again/"),
            ):
                self.assertEqual((response.status_code, response.json()["code"]), (404, "404.88"))
        self.assertTrue(Subscription.objects.get().active)

    def test_the_owner_cannot_widen_a_subscription_to_another_area(self):
        made = self.create(self.owner).json()
        response = self.client.patch(
            f"{URL}{made['id']}/", {"areas": [self.other_area.pk]}, content_type="application/json"
        )
        self.assertEqual(response.json()["code"], "400.88")

    def test_send_again(self):
        made = self.create(self.owner, url="http://127.0.0.1:9/").json()
        delivery = Delivery.objects.create(
            subscription_id=made["id"], kind="record", action="created", ref="x", body="{}"
        )
        response = self.client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/send-again/")
        self.assertEqual((response.status_code, response.json()["code"]), (409, "409.88"))
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
        with self.captureOnCommitCallbacks(execute=False) as queued:
            response = self.client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/send-again/")
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(response.json()["state"], "pending")
        self.assertEqual(len(queued), 1)

    def test_anonymous_is_refused(self):
        self.assertIn(self.client.get(URL).status_code, (401, 403))
        self.assertIn(self.client.post("/api/v1/webhook-deliveries/1/send-again/").status_code, (401, 403))
