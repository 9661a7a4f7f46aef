"""Alerts: a matching illicit record, once processed (after the phone's answer), is mailed to
the rule's law-enforcement recipients; a burst makes one digest per interval; others'
areas, other categories and recipients without the right to read the area get nothing.
Django's locmem e-mail backend holds the mails."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.test import TestCase
from django.utils import timezone

from enforcement import alerts
from enforcement.models import AlertLog, AlertRule, PendingAlert
from tests import access_scene as scene
from tests import observation_builders as ob


def illicit(n: int, category: str = "human_activity") -> dict[str, object]:
    return ob.observation_values(
        loc=ob.geopoint(147.37 + n / 1000, -9.43),
        when=f"2024-06-02T1{n % 10}:00:00+10:00",
        category=category,
        action="arrested",
        suspects="1",
    )


class AlertTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        cls.rule = AlertRule.objects.create(
            name="Poaching in Varirata", area=cls.area, category="human_activity", window_minutes=15
        )
        cls.rule.recipients.set([cls.law, cls.viewer, cls.outside_law])

    def submit(self, *observations: dict[str, object]) -> None:
        xml = ob.instance_xml("fk_patrol", ob.patrol_values(), {"obs": list(observations)})
        with self.captureOnCommitCallbacks(execute=True):
            ob.submit(xml, self.collector)

    def test_a_burst_makes_one_digest(self):
        mail.outbox.clear()
        self.submit(illicit(1), illicit(2), illicit(3))
        self.submit(illicit(4))
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        # Only law enforcement of the area: the viewer and the other area's officer are left out.
        self.assertEqual(message.to, ["law@example.org"])
        self.assertIn("3 records", message.subject)
        log = AlertLog.objects.get()
        self.assertEqual((log.records, log.recipients), (3, ["law"]))
        # The fourth waits for the next interval, then goes alone.
        self.assertEqual(PendingAlert.objects.filter(log=None).count(), 1)
        self.assertEqual(alerts.send_due_digests(), 0)
        later = timezone.now() + timedelta(minutes=16)
        self.assertEqual(alerts.send_due_digests(later), 1)
        self.assertEqual(len(mail.outbox), 2)
        self.assertIn("1 record for", mail.outbox[1].subject)
        self.assertEqual(AlertLog.objects.count(), 2)

    def test_other_categories_and_areas_do_not_match(self):
        mail.outbox.clear()
        self.submit(
            ob.observation_values(loc=ob.geopoint(147.37, -9.43), category="animals.live", males="1"),
        )
        # In the other area: the rule is for Varirata only.
        xml = ob.instance_xml(
            "fk_patrol",
            ob.patrol_values(track=ob.geotrace([(141.2, -9.0), (141.3, -8.9)])),
            {
                "obs": [
                    ob.observation_values(
                        loc=ob.geopoint(141.25, -8.95), category="human_activity", action="arrested"
                    )
                ]
            },
        )
        with self.captureOnCommitCallbacks(execute=True):
            ob.submit(xml, self.outsider)
        self.assertFalse(PendingAlert.objects.exists())
        self.assertEqual(mail.outbox, [])

    def test_an_interval_is_claimed_once(self):
        now = timezone.now()
        rule = AlertRule.objects.get(pk=self.rule.pk)
        self.assertTrue(alerts._claim(rule, now))
        self.assertFalse(alerts._claim(rule, now))  # the same snapshot, as a second worker holds it
