"""Admin pages of field records render, and are read-only."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from observations.models import Observation, Patrol, QAFlag
from tests import observation_builders as ob
from tests.base import BaseTestCase


class ObservationsAdminTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.admin = User.objects.create_superuser("root", "root@example.org", "a long admin password")
        ob.publish(ob.patrol_form_md(), [cls.area])
        junk = ob.observation_values(
            loc=ob.geopoint(0, 0), when="2024-05-14T09:00:00+10:00", category="animals.live"
        )
        xml = ob.instance_xml(
            "fk_patrol",
            ob.patrol_values(track=ob.geotrace([(147.36, -9.47), (147.36, -9.40)])),
            {"obs": [junk]},
        )
        ob.submit(xml, cls.collector)

    def test_every_list_and_record_page_renders(self) -> None:
        self.client.force_login(self.admin)
        for model in [
            "category",
            "taxon",
            "patrol",
            "observation",
            "qaflag",
            "mettassessment",
            "budgetreturn",
        ]:
            response = self.client.get(reverse(f"admin:observations_{model}_changelist"))
            self.assertEqual(response.status_code, 200, model)
        for model, pk in [
            ("patrol", Patrol.objects.get().pk),
            ("observation", Observation.objects.get().pk),
            ("qaflag", QAFlag.objects.get().pk),
        ]:
            response = self.client.get(reverse(f"admin:observations_{model}_change", args=[pk]))
            self.assertEqual(response.status_code, 200, model)

    def test_records_cannot_be_added_or_changed(self) -> None:
        self.client.force_login(self.admin)
        self.assertEqual(self.client.get(reverse("admin:observations_observation_add")).status_code, 403)
        patrol = Patrol.objects.get()
        url = reverse("admin:observations_patrol_change", args=[patrol.pk])
        self.client.post(url, {"team": "changed"})
        patrol.refresh_from_db()
        self.assertEqual(patrol.team, "Varirata north")

    def test_a_member_without_admin_access_is_sent_to_login(self) -> None:
        self.client.force_login(self.member)
        response = self.client.get(reverse("admin:observations_observation_changelist"))
        self.assertEqual(response.status_code, 302)
