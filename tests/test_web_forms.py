"""Web form links (Enketo) where a user may fill a form: the forms API, the admin, a
collector's token URL; drafts previewed by those who manage the form only; Enketo off or
down leaves every page working, saying why."""

from __future__ import annotations

import socket

from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import override_settings

from accounts import services
from accounts.models import AreaMembership, Role, User
from odk_forms import webforms
from odk_forms.models import EnketoSurvey
from tests.base import PASSWORD, BaseTestCase
from tests.enketo_standin import EnketoStandIn
from tests.xml_builders import make_form


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebFormTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.enketo = EnketoStandIn().start()
        self.addCleanup(self.enketo.stop)
        self.enterContext(self.enketo.settings())
        self.version = make_form([self.area])
        self.form = self.version.form

    def staff(self, user: User, *codenames: str) -> User:
        user.is_staff = True
        user.save()
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return user


class FormsApiWebFormTest(WebFormTestCase):
    def web_form(self, user: User) -> dict:
        self.client.force_login(user)
        response = self.client.get(f"/api/v1/forms/{self.form.pk}/")
        self.assertEqual(response.status_code, 200)
        return response.json()["web_form"]

    def test_it_works(self) -> None:
        found = self.web_form(self.member)
        self.assertTrue(found["url"].startswith(self.enketo.url + "/"))
        self.assertTrue(found["offline_url"].startswith(self.enketo.url + "/x/"))
        self.assertEqual(found["offline_qr"], f"http://testserver/api/v1/forms/{self.form.pk}/web-form-qr/")
        self.assertIsNone(found["preview_url"])
        self.assertIsNone(found["error"])
        call = self.enketo.calls("/-/api/v2/survey")[0]["fields"]
        self.assertEqual(call, {"server_url": settings.SITE_URL, "form_id": "patrol"})

    def test_collectors_get_links_too(self) -> None:
        self.assertIsNotNone(self.web_form(self.collector)["url"])

    def test_viewers_who_do_not_collect_get_no_link(self) -> None:
        viewer = User.objects.create_user("viewer", password=PASSWORD)
        AreaMembership.objects.create(user=viewer, area=self.area, role=Role.VIEWER)
        found = self.web_form(viewer)
        self.assertEqual((found["url"], found["offline_url"], found["offline_qr"]), (None, None, None))

    def test_outsider_sees_neither_form_nor_links(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(f"/api/v1/forms/{self.form.pk}/").status_code, 404)
        self.assertEqual(self.client.get(f"/api/v1/forms/{self.form.pk}/web-form-qr/").status_code, 404)
        self.assertEqual(self.enketo.requests, [])

    def test_links_are_asked_once_per_form_version(self) -> None:
        self.web_form(self.member)
        self.web_form(self.owner)
        self.client.get("/api/v1/forms/")
        self.assertEqual(len(self.enketo.requests), 2)  # online and offline, once
        make_form([self.area], version="2")
        self.web_form(self.member)
        self.assertEqual(len(self.enketo.requests), 4)
        self.assertEqual(EnketoSurvey.objects.count(), 2)

    def test_a_closed_form_has_no_links(self) -> None:
        self.form.state = "closed"
        self.form.save()
        self.assertIsNone(self.web_form(self.member)["url"])

    def test_qr_code_of_the_offline_link(self) -> None:
        offline = self.web_form(self.collector)["offline_url"]
        response = self.client.get(f"/api/v1/forms/{self.form.pk}/web-form-qr/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/png")
        self.assertEqual(response.content, webforms.qr_png(offline))
        self.assertTrue(response.content.startswith(b"\x89PNG"))

    def test_draft_preview_only_for_those_who_manage_the_form(self) -> None:
        draft = make_form([self.area], version="2", draft=True)
        found = self.web_form(self.owner)
        self.assertTrue(found["preview_url"].startswith(self.enketo.url + "/preview/"))
        call = self.enketo.calls("/-/api/v2/survey/preview")[0]["fields"]
        self.assertEqual(call["server_url"], f"{settings.SITE_URL}/test/{draft.draft_token}")
        for user in (self.member, self.collector):
            self.assertIsNone(self.web_form(user)["preview_url"], user)
        self.assertEqual(len(self.enketo.calls("/-/api/v2/survey/preview")), 1)

    def test_enketo_down_the_api_still_answers_and_says_why(self) -> None:
        with override_settings(ENKETO_URL=f"http://127.0.0.1:{closed_port()}/-"):
            found = self.web_form(self.member)
            self.assertIsNone(found["url"])
            self.assertIn("Enketo cannot be reached", found["error"])
            response = self.client.get(f"/api/v1/forms/{self.form.pk}/web-form-qr/")
            self.assertEqual(response.status_code, 503)
            self.assertEqual(response.json()["code"], "503.70")
        self.assertFalse(EnketoSurvey.objects.exists())  # nothing kept: asked again next time
        self.assertIsNotNone(self.web_form(self.member)["url"])

    def test_without_enketo_there_are_no_links(self) -> None:
        with override_settings(ENKETO_URL=""):
            self.assertIsNone(self.web_form(self.member))
            response = self.client.get(f"/api/v1/forms/{self.form.pk}/web-form-qr/")
            self.assertEqual(response.status_code, 404)
            self.assertEqual(response.json()["code"], "404.70")
        self.assertEqual(self.enketo.requests, [])


