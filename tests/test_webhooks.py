"""Webhook deliveries against a real HTTP receiver on 127.0.0.1: events on creation and on
edit of submissions, field records and cases; the HMAC-SHA256 signature checked by the
receiver; a 500 retried until it succeeds, or given up after the attempts allowed and sent
again; the payload cut to what the subscription's owner may read; an outsider's
subscription hears nothing from another area."""

from __future__ import annotations

from types import SimpleNamespace

from django.db import transaction
from django.test import TestCase, override_settings

from accounts.models import AccessEvent
from enforcement import actions as case_actions
from fieldkit.errors import Problem
from tests import access_scene as scene
from tests import observation_builders as ob
from tests.webhook_receiver import Receiver
from webhooks import actions, delivery, signing
from webhooks.models import Delivery, DeliveryState, Subscription


def patrol_xml(instance_id: str, count: str = "1", deprecated_id: str | None = None) -> bytes:
    cassowary = ob.observation_values(
        loc=ob.geopoint(scene.CASSOWARY_LON, scene.CASSOWARY_LAT),
        when="2024-06-02T11:00:00+10:00",
        category="animals.live",
        taxon="casuarius_casuarius",
        males=count,
    )
    return ob.instance_xml(
        "fk_patrol",
        ob.patrol_values(
            patrol_no="VNP-2024-031",
            start_time="2024-06-02T07:00:00.000+10:00",
            end_time="2024-06-02T15:00:00.000+10:00",
            track=ob.geotrace([(147.36, -9.47), (147.36, -9.40)]),
        ),
        {"obs": [cassowary]},
        instance_id=instance_id,
        deprecated_id=deprecated_id,
    )


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True, WEBHOOKS_MAX_ATTEMPTS=3)
class WebhookTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def subscribe(self, user, receiver: Receiver, kinds, area=None) -> Subscription:  # type: ignore[no-untyped-def]
        subscription = actions.create_subscription(
            user, url=receiver.url, areas=[(area or self.area).pk], kinds=kinds
        )
        receiver.secret = subscription.secret
        return subscription

    def send(self, xml: bytes) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            ob.submit(xml, self.collector)


class CreationAndEditTest(WebhookTestCase):
    def test_a_submission_and_its_record_are_delivered_signed(self):
        with Receiver() as receiver:
            self.subscribe(self.manager, receiver, ["submission", "record"])
            self.send(patrol_xml("uuid:w-1"))
        self.assertEqual(receiver.events(), ["submission.created", "record.created"])
        self.assertTrue(all(r["verified"] for r in receiver.received))
        submission, record = (r["body"] for r in receiver.received)
        self.assertEqual(submission["data"]["instanceID"], "uuid:w-1")
        self.assertEqual(submission["area"], self.area.pk)
        self.assertEqual(record["data"]["properties"]["individualCount"], 1)
        self.assertEqual(Delivery.objects.filter(state=DeliveryState.DELIVERED).count(), 2)

    def test_an_edit_fires_a_second_event(self):
        with Receiver() as receiver:
            self.subscribe(self.member, receiver, ["submission", "record"])
            self.send(patrol_xml("uuid:w-2"))
            self.send(patrol_xml("uuid:w-2b", count="3", deprecated_id="uuid:w-2"))
        self.assertEqual(
            receiver.events(), ["submission.created", "record.created", "submission.edited", "record.edited"]
        )
        first, edited = receiver.received[1]["body"], receiver.received[3]["body"]
        self.assertEqual(first["data"]["id"], edited["data"]["id"])  # the record's stable uuid
        self.assertEqual(edited["data"]["properties"]["individualCount"], 3)
        self.assertEqual(receiver.received[2]["body"]["data"]["deprecatedID"], "uuid:w-2")
        self.assertNotEqual(first["id"], edited["id"])

    def test_cases_on_creation_and_on_change(self):
        with Receiver() as receiver:
            self.subscribe(self.law, receiver, ["case"])
            with self.captureOnCommitCallbacks(execute=True):
                case = case_actions.open_case(
                    self.law, area_id=self.area.pk, title="Shot eagle", records=[self.eagle_obs.record_uuid]
                )
            with self.captureOnCommitCallbacks(execute=True):
                case_actions.add_note(self.law, case, "Suspect seen at the market.")
        self.assertEqual(receiver.events(), ["case.created", "case.edited"])
        data = receiver.received[1]["body"]["data"]
        self.assertEqual(data["id"], str(case.uuid))
        self.assertEqual((data["notes"], data["records"]), (1, [str(self.eagle_obs.record_uuid)]))
        self.assertNotIn(scene.SUSPECT, str(receiver.received))

    def test_a_rolled_back_change_announces_nothing(self):
        with Receiver() as receiver:
            self.subscribe(self.law, receiver, ["case"])
            with (
                self.captureOnCommitCallbacks(execute=True) as callbacks,
                self.assertRaises(Problem),
                transaction.atomic(),
            ):
                case_actions.open_case(self.law, area_id=self.area.pk, title="Snares")
                raise Problem("400.0", 400, "rolled back")
        self.assertEqual((receiver.received, callbacks), ([], []))


