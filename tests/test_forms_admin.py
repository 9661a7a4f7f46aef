from __future__ import annotations

from unittest import mock

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from odk_forms import conversion
from odk_forms.models import Form, Submission
from tests.base import PASSWORD, BaseTestCase
from tests.xml_builders import make_xform


class PublishInAdminTest(BaseTestCase):
    def setUp(self) -> None:
        self.owner.is_staff = True
        self.owner.is_superuser = True
        self.owner.save()
        self.client.force_login(self.owner)

    def test_it_works(self) -> None:
        page = self.client.get("/admin/odk_forms/form/publish/")
        self.assertEqual(page.status_code, 200)
        response = self.client.post(
            "/admin/odk_forms/form/publish/",
            {
                "file": SimpleUploadedFile("patrol.xml", make_xform(media=["zebra.png"])),
                "media_files": [SimpleUploadedFile("zebra.png", b"\x89PNG")],
                "areas": [self.area.pk],
            },
        )
        form = Form.objects.get()
        self.assertRedirects(response, f"/admin/odk_forms/form/{form.pk}/change/")
        self.assertEqual(form.current_version.media_files.get().name, "zebra.png")
        self.assertEqual(self.client.get("/admin/odk_forms/form/").status_code, 200)
        self.assertEqual(self.client.get(f"/admin/odk_forms/form/{form.pk}/change/").status_code, 200)

    def test_validation_message_is_shown(self) -> None:
        bad = make_xform().replace(b'type="string"/>', b'type="string" relevant="/data/count = = 1"/>', 1)
        response = self.client.post(
            "/admin/odk_forms/form/publish/", {"file": SimpleUploadedFile("bad.xml", bad)}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "ODK Validate rejected the form")
        self.assertFalse(Form.objects.exists())

    def test_submission_pages(self) -> None:
        self.assertEqual(self.client.get("/admin/odk_forms/submission/").status_code, 200)
        self.assertFalse(Submission.objects.exists())

    def test_non_staff_is_kept_out(self) -> None:
        self.client.force_login(self.member)
        response = self.client.get("/admin/odk_forms/form/publish/")
        self.assertEqual(response.status_code, 302)


class PublishRightInAdminTest(BaseTestCase):
    def test_staff_without_an_area_to_manage_never_reach_the_converter(self) -> None:
        clerk = User.objects.create_user("clerk", password=PASSWORD, is_staff=True)
        clerk.user_permissions.add(Permission.objects.get(codename="change_form"))
        self.client.force_login(clerk)
        with mock.patch.object(
            conversion, "prepare_form", side_effect=AssertionError("converted")
        ) as convert:
            response = self.client.post(
                "/admin/odk_forms/form/publish/",
                {"file": SimpleUploadedFile("patrol.xml", make_xform()), "areas": [self.area.pk]},
            )
        # Django's model permission is not enough: the access policy wants MANAGE_FORMS.
        self.assertEqual(response.status_code, 302)
        convert.assert_not_called()
        self.assertFalse(Form.objects.exists())

    def test_a_manager_never_publishes_to_another_area(self) -> None:
        self.owner.is_staff = True
        self.owner.save()
        self.client.force_login(self.owner)
        with mock.patch.object(
            conversion, "prepare_form", side_effect=AssertionError("converted")
        ) as convert:
            response = self.client.post(
                "/admin/odk_forms/form/publish/",
                {"file": SimpleUploadedFile("patrol.xml", make_xform()), "areas": [self.other_area.pk]},
            )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Only an area manager may publish forms")
        convert.assert_not_called()
        self.assertFalse(Form.objects.exists())
