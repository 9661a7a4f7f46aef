"""Edit in the browser: a manager opens a stored record in Enketo's edit view, with its
photos, and the edit comes back as a deprecatedID edit through the normal submission path."""

from __future__ import annotations

import uuid
from urllib.parse import unquote, urlsplit

from django.contrib.auth.models import Permission
from django.test import override_settings

from accounts.models import User
from odk_forms.models import Submission
from tests.base import BaseTestCase
from tests.enketo_standin import EnketoStandIn
from tests.xml_builders import make_form, make_instance, photo_bytes, post_submission

PHOTO = photo_bytes(seed=7)


class EditInBrowserTest(BaseTestCase):
    def setUp(self) -> None:
        self.enketo = EnketoStandIn().start()
        self.addCleanup(self.enketo.stop)
        self.enterContext(self.enketo.settings())
        make_form([self.area])
        self.instance_id = f"uuid:{uuid.uuid4()}"
        self.xml = make_instance(instance_id=self.instance_id, photo="cassowary 1.jpg")
        response = post_submission(self.client, self.xml, {"cassowary 1.jpg": PHOTO})
        self.assertEqual(response.status_code, 201, response.content)
        self.record = Submission.objects.get(instance_id=self.instance_id)

    def staff(self, user: User) -> User:
        user.is_staff = True
        user.save()
        user.user_permissions.add(*Permission.objects.filter(codename="view_submission"))
        self.client.force_login(user)
        return user

    def open_edit(self):  # type: ignore[no-untyped-def]
        return self.client.get(f"/admin/odk_forms/submission/{self.record.pk}/edit-in-browser/")

    def test_it_works(self) -> None:
        self.staff(self.owner)
        response = self.open_edit()
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(self.enketo.url + "/edit/"), response["Location"])
        sent = self.enketo.instances[self.instance_id]
        self.assertEqual(sent["instance"].encode(), self.xml)
        self.assertEqual(sent["form_id"], "patrol")
        self.assertEqual(sent["server_url"], "http://127.0.0.1:8000")
        change = f"http://testserver/admin/odk_forms/submission/{self.record.pk}/change/"
        self.assertEqual(sent["return_url"], change)
        photo_url = f"http://testserver/api/v1/submissions/{self.record.pk}/attachments/cassowary%201.jpg"
        self.assertEqual(sent["attachments"], {"cassowary 1.jpg": photo_url})

        # The browser loads the photo from fieldkit, as the signed-in manager.
        photo = self.client.get(urlsplit(photo_url).path)
        self.assertEqual(photo.status_code, 200)
        self.assertEqual(b"".join(photo.streaming_content), PHOTO)
        self.assertEqual(photo["Cache-Control"], "private, no-store")

        # Enketo sends the edit to the server URL, as the manager, with deprecatedID.
        edit_id = f"uuid:{uuid.uuid4()}"
        edit = make_instance(
            instance_id=edit_id,
            deprecated_id=self.instance_id,
            photo="cassowary 1.jpg",
            values={"count": "3"},
        )
        response = post_submission(self.client, edit, {}, username="owner")
        self.assertEqual(response.status_code, 201, response.content)
        new = Submission.objects.get(instance_id=edit_id)
        self.record.refresh_from_db()
        self.assertEqual(
            (new.previous_id, new.deprecated_id, new.is_current), (self.record.pk, self.instance_id, True)
        )
        self.assertFalse(self.record.is_current)
        # The photo Enketo did not send again is carried over to the new version.
        self.assertEqual([a.name for a in new.attachments.all()], ["cassowary 1.jpg"])

        # The old version is no longer the one to edit.
        response = self.open_edit()
        self.assertRedirects(
            response, f"/admin/odk_forms/submission/{self.record.pk}/change/", target_status_code=200
        )
        messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
        self.assertIn(f"edit its newest version ({edit_id}). [409.70]", messages[0])

    def test_the_change_page_links_to_it(self) -> None:
        self.staff(self.owner)
        page = self.client.get(f"/admin/odk_forms/submission/{self.record.pk}/change/")
        self.assertContains(page, f"/admin/odk_forms/submission/{self.record.pk}/edit-in-browser/")

    def test_the_admin_action_opens_one_record(self) -> None:
        self.staff(self.owner)
        response = self.client.post(
            "/admin/odk_forms/submission/",
            {"action": "edit_in_browser", "_selected_action": [self.record.pk]},
        )
        self.assertRedirects(
            response,
            f"/admin/odk_forms/submission/{self.record.pk}/edit-in-browser/",
            fetch_redirect_response=False,
        )

    def test_outsider_may_not_edit_nor_load_the_photos(self) -> None:
        self.staff(self.outsider)
        response = self.open_edit()
        # A record of an area the user may not see is not found (accounts.access), as
        # everywhere else: ids reveal nothing.
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(self.instance_id, self.enketo.instances)
        photo = self.client.get(f"/api/v1/submissions/{self.record.pk}/attachments/cassowary 1.jpg")
        self.assertEqual(photo.status_code, 404)

    def test_anonymous_may_not_load_the_photos(self) -> None:
        photo = self.client.get(f"/api/v1/submissions/{self.record.pk}/attachments/cassowary 1.jpg")
        self.assertEqual(photo.status_code, 302)
        self.assertIn("login", unquote(photo["Location"]))

    def test_enketo_down_says_why(self) -> None:
        self.staff(self.owner)
        self.enketo.fail_with = (500, "Redis down")
        response = self.open_edit()
        messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
        self.assertIn("No web form link for now: Enketo failed (500): Redis down. [503.70]", messages[0])

    def test_without_enketo(self) -> None:
        self.staff(self.owner)
        with override_settings(ENKETO_URL=""):
            response = self.open_edit()
            page = self.client.get(f"/admin/odk_forms/submission/{self.record.pk}/change/")
        messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
        self.assertIn("[404.70]", messages[0])
        self.assertNotContains(page, "edit-in-browser")

    def test_encrypted_records_are_not_opened(self) -> None:
        self.staff(self.owner)
        Submission.objects.filter(pk=self.record.pk).update(is_encrypted=True)
        response = self.open_edit()
        messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
        self.assertIn("[409.71]", messages[0])
        self.assertEqual(self.enketo.instances, {})