class ScopeTest(WebhookTestCase):
    def test_an_outsiders_subscription_receives_nothing_from_another_area(self):
        with Receiver() as receiver:
            self.subscribe(self.outsider, receiver, ["submission", "record", "case"], area=self.other_area)
            self.send(patrol_xml("uuid:w-3"))
            with self.captureOnCommitCallbacks(execute=True):
                case_actions.open_case(self.law, area_id=self.area.pk, title="Snares")
        self.assertEqual(receiver.received, [])
        self.assertFalse(Delivery.objects.exists())

    def test_a_subscription_whose_owner_lost_the_area_receives_nothing(self):
        with Receiver() as receiver:
            subscription = self.subscribe(self.member, receiver, ["record"])
            subscription.owner = self.outsider  # as if the member's role had ended
            subscription.save()
            self.send(patrol_xml("uuid:w-4"))
        self.assertEqual(receiver.received, [])

    def test_a_viewer_gets_the_generalised_point_and_no_personal_fields(self):
        with Receiver() as viewer_receiver, Receiver() as member_receiver:
            self.subscribe(self.viewer, viewer_receiver, ["record"])
            self.subscribe(self.member, member_receiver, ["record"])
            xml = ob.instance_xml(
                "fk_patrol",
                ob.patrol_values(track=ob.geotrace([(147.36, -9.47), (147.36, -9.40)])),
                {
                    "obs": [
                        ob.observation_values(
                            loc=ob.geopoint(scene.EAGLE_LON, scene.EAGLE_LAT),
                            when="2024-05-14T09:00:00+10:00",
                            category="animals.live",
                            taxon=self.eagle.slug,
                            males="1",
                        )
                    ]
                },
            )
            before = AccessEvent.objects.count()
            self.send(xml)
        seen = viewer_receiver.received[0]["body"]["data"]
        self.assertNotEqual(seen["geometry"]["coordinates"], [scene.EAGLE_LON, scene.EAGLE_LAT])
        self.assertTrue(seen["properties"]["dataGeneralizations"])
        self.assertNotIn("observer", seen["properties"])
        exact = member_receiver.received[0]["body"]["data"]
        self.assertEqual(exact["geometry"]["coordinates"], [scene.EAGLE_LON, scene.EAGLE_LAT])
        audit = AccessEvent.objects.order_by("-pk")[: AccessEvent.objects.count() - before]
        self.assertEqual(
            [(e.username, e.fields, e.path) for e in audit], [("member", ["location"], member_receiver.url)]
        )