class AdminWebFormTest(WebFormTestCase):
    def page(self, user: User) -> str:
        self.client.force_login(user)
        response = self.client.get(f"/admin/odk_forms/form/{self.form.pk}/change/")
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_it_works(self) -> None:
        page = self.page(self.staff(self.owner, "view_form", "change_form"))
        links = EnketoSurvey.objects.get()
        self.assertIn(links.url, page)
        self.assertIn(links.offline_url, page)
        self.assertIn('src="data:image/svg+xml;base64,', page)
        listing = self.client.get("/admin/odk_forms/form/").content.decode()
        self.assertIn(links.offline_url, listing)

    def test_the_list_never_waits_for_enketo(self) -> None:
        self.client.force_login(self.staff(self.owner, "view_form"))
        self.assertEqual(self.client.get("/admin/odk_forms/form/").status_code, 200)
        self.assertEqual(self.enketo.requests, [])

    def test_draft_preview_for_managers_only(self) -> None:
        make_form([self.area], version="2", draft=True)
        self.assertIn("preview", self.page(self.staff(self.owner, "view_form")))
        # A member who does not manage the form does not get its admin page at all
        # (accounts.access: forms are managed by managers), so no preview either.
        self.client.force_login(self.staff(self.member, "view_form"))
        response = self.client.get(f"/admin/odk_forms/form/{self.form.pk}/change/")
        self.assertNotIn("/preview/", response.content.decode())
        self.assertNotEqual(response.status_code, 200)

    def test_enketo_down_the_page_works_and_says_why(self) -> None:
        with override_settings(ENKETO_URL=f"http://127.0.0.1:{closed_port()}/-"):
            page = self.page(self.staff(self.owner, "view_form"))
        self.assertIn("Enketo cannot be reached", page)

    def test_enketo_too_slow(self) -> None:
        self.enketo.delay = 1.0
        with override_settings(ENKETO_TIMEOUT=0.2):
            page = self.page(self.staff(self.owner, "view_form"))
        self.assertIn("Enketo did not answer within 0.2 s.", page)

    def test_without_enketo(self) -> None:
        with override_settings(ENKETO_URL=""):
            page = self.page(self.staff(self.owner, "view_form"))
        self.assertIn("Off: fieldkit runs without Enketo", page)
        self.assertEqual(self.enketo.requests, [])


class CollectorWebFormsTest(WebFormTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.ranger, self.token = services.create_collector("ranger", [self.area.pk])

    def test_it_works(self) -> None:
        response = self.client.get(f"/key/{self.token.token}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Referrer-Policy"], "no-referrer")
        links = EnketoSurvey.objects.get()
        self.assertContains(response, links.url)
        self.assertContains(response, links.offline_url)
        self.assertContains(response, 'src="data:image/svg+xml;base64,')
        # Enketo sends to the token URL: no password asked, as in ODK Collect.
        self.assertEqual(links.server_url, f"{settings.SITE_URL}/key/{self.token.token}")
        fields = self.enketo.calls("/-/api/v2/survey/offline")[0]["fields"]
        self.assertEqual(fields["server_url"], f"{settings.SITE_URL}/key/{self.token.token}")

    def test_only_the_forms_of_the_collectors_areas(self) -> None:
        make_form([self.other_area], form_id="tonda", title="Tonda patrol")
        response = self.client.get(f"/key/{self.token.token}/")
        self.assertContains(response, "Patrol")
        self.assertNotContains(response, "Tonda patrol")

    def test_a_revoked_token_gets_nothing(self) -> None:
        services.revoke_token(self.token)
        response = self.client.get(f"/key/{self.token.token}/")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.enketo.requests, [])

    def test_enketo_down(self) -> None:
        with override_settings(ENKETO_URL=f"http://127.0.0.1:{closed_port()}/-"):
            response = self.client.get(f"/key/{self.token.token}/")
        self.assertContains(response, "Enketo cannot be reached")

    def test_without_enketo(self) -> None:
        with override_settings(ENKETO_URL=""):
            response = self.client.get(f"/key/{self.token.token}/")
        self.assertContains(response, "Web forms are not offered on this server")

    def test_the_token_admin_links_to_the_page(self) -> None:
        admin = User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
        self.client.force_login(admin)
        page = self.client.get(f"/admin/accounts/collectortoken/{self.token.pk}/change/")
        self.assertContains(page, f'href="{settings.SITE_URL}/key/{self.token.token}/"')


class EnketoDownListTest(WebFormTestCase):
    def test_a_list_waits_for_enketo_once(self) -> None:
        for n in range(3):
            make_form([self.area], form_id=f"form{n}")
        self.enketo.fail_with = (503, "Service Unavailable")
        self.client.force_login(self.member)
        results = self.client.get("/api/v1/forms/").json()["results"]
        self.assertEqual(len(results), 4)
        self.assertEqual(len(self.enketo.requests), 1)
        for form in results:
            self.assertEqual(form["web_form"]["error"], "Enketo failed (503): Service Unavailable.")
        _ranger, token = services.create_collector("ranger", [self.area.pk])
        page = self.client.get(f"/key/{token.token}/")
        self.assertContains(page, "Enketo failed (503): Service Unavailable.", count=4)
        self.assertEqual(len(self.enketo.requests), 2)
