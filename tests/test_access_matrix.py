"""Role × endpoint: every endpoint that exists, asked by each role of the area, the same
roles of another area, national roles, a superuser and nobody signed in.

The explicit rows cover every URL name outside the admin (a test fails when a new one has
no row); the admin is covered model by model, its list and a record of the area. A record
of an area the user may not see is a 404, never a 403: ids reveal nothing.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from accounts import access
from accounts.access import Capability
from accounts.models import AreaMembership, CollectorToken
from enforcement import actions
from exports.models import ExportJob
from indicators import compute, grid
from indicators.models import IndicatorValue
from observations.models import Observation, Patrol
from odk_forms import publishing
from odk_forms.models import Attachment, Form
from tests import access_scene as scene
from tests import observation_builders as ob
from webhooks import actions as webhook_actions
from webhooks.models import Delivery

ROLES = [
    "anonymous",
    "collector",
    "member",
    "manager",
    "viewer",
    "law",
    "outsider",  # manager of the other area
    "outside_law",  # law enforcement of the other area
    "national_viewer",
    "national_law",
    "admin",
]
SIGNED_IN = ROLES[1:]
ANON = {401, 403}


def only(*roles: str, yes: Any = 200, no: Any = 404, anonymous: Any = None) -> dict[str, Any]:
    """Expected answers: `yes` for `roles`, `no` for the other signed-in roles, and
    `anonymous` (default: as `no`) for nobody."""
    expected = {role: (yes if role in roles else no) for role in SIGNED_IN}
    expected["anonymous"] = no if anonymous is None else anonymous
    return expected


def everyone(status: Any = 200, anonymous: Any = None) -> dict[str, Any]:
    return only(*SIGNED_IN, yes=status, anonymous=status if anonymous is None else anonymous)


class AccessMatrixTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        # A form of the first area only, and a draft of the shared patrol form.
        cls.incident = ob.publish(ob.incident_form_md(), [cls.area], name="incident.md")
        cls.draft = publishing.publish_form_version(
            "patrol.md",
            ob.patrol_form_md(version="2").encode(),
            area_ids=[cls.area.pk],
            validate=False,
            draft=True,
        )
        for name in ("law", "outside_law", "national_law", "admin"):
            cls.tokens[name] = CollectorToken.objects.create(user=getattr(cls, name))
        cls.case = actions.open_case(cls.law, area_id=cls.area.pk, title="Shot eagle")

    def setUp(self) -> None:
        stored = Attachment.objects.get(submission=self.submission, name=scene.PHOTO)
        path = Path(settings.MEDIA_ROOT) / stored.file.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.photo_bytes)

    # --- Requests ---------------------------------------------------------------------------------

    def ask(self, role: str, method: str, url: str, data: Any = None) -> Any:
        self.client.logout()
        if role != "anonymous":
            self.client.force_login(getattr(self, role))
        if method == "post_json":
            return self.client.post(url, data or {}, content_type="application/json")
        return getattr(self.client, method)(url, **({"data": data} if data else {}))

    def openrosa(self, role: str, method: str, path: str, **extra: Any) -> Any:
        self.client.logout()
        token = self.tokens.get(role)
        prefix = f"/key/{token.token}" if token else "/key/not-a-token"
        headers = {"HTTP_X_OPENROSA_VERSION": "1.0"}
        return getattr(self.client, method)(prefix + path, **headers, **extra)

    def check(self, rows: list[tuple[str, Any, dict[str, Any]]]) -> set[str]:
        """Run every row for every role; return the URL names the rows reached."""
        reached: set[str] = set()
        failures = []
        for label, call, expected in rows:
            for role in ROLES:
                response = call(role)
                want = expected[role]
                ok = response.status_code in want if isinstance(want, set) else response.status_code == want
                if not ok:
                    failures.append(f"{label} as {role}: {response.status_code}, expected {want}")
                match = response.wsgi_request.resolver_match if hasattr(response, "wsgi_request") else None
                if match is not None:
                    reached.add(match.view_name)
        self.assertEqual(failures, [])
        return reached

    # --- Everything but the admin --------------------------------------------------------------

    def test_every_endpoint_for_every_role(self) -> None:
        eagle, cassowary = self.eagle_obs.pk, self.cassowary_obs.pk
        form = Form.objects.get(xml_form_id="fk_incident")
        patrol_form = Form.objects.get(xml_form_id="fk_patrol")
        collector_membership = AreaMembership.objects.get(user=self.collector)
        zone_id = None
        area_form = f"/forms/fk_incident/versions/{self.incident.pk}"
        submitters_of_area = ("collector", "member", "manager", "admin")
        readers_of_area = ("member", "manager", "viewer", "national_viewer", "admin")
        illicit_readers = (*readers_of_area, "law", "national_law")
        sees_area_forms = (*submitters_of_area, "viewer", "law", "national_viewer", "national_law")
        managers = ("manager", "admin")
        case_readers = ("law", "manager", "national_law", "admin")
        case = f"/cases/{self.case.uuid}/"
        indicator_readers = (*readers_of_area, "law", "national_law")
        grid.build_grid(self.area)
        compute.compute_full()
        job = ExportJob.objects.create(owner=self.manager, kind="observations", format="csv")
        subscription = webhook_actions.create_subscription(
            self.manager, url="https://example.org/hook", areas=[self.area.pk], kinds=["record"]
        )
        delivery = Delivery.objects.create(
            subscription=subscription, kind="record", action="created", ref="x", body="{}", state="failed"
        )
        value = IndicatorValue.objects.filter(area=self.area, cell_id=0).first()
        cells = (
            f"/api/v1/indicators/cells/?area={self.area.pk}&indicator=cell.records"
            "&subject=vertical:illicit&period_kind=Y&period_start=2024-01-01"
        )
        record_files = f"/api/v1/submissions/{self.submission.pk}/attachments"
        incident_xml = ob.instance_xml(
            "fk_incident",
            ob.observation_values(loc=ob.geopoint(147.37, -9.43), category="human_activity"),
        )

        def submit(role: str) -> Any:
            self.client.logout()
            token = self.tokens.get(role)
            prefix = f"/key/{token.token}" if token else "/key/not-a-token"
            xml = incident_xml.replace(b"uuid:", f"uuid:{role}-".encode(), 1)
            upload = io.BytesIO(xml)
            upload.name = "submission.xml"
            return self.client.post(
                prefix + "/submission", {"xml_submission_file": upload}, HTTP_X_OPENROSA_VERSION="1.0"
            )

        rows: list[tuple[str, Any, dict[str, Any]]] = [
            # Nothing published (settings.FIELDKIT_PUBLISH_INDICATORS): visitors sign in.
            ("home", lambda r: self.ask(r, "get", "/"), everyone(200, anonymous=302)),
            ("healthz", lambda r: self.ask(r, "get", "/healthz"), everyone()),
            ("api root", lambda r: self.ask(r, "get", "/api/v1/"), everyone()),
            ("schema", lambda r: self.ask(r, "get", "/api/v1/schema/"), everyone()),
            # Boundaries are public reference data.
            ("areas", lambda r: self.ask(r, "get", "/api/v1/areas/"), everyone()),
            ("area", lambda r: self.ask(r, "get", f"/api/v1/areas/{self.area.pk}/"), everyone()),
            ("zones", lambda r: self.ask(r, "get", "/api/v1/zones/"), everyone()),
            ("zone (none)", lambda r: self.ask(r, "get", f"/api/v1/zones/{zone_id or 999}/"), everyone(404)),
            # Forms: those of the user's areas.
            ("forms", lambda r: self.ask(r, "get", "/api/v1/forms/"), everyone(200, anonymous=ANON)),
            (
                "form",
                lambda r: self.ask(r, "get", f"/api/v1/forms/{form.pk}/"),
                only(*sees_area_forms, anonymous=ANON),
            ),
            (
                "form state",
                lambda r: self.ask(r, "post_json", f"/api/v1/forms/{form.pk}/state/", {"state": "open"}),
                {
                    **only(*managers, no=404, anonymous=ANON),
                    **{k: 403 for k in sees_area_forms if k not in managers},
                },
            ),
            (
                "form publish-draft (none)",
                lambda r: self.ask(r, "post_json", f"/api/v1/forms/{form.pk}/publish-draft/"),
                {
                    **only(*managers, yes=409, anonymous=ANON),
                    **{k: 403 for k in sees_area_forms if k not in managers},
                },
            ),
            # Web forms are off here (no ENKETO_URL): no QR code for anyone.
            (
                "form web-form QR",
                lambda r: self.ask(r, "get", f"/api/v1/forms/{form.pk}/web-form-qr/"),
                everyone(404, anonymous=ANON),
            ),
            # Observations: the eagle is an illicit record of a sensitive species.
            (
                "observations",
                lambda r: self.ask(r, "get", "/api/v1/observations/"),
                everyone(200, anonymous=ANON),
            ),
            (
                "eagle",
                lambda r: self.ask(r, "get", f"/api/v1/observations/{eagle}/"),
                only(*illicit_readers, anonymous=ANON),
            ),
            (
                "cassowary",
                lambda r: self.ask(r, "get", f"/api/v1/observations/{cassowary}/"),
                only(*readers_of_area, anonymous=ANON),
            ),
            (
                "eagle photo",
                lambda r: self.ask(r, "get", f"/api/v1/observations/{eagle}/photos/{scene.PHOTO}"),
                only(*illicit_readers, anonymous=ANON),
            ),
            # Exports: whoever may export somewhere gets a stream of the rows it may export
            # (tests/test_exports_observations.py checks the rows); the others are refused.
            (
                "export observations csv",
                lambda r: self.ask(r, "get", "/api/v1/exports/observations.csv"),
                {**everyone(200, anonymous=401), "collector": 403},
            ),
            (
                "export observations geojson",
                lambda r: self.ask(r, "get", "/api/v1/exports/observations.geojson"),
                {**everyone(200, anonymous=401), "collector": 403},
            ),
            (
                "export observations geopackage",
                lambda r: self.ask(r, "get", "/api/v1/exports/observations.gpkg"),
                {**everyone(200, anonymous=401), "collector": 403},
            ),
            # A form's raw submissions: personal data and exact points, so only for those
            # who may read both and export in the form's areas.
            (
                "export submissions csv zip",
                lambda r: self.ask(r, "get", f"/api/v1/exports/forms/{form.pk}/submissions.csv.zip"),
                only("law", "national_law", "admin", anonymous=401),
            ),
            (
                "export submissions xlsx",
                lambda r: self.ask(r, "get", f"/api/v1/exports/forms/{form.pk}/submissions.xlsx"),
                only("law", "national_law", "admin", anonymous=401),
            ),
            (
                "export darwin core archive",
                lambda r: self.ask(r, "get", "/api/v1/exports/dwca.zip"),
                {**everyone(200, anonymous=401), "collector": 403},
            ),
            # The OData feed: the rows each user may export (tests/test_odata_feed.py checks
            # them); nobody signed in is asked for a password.
            (
                "odata service",
                lambda r: self.ask(r, "get", "/api/v1/odata/"),
                {**everyone(200, anonymous=401), "collector": 403},
            ),
            (
                "odata metadata",
                lambda r: self.ask(r, "get", "/api/v1/odata/$metadata"),
                {**everyone(200, anonymous=401), "collector": 403},
            ),
            (
                "odata observations",
                lambda r: self.ask(r, "get", "/api/v1/odata/Observations"),
                {**everyone(200, anonymous=401), "collector": 403},
            ),
            # Indicators: those of the areas where the user reads indicators.
            (
                "indicators",
                lambda r: self.ask(r, "get", "/api/v1/indicators/"),
                everyone(200, anonymous=ANON),
            ),
            (
                "indicator",
                lambda r: self.ask(r, "get", f"/api/v1/indicators/{value.pk}/"),
                only(*indicator_readers, anonymous=ANON),
            ),
            (
                "indicator cells",
                lambda r: self.ask(r, "get", cells),
                only(*indicator_readers, anonymous=ANON),
            ),
            # Memberships: managers of the area.
            (
                "memberships",
                lambda r: self.ask(r, "get", "/api/v1/memberships/"),
                everyone(200, anonymous=ANON),
            ),
            (
                "membership",
                lambda r: self.ask(r, "get", f"/api/v1/memberships/{collector_membership.pk}/"),
                only(*managers, anonymous=ANON),
            ),
            # OpenRosa through collector links: a link of nobody is refused (403).
            ("formList", lambda r: self.openrosa(r, "get", "/formList"), everyone(200, anonymous=403)),
            (
                "form.xml",
                lambda r: self.openrosa(r, "get", area_form + "/form.xml"),
                only(*submitters_of_area, anonymous=403),
            ),
            (
                "manifest",
                lambda r: self.openrosa(r, "get", area_form + "/manifest"),
                only(*submitters_of_area, anonymous=403),
            ),
            (
                "media (none)",
                lambda r: self.openrosa(r, "get", area_form + "/media/x.png"),
                everyone(404, anonymous=403),
            ),
            (
                "submission probe",
                lambda r: self.openrosa(r, "head", "/submission"),
                everyone(204, anonymous=403),
            ),
            ("submission", submit, only(*submitters_of_area, yes=201, anonymous=403)),
            # OpenRosa at the root: Digest, so a browser session is no sign-in.
            ("root formList", lambda r: self.ask(r, "get", "/formList"), everyone(401)),
            ("root form.xml", lambda r: self.ask(r, "get", area_form + "/form.xml"), everyone(401)),
            ("root manifest", lambda r: self.ask(r, "get", area_form + "/manifest"), everyone(401)),
            ("root media", lambda r: self.ask(r, "get", area_form + "/media/x.png"), everyone(401)),
            ("root submission", lambda r: self.ask(r, "head", "/submission"), everyone(401)),
            # A draft's test URLs are open to whoever holds them (they are its key).
            (
                "draft formList",
                lambda r: self.ask(r, "get", f"/test/{self.draft.draft_token}/formList"),
                everyone(200),
            ),
            (
                "draft form.xml",
                lambda r: self.ask(r, "get", f"/test/{self.draft.draft_token}/forms/fk_patrol/form.xml"),
                everyone(200),
            ),
            (
                "draft manifest",
                lambda r: self.ask(r, "get", f"/test/{self.draft.draft_token}/forms/fk_patrol/manifest"),
                everyone(200),
            ),
            (
                "draft media (none)",
                lambda r: self.ask(r, "get", f"/test/{self.draft.draft_token}/forms/fk_patrol/media/x.png"),
                everyone(404),
            ),
            (
                "draft submission",
                lambda r: self.ask(r, "head", f"/test/{self.draft.draft_token}/submission"),
                everyone(204),
            ),
            ("bad draft token", lambda r: self.ask(r, "get", "/test/nope/formList"), everyone(404)),
            # Signing in to the pages.
            ("sign in", lambda r: self.ask(r, "get", "/accounts/login/"), everyone()),
            ("sign out", lambda r: self.ask(r, "post", "/accounts/logout/"), everyone(302)),
            # Cases: the list is each user's own (empty for most); a case of the area is for law
            # enforcement and the managers of the area (404 for others: ids reveal nothing); the
            # forms answer with the action's error on purpose (no change is made).
            ("cases", lambda r: self.ask(r, "get", "/cases/"), everyone(200, anonymous=302)),
            ("case", lambda r: self.ask(r, "get", case), only(*case_readers, anonymous=302)),
            (
                "case open (no title)",
                lambda r: self.ask(r, "post", "/cases/open", {"area": self.area.pk, "title": ""}),
                only(*case_readers, yes=400, no=403, anonymous=302),
            ),
            (
                "case record (not a uuid)",
                lambda r: self.ask(r, "post", f"{case}records", {"record": "x"}),
                only(*case_readers, yes=400, anonymous=302),
            ),
            (
                "case file",
                lambda r: self.ask(r, "get", f"{case}case-file.zip"),
                only(*case_readers, anonymous=302),
            ),
            (
                "case status (unknown)",
                lambda r: self.ask(r, "post", f"{case}status", {"status": "nope"}),
                only(*case_readers, yes=409, anonymous=302),
            ),
            (
                "case note (empty)",
                lambda r: self.ask(r, "post", f"{case}notes", {"text": ""}),
                only(*case_readers, yes=400, anonymous=302),
            ),
            (
                "case outcome (not in court)",
                lambda r: self.ask(r, "post", f"{case}outcome", {"outcome": "x"}),
                only(*case_readers, yes=409, anonymous=302),
            ),
            # The token URL opened in a browser: the collector's web forms page.
            ("web forms page", lambda r: self.openrosa(r, "get", "/"), everyone(200, anonymous=403)),
            # Map layers: every signed-in user, each seeing what its roles allow (maps/).
            ("overview map", lambda r: self.ask(r, "get", "/maps/"), everyone(200, anonymous=302)),
            (
                "area dashboard",
                lambda r: self.ask(r, "get", f"/maps/areas/{self.area.pk}/"),
                only(*readers_of_area, "law", "national_law", anonymous=302),
            ),
            ("species index", lambda r: self.ask(r, "get", "/maps/species/"), everyone(200, anonymous=302)),
            (
                "species page",
                lambda r: self.ask(r, "get", f"/maps/species/{self.eagle.slug}/"),
                everyone(200, anonymous=302),
            ),
            (
                "illicit-activity map",
                lambda r: self.ask(r, "get", "/maps/enforcement/"),
                only(*illicit_readers, "outsider", "outside_law", anonymous=302),
            ),
            (
                "map areas",
                lambda r: self.ask(r, "get", "/maps/data/areas.geojson", {"year": 2024}),
                everyone(200, anonymous=401),
            ),
            (
                "map context boundaries (none loaded)",
                lambda r: self.ask(r, "get", "/maps/data/context.geojson"),
                everyone(400, anonymous=401),
            ),
            (
                "map observations",
                lambda r: self.ask(r, "get", "/maps/data/observations.geojson"),
                everyone(200, anonymous=401),
            ),
            (
                "map tracks",
                lambda r: self.ask(r, "get", "/maps/data/tracks.geojson"),
                everyone(200, anonymous=401),
            ),
            # Every record kind in every format: those who may export somewhere (an empty
            # file where they may not read the kind); a job and its file only to its owner,
            # a superuser included (an export may hold what only its owner may read).
            (
                "export record kind",
                lambda r: self.ask(r, "get", "/api/v1/exports/leg-days.csv"),
                {**everyone(200, anonymous=401), "collector": 403},
            ),
            (
                "export jobs",
                lambda r: self.ask(r, "get", "/api/v1/exports/jobs/"),
                everyone(200, anonymous=401),
            ),
            (
                "export job",
                lambda r: self.ask(r, "get", f"/api/v1/exports/jobs/{job.pk}/"),
                only("manager", anonymous=401),
            ),
            (
                "export job download",
                lambda r: self.ask(r, "get", f"/api/v1/exports/jobs/{job.pk}/download"),
                only("manager", yes=409, anonymous=401),
            ),
            (
                "export jobs page",
                lambda r: self.ask(r, "get", "/exports/"),
                everyone(200, anonymous=302),
            ),
            # The donor report: for those who read the area's indicators.
            (
                "donor report",
                lambda r: self.ask(r, "get", f"/reports/areas/{self.area.pk}/2024.pdf"),
                only(*indicator_readers, anonymous=302),
            ),
            # Webhooks: a user's own subscriptions and deliveries (a superuser's: all).
            (
                "webhook list",
                lambda r: self.ask(r, "get", "/api/v1/webhooks/"),
                everyone(200, anonymous=ANON),
            ),
            (
                "webhook detail",
                lambda r: self.ask(r, "get", f"/api/v1/webhooks/{subscription.pk}/"),
                only("manager", "admin", anonymous=ANON),
            ),
            (
                "webhook deliveries",
                lambda r: self.ask(r, "get", f"/api/v1/webhooks/{subscription.pk}/deliveries/"),
                only("manager", "admin", anonymous=ANON),
            ),
            (
                "webhook send again",
                lambda r: self.ask(r, "post", f"/api/v1/webhook-deliveries/{delivery.pk}/send-again/"),
                only("manager", "admin", yes={202, 409}, anonymous=ANON),
            ),
            # A stored record's photo, for those who may edit the record (Enketo's edit view).
            (
                "record attachment",
                lambda r: self.ask(r, "get", f"{record_files}/{scene.PHOTO}"),
                only("collector", "member", "manager", "admin", anonymous=302),
            ),
        ]
        reached = self.check(rows)

        # Every URL name outside the admin has a row.
        names = set()
        for pattern, namespace in walk(get_resolver().url_patterns):
            if namespace.startswith("admin"):
                continue
            if pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
        self.assertGreater(len(names), 25)
        self.assertEqual(sorted(names - reached), [])

        # What the lists hold, per role.
        self.assertEqual(self.listed_forms("collector"), {"fk_incident", "fk_patrol"})
        self.assertEqual(self.listed_forms("outsider"), {"fk_patrol"})
        for role in ("viewer", "law", "national_viewer", "national_law", "outside_law"):
            self.assertEqual(self.listed_forms(role), set(), role)
        self.assertEqual(self.observation_ids("viewer"), {eagle, cassowary} | self.new_ids())
        self.assertEqual(self.observation_ids("law"), {eagle} | self.new_ids())
        self.assertEqual(self.observation_ids("outsider"), set())
        self.assertEqual(self.observation_ids("collector"), set())
        self.assertEqual(self.membership_users("outsider"), {"outsider", "outside_law"})
        self.assertEqual(self.membership_users("viewer"), set())
        self.assertTrue(patrol_form.pk)

    def new_ids(self) -> set[int]:
        return set(
            Observation.objects.filter(submission__form__xml_form_id="fk_incident").values_list(
                "pk", flat=True
            )
        )

    def listed_forms(self, role: str) -> set[str]:
        body = self.openrosa(role, "get", "/formList").content.decode()
        return {f for f in ("fk_incident", "fk_patrol") if f"<formID>{f}</formID>" in body}

    def observation_ids(self, role: str) -> set[int]:
        return {f["id"] for f in self.ask(role, "get", "/api/v1/observations/").json()["features"]}

    def membership_users(self, role: str) -> set[str]:
        return {m["username"] for m in self.ask(role, "get", "/api/v1/memberships/").json()["results"]}

    # --- The admin ----------------------------------------------------------------------------------

    def test_every_admin_page_for_every_role(self) -> None:
        rows: list[tuple[str, Any, dict[str, Any]]] = [
            ("admin index", lambda r: self.ask(r, "get", "/admin/"), everyone(200, anonymous=302)),
        ]
        for model, model_admin in admin.site._registry.items():
            opts = model._meta
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            policy = access.declared_policy(model_admin.changelist_view)
            rows.append(
                (
                    f"{opts.label} list ({policy})",
                    lambda r, url=url: self.ask(r, "get", url),
                    self.expected(policy),
                )
            )

        # A record of the area: visible to the roles holding the page's capability here.
        patrol = Patrol.objects.get()
        records = [
            (
                "observations_observation",
                self.eagle_obs.pk,
                ("member", "manager", "viewer", "law", "national_viewer", "national_law", "admin"),
            ),
            ("observations_patrol", patrol.pk, ("member", "manager", "viewer", "national_viewer", "admin")),
            (
                "odk_forms_submission",
                self.submission.pk,
                ("member", "manager", "viewer", "national_viewer", "admin"),
            ),
            ("odk_forms_form", Form.objects.get(xml_form_id="fk_incident").pk, ("manager", "admin")),
            (
                "accounts_areamembership",
                AreaMembership.objects.get(user=self.collector).pk,
                ("manager", "admin"),
            ),
        ]
        for name, pk, allowed in records:
            url = reverse(f"admin:{name}_change", args=[pk])
            page = f"admin:{name}_changelist"
            policy = access.declared_policy(
                admin.site._registry[resolve(reverse(page)).func.model_admin.model].changelist_view
            )
            expected = only(*allowed, anonymous=302)
            # Roles that may not open the page at all get 403 before any lookup.
            for role, status in self.expected(policy).items():
                if status == 403:
                    expected[role] = 403
            rows.append((f"{name} record", lambda r, url=url: self.ask(r, "get", url), expected))
        self.check(rows)

    def expected(self, policy: str | None) -> dict[str, Any]:
        """The answers a changelist should give under `policy`: 200 for whoever holds the
        capability somewhere (superusers always), 403 for other staff, a redirect to the
        sign-in page for nobody."""
        result: dict[str, Any] = {"anonymous": 302}
        for role in SIGNED_IN:
            user = getattr(self, role)
            if policy in ("admin",):
                result[role] = 200
            elif policy == "superuser":
                result[role] = 200 if role == "admin" else 403
            else:
                assert policy is not None and policy.startswith("capability:"), policy
                cap = Capability(policy.split(":", 1)[1])
                held = role == "admin" or any(
                    cap in access.CAPABILITIES[m.role] for m in AreaMembership.objects.filter(user=user)
                )
                result[role] = 200 if held else 403
        return result


def walk(patterns: list[Any], namespace: str = "") -> Any:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            yield from walk(entry.url_patterns, ":".join(p for p in (namespace, inner) if p))
        elif isinstance(entry, URLPattern):
            yield entry, namespace