class RetryTest(WebhookTestCase):
    def test_a_500_is_retried_until_the_receiver_takes_it(self):
        with Receiver(statuses=[500, 200]) as receiver:
            self.subscribe(self.manager, receiver, ["record"])
            self.send(patrol_xml("uuid:w-5"))
        self.assertEqual(len(receiver.received), 2)
        self.assertEqual(receiver.received[0]["body"], receiver.received[1]["body"])
        self.assertTrue(all(r["verified"] for r in receiver.received))
        sent = Delivery.objects.get()
        self.assertEqual((sent.state, sent.attempts), (DeliveryState.DELIVERED, 2))
        log = list(sent.log.all())
        self.assertEqual([(a.number, a.status_code) for a in log], [(1, 500), (2, 200)])
        self.assertEqual(log[0].response_excerpt, '{"status": 500}')
        self.assertTrue(all(a.duration_ms >= 0 and a.error == "" for a in log))

    def test_it_gives_up_after_the_attempts_allowed_then_is_sent_again(self):
        with Receiver(statuses=[500, 502, 503]) as receiver:
            self.subscribe(self.manager, receiver, ["record"])
            self.send(patrol_xml("uuid:w-6"))
            sent = Delivery.objects.get()
            self.assertEqual((sent.state, sent.attempts), (DeliveryState.FAILED, 3))
            with self.captureOnCommitCallbacks(execute=True):
                actions.send_again(sent)
        sent.refresh_from_db()
        self.assertEqual((sent.state, sent.attempts), (DeliveryState.DELIVERED, 4))
        self.assertEqual(len({r["body"]["id"] for r in receiver.received}), 1)

    def test_a_receiver_that_is_not_there_is_logged_as_an_error(self):
        with Receiver() as receiver:
            url = receiver.url
        subscription = actions.create_subscription(
            self.manager, url=url, areas=[self.area.pk], kinds=["record"]
        )
        self.send(patrol_xml("uuid:w-7"))
        sent = Delivery.objects.get(subscription=subscription)
        self.assertEqual(sent.state, DeliveryState.FAILED)
        self.assertTrue(
            all(a.status_code is None and "Connection refused" in a.error for a in sent.log.all())
        )

    @override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
    def test_local_addresses_are_refused_unless_allowed(self):
        with Receiver() as receiver:
            self.subscribe(self.manager, receiver, ["record"])
            self.send(patrol_xml("uuid:w-8"))
        self.assertEqual(receiver.received, [])
        self.assertIn("private or local address", Delivery.objects.get().log.first().error)

    @override_settings(WEBHOOKS_RETRY_BASE=30, WEBHOOKS_MAX_ATTEMPTS=6)
    def test_the_back_off_doubles(self):
        self.assertEqual([delivery.backoff(n) for n in range(1, 6)], [30, 60, 120, 240, 480])
        with Receiver(statuses=[500]) as receiver:
            subscription = self.subscribe(self.manager, receiver, ["record"])
            row = Delivery.objects.create(
                subscription=subscription, kind="record", action="created", ref="x", body="{}"
            )
            asked = {}

            def retry(**kw):  # type: ignore[no-untyped-def]
                asked.update(kw)
                return RuntimeError("retry")

            task = SimpleNamespace(request=SimpleNamespace(retries=2, is_eager=False), retry=retry)
            with self.assertRaises(RuntimeError):
                delivery.deliver(row.pk, task)
        self.assertEqual(asked, {"countdown": 120.0, "max_retries": 6})  # after the third


class SigningTest(TestCase):
    def test_a_signature_verifies_and_a_changed_body_does_not(self):
        header = signing.signature("s3cret", 1700000000, b'{"a":1}')
        self.assertTrue(signing.verify("s3cret", "1700000000", b'{"a":1}', header, now=1700000010))
        self.assertFalse(signing.verify("s3cret", "1700000000", b'{"a":2}', header, now=1700000010))
        self.assertFalse(signing.verify("other", "1700000000", b'{"a":1}', header, now=1700000010))
        self.assertFalse(signing.verify("s3cret", "1700000000", b'{"a":1}', header, now=1700009999))
