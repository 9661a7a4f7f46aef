"""Three years of field data for the demo areas, sent the way phones send it.

`load_demo_records()` publishes the standard forms (standard_forms/*.xlsx) for the demo
areas, then generates, for each year, patrols with tracks and observations, incident
reports (some with evidence photos), species surveys, resource-use records, one METT
assessment and one budget return per area, and hands every one to
odk_forms.receiving.receive_submission as an OpenRosa submission would be: processing then
maps them into records through observations.records, the same path as data from the
field. Nothing here writes observation rows itself.

What there is to see, so that indicators have something to show:

- species abundance is log-normal (a few common species, most rare, many seen once or
  twice), so Chao1 exceeds the observed richness;
- seasons: fewer patrols in the wet months (January–March), more poaching in the dry
  season (May–October), more calls in the breeding months (August–December);
- three hotspots of illicit activity (YUS, Tonda, Crater Mountain) that draw more patrols
  each year and, as they do, yield fewer findings per patrol (`_pressure`);
- METT scores and budgets that change from year to year;
- suspects, seized items and evidence photos for cases, and some tracks that enter their
  area from outside its boundary.

Everything is drawn from generators seeded by the seed and the year, and instance IDs
derive from both, so loading again sends the same XML, which the server recognises as
already received, and loading another year sends other submissions. Trends depend on the
calendar year (not on its place in the run), so two runs that share a year send the same
submissions for it.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import Point as ShapelyPoint
from shapely.prepared import prep

import standard_forms
from observations import categories
from observations.models import Transport
from odk_forms import receiving, xform
from odk_forms.models import FormVersion
from protected_areas import geometry
from protected_areas.models import ProtectedArea
from standard_forms.install import install_standard_forms

TZ = ZoneInfo("Pacific/Port_Moresby")


def publish_standard_forms(
    areas: list[ProtectedArea], validate: bool | None = None
) -> dict[str, FormVersion]:
    """The current version of each standard form, published for `areas` if not yet there."""
    return {item.stem: item.version for item in install_standard_forms(areas, validate=validate)}


# --- What each area sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class AreaProfile:
    transport: str
    patrols_per_month: int
    days: tuple[int, int]
    # (weight, category slug)
    findings: tuple[tuple[int, str], ...]
    taxa: tuple[str, ...]
    members: tuple[str, ...]


_FOREST_FINDINGS = (
    (10, "human_activity.weapons.snare"), (3, "human_activity.weapons.homemade_gun"),
    (4, "human_activity.camp"), (5, "human_activity.human_sign"), (2, "human_activity.gunshot"),
    (2, "human_activity.people"), (6, "human_activity.timber.firewood"), (3, "human_activity.timber.logs"),
    (2, "human_activity.timber.planks"), (4, "human_activity.hunting.bushmeat"),
    (4, "human_activity.clearing.garden"), (2, "human_activity.ntfp.eaglewood"),
    (14, "animals.live"), (8, "animals.sign.call"), (5, "animals.sign.track"), (3, "animals.sign.dung"),
    (2, "animals.carcass"), (2, "features.boundary_marker"), (1, "human_activity.fire"),
)  # fmt: skip

PROFILES: dict[int, AreaProfile] = {
    # Varirata: small, near Port Moresby: firewood, snares, birds of paradise.
    900000101: AreaProfile(
        "foot", 4, (1, 1), _FOREST_FINDINGS,
        ("paradisaea_raggiana", "goura_scheepmakeri", "phalanger_gymnotis", "casuarius_casuarius",
         "cacatua_galerita", "harpyopsis_novaeguineae"),
        ("Kila Oa", "Mary Gabi", "John Vele", "Ruth Koi", "Peter Iru"),
    ),
    # YUS: Matschie's tree-kangaroo country, community rangers, multi-day patrols.
    900000102: AreaProfile(
        "foot", 3, (2, 4), _FOREST_FINDINGS,
        ("dendrolagus_matschiei", "casuarius_unappendiculatus", "zaglossus_bartoni", "paradisaea_raggiana",
         "harpyopsis_novaeguineae", "psittrichas_fulgidus"),
        ("Timothy Sake", "Naomi Bong", "Kasper Yawi", "Esther Nawi"),
    ),
    # Tonda: savanna and wetlands; rusa deer and wallaby hunting, vehicle patrols.
    900000103: AreaProfile(
        "vehicle", 4, (1, 3),
        ((10, "human_activity.hunting.bushmeat"), (6, "human_activity.weapons.firearm"),
         (4, "human_activity.camp"), (5, "human_activity.fire"), (4, "human_activity.fishing.net"),
         (3, "human_activity.transport"), (14, "animals.live"), (6, "animals.sign.track"),
         (3, "animals.carcass"), (2, "human_activity.people")),
        ("rusa_timorensis", "notamacropus_agilis", "crocodylus_porosus", "crocodylus_novaeguineae",
         "goura_scheepmakeri", "probosciger_aterrimus"),
        ("Joseph Waiko", "Lucy Mek", "Abraham Dabu", "Sarah Tame"),
    ),
    # Crater Mountain: rugged forest, long foot patrols.
    900000104: AreaProfile(
        "foot", 3, (2, 5), _FOREST_FINDINGS,
        ("dendrolagus_goodfellowi", "casuarius_unappendiculatus", "psittrichas_fulgidus",
         "paradisaea_raggiana", "zaglossus_bartoni", "spilocuscus_maculatus"),
        ("Moses Kuman", "Grace Hagen", "David Pawa", "Miriam Tol"),
    ),
    # Kimbe Bay: a marine area patrolled by boat.
    900000105: AreaProfile(
        "boat", 4, (1, 1),
        ((10, "human_activity.fishing.net"), (6, "human_activity.fishing.spear"),
         (5, "human_activity.fishing.shellfish"), (3, "human_activity.weapons.explosive"),
         (3, "human_activity.transport"), (2, "human_activity.pollution"), (12, "animals.live"),
         (2, "animals.carcass")),
        ("chelonia_mydas", "eretmochelys_imbricata", "dugong_dugon", "holothuria_scabra",
         "dermochelys_coriacea"),
        ("Francis Pitu", "Helen Kaupa", "Nelson Bate", "Agnes Soli"),
    ),
}  # fmt: skip

_RESOURCE_QUANTITIES: dict[str, tuple[str, float, float]] = {
    # category prefix → (unit, low, high)
    "human_activity.timber.firewood": ("bundles", 1, 8),
    "human_activity.timber.logs": ("logs", 1, 25),
    "human_activity.timber.planks": ("m3", 0.2, 4),
    "human_activity.timber": ("m3", 0.1, 3),
    "human_activity.hunting": ("kg", 2, 40),
    "human_activity.fishing.shellfish": ("kg", 1, 30),
    "human_activity.fishing": ("kg", 2, 60),
    "human_activity.clearing": ("ha", 0.05, 2.5),
    "human_activity.ntfp": ("kg", 0.5, 15),
    "human_activity.mining": ("kg", 0.01, 0.5),
}
# How fast each demo patrol moves, on average (km/h).
_SPEED_KMH: dict[str, float] = {Transport.FOOT: 2.2, Transport.VEHICLE: 12.0, Transport.BOAT: 9.0}


# Areas with a hotspot of illicit activity, and where in the area (fraction of its extent).
HOTSPOTS: dict[int, tuple[float, float]] = {
    900000102: (0.3, 0.7),
    900000103: (0.7, 0.35),
    900000104: (0.45, 0.4),
}
HOTSPOT_RADIUS_KM = 6.0
# The first year of the hotspot trend: patrols focus on them more each year after it.
TREND_START = 2023
# Species groups (taxa.csv) each kind of area draws its rarer species from.
_FOREST_GROUPS = ("mammal", "bird", "reptile", "amphibian", "plant")
_MARINE_GROUPS = ("fish", "reptile", "invertebrate")
# A dry season with more poaching, a wet season with fewer patrols (southern PNG).
_DRY_MONTHS = range(5, 11)
_WET_MONTHS = (1, 2, 3)
_BREEDING_MONTHS = range(8, 13)
# A 16×12 grey-green JPEG: the evidence photo of the demo incidents.
EVIDENCE_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1R"
    "V19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2P/wAARCAAMABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA"
    "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6"
    "Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXG"
    "x8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREA"
    "AgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPE"
    "xcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCpRRRXGQf/2Q=="
)


@dataclass
class _Area:
    area: ProtectedArea
    profile: AreaProfile
    shape: Any
    prepared: Any = field(repr=False, default=None)
    # Taxa in order of abundance and their weights (log-normal): see _abundance.
    taxa: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()
    hotspot: tuple[float, float] | None = None

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        west, south, east, north = self.shape.bounds
        while True:
            x, y = rng.uniform(west, east), rng.uniform(south, north)
            if self.prepared.contains(ShapelyPoint(x, y)):
                return x, y

    def point_near(self, rng: random.Random, centre: tuple[float, float], km: float) -> tuple[float, float]:
        """A point inside the area within about `km` of `centre`."""
        for _ in range(50):
            dist, angle = km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            x = centre[0] + dist * math.cos(angle) / (111.32 * math.cos(math.radians(centre[1])))
            y = centre[1] + dist * math.sin(angle) / 110.57
            if self.prepared.contains(ShapelyPoint(x, y)):
                return x, y
        return self.random_point(rng)

    def near_hotspot(self, point: tuple[float, float]) -> bool:
        if self.hotspot is None:
            return False
        dx = (point[0] - self.hotspot[0]) * 111.32 * math.cos(math.radians(point[1]))
        dy = (point[1] - self.hotspot[1]) * 110.57
        return math.hypot(dx, dy) <= HOTSPOT_RADIUS_KM

    def species(self, rng: random.Random) -> str:
        return rng.choices(self.taxa, weights=self.weights)[0]


def _progress(year: int) -> float:
    """How far the hotspot trend has gone in `year`: 0 before TREND_START, 1 two years on."""
    return min(1.0, max(0.0, (year - TREND_START) / 2))


def _pressure(year: int) -> float:
    """Illicit findings near a hotspot, as a multiple of elsewhere: high while few patrols
    go there, falling as patrols focus on it (deterrence)."""
    return 5.0 * (1.0 - 0.65 * _progress(year))


def _focus(year: int) -> float:
    """Share of an area's patrols sent to its hotspot."""
    return 0.2 + 0.5 * _progress(year)


def _taxa_by_group() -> dict[str, list[str]]:
    text = (standard_forms.MEDIA_DIR / "taxa.csv").read_text(encoding="utf-8")
    groups: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        name = row["name"]
        if name != "unknown" and not name.startswith("other_"):
            groups.setdefault(row["group"], []).append(name)
    return groups


def _abundance(
    rng: random.Random, profile: AreaProfile, marine: bool, groups: dict[str, list[str]]
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The area's species in order of abundance with log-normal weights (σ = 1.8): the
    profile's species are the common ones, then up to 25 others of the area's groups, most
    of them rare: a realistic species-abundance distribution (Preston's log-normal)."""
    pool = [t for g in (_MARINE_GROUPS if marine else _FOREST_GROUPS) for t in groups.get(g, [])]
    extras = sorted(t for t in set(pool) if t not in profile.taxa)
    rng.shuffle(extras)
    taxa = (*profile.taxa, *extras[:25])
    weights = sorted((rng.lognormvariate(0, 1.8) for _ in taxa), reverse=True)
    return taxa, tuple(weights)


def load_demo_taxa() -> None:
    """Categories, the curated species list and the standard forms' taxa.csv."""
    import standard_forms as standard
    from observations import reference
    from observations.models import Taxon

    reference.sync_reference_data()
    reference.sync_taxa_csv(Taxon, (standard.MEDIA_DIR / "taxa.csv").read_text(encoding="utf-8"))


# --- The generator -----------------------------------------------------------------------------


@dataclass
class DemoReport:
    sent: int = 0
    new: int = 0
    by_form: dict[str, int] = field(default_factory=dict)


# Patrols per month are the profiles' times this in load_demo: three years of the five areas
# load in under a minute (README, "Demo data").
DEMO_SCALE = 0.5


def load_demo_records(
    user: Any, year: int | None = None, seed: int = 2024, scale: float = DEMO_SCALE, years: int = 3
) -> DemoReport:
    """Send `years` years of demo submissions ending with `year` (default: last year) for
    the demo areas as `user` (a collector of them)."""
    areas = list(ProtectedArea.objects.filter(wdpa_id__in=PROFILES).order_by("wdpa_id"))
    if not areas:
        return DemoReport()
    # The standard forms pass ODK Validate in their own tests: the demo does not start it
    # again for each of them.
    versions = publish_standard_forms(areas, validate=False)
    last = year or date.today().year - 1
    report = DemoReport()
    for each in range(last - years + 1, last + 1):
        for stem, xml, files in generate_submissions_with_files(areas, versions, each, seed, scale):
            parts = {name: io.BytesIO(data) for name, data in files.items()}
            received = receiving.receive_submission(xml, parts, user=user)
            report.sent += 1
            report.new += received.created
            report.by_form[stem] = report.by_form.get(stem, 0) + 1
    return report


def generate_submissions(
    areas: list[ProtectedArea], versions: dict[str, FormVersion], year: int, seed: int, scale: float = 1.0
) -> Iterator[tuple[str, bytes]]:
    """(form stem, instance XML) of a year of field data, in the order phones send it
    (photos left out: generate_submissions_with_files has them)."""
    for stem, xml, _files in generate_submissions_with_files(areas, versions, year, seed, scale):
        yield stem, xml


def generate_submissions_with_files(
    areas: list[ProtectedArea], versions: dict[str, FormVersion], year: int, seed: int, scale: float = 1.0
) -> Iterator[tuple[str, bytes, dict[str, bytes]]]:
    """(form stem, instance XML, attachments by name) of a year of field data."""
    rng = random.Random(f"{seed}/{year}")  # noqa: S311  (demo data, reproducible on purpose)
    counter = iter(range(10**9))
    groups = _taxa_by_group()
    demo_areas = []
    for area in areas:
        shape = geometry.to_shapely(area.boundary)
        profile = PROFILES[area.wdpa_id or 0]
        # Abundances and hotspots are the area's, the same every year.
        fixed = random.Random(f"{seed}/{area.wdpa_id}")  # noqa: S311
        taxa, weights = _abundance(fixed, profile, profile.transport == "boat", groups)
        a = _Area(area, profile, shape, prep(shape), taxa, weights)
        if area.wdpa_id in HOTSPOTS:
            fx, fy = HOTSPOTS[area.wdpa_id]
            west, south, east, north = shape.bounds
            a.hotspot = a.point_near(fixed, (west + fx * (east - west), south + fy * (north - south)), 3.0)
        demo_areas.append(a)
    xml_of = {stem: bytes(v.xml) for stem, v in versions.items()}

    def instance_id(stem: str) -> str:
        key = f"fieldkit-demo/{seed}/{year}/{stem}/{next(counter)}"
        return f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}"

    items: list[tuple[datetime, str, dict[str, Any]]] = []
    for a in demo_areas:
        for month in range(1, 13):
            patrols = a.profile.patrols_per_month * (0.6 if month in _WET_MONTHS else 1.0) * scale
            for _ in range(max(1, round(patrols))):
                items.append(_patrol(rng, a, year, month))
            for _ in range(rng.choice((0, 0, 1, 1, 2)) if month in _DRY_MONTHS else rng.choice((0, 0, 1))):
                items.append(_incident(rng, a, year, month))
            if month % 2 == 0 or month in _BREEDING_MONTHS:
                items.append(_species_survey(rng, a, year, month))
            for _ in range(rng.randint(0, 1)):
                items.append(_resource_use(rng, a, year, month))
        items.append(_mett(rng, a, year))
        items.append(_budget(rng, a, year))
    items.sort(key=lambda item: item[0])
    for _, stem, values in items:
        files = values.pop("_files", {})
        yield stem, xform.fill_instance(xml_of[stem], values, instance_id(stem)), files


def _uuid(rng: random.Random) -> str:
    """A record uuid as the forms' once(uuid()) writes it, drawn from the seeded generator."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(moment: datetime) -> str:
    return moment.astimezone(TZ).isoformat(timespec="milliseconds")


def _day_in(rng: random.Random, year: int, month: int) -> date:
    first = date(year, month, 1)
    days = ((first.replace(month=month % 12 + 1, year=year + month // 12)) - first).days
    return first + timedelta(days=rng.randrange(days))


def _walk(
    rng: random.Random, a: _Area, start: tuple[float, float], km: float, *, inside: bool = True
) -> list[tuple[float, float]]:
    """A wandering track of about `km` kilometres, a point every ~150 m: inside the area,
    or (`inside` False, a patrol coming in from outside) straight towards it until it is in."""
    points = [start]
    lon, lat = start
    centre = a.shape.centroid
    heading = math.atan2(centre.x - lon, centre.y - lat) if not inside else rng.uniform(0, 2 * math.pi)
    for _ in range(max(2, int(km / 0.15))):
        heading += rng.gauss(0, 0.35 if inside else 0.1)
        for _attempt in range(8):
            step = rng.uniform(0.1, 0.2)
            dlat = step * math.cos(heading) / 110.57
            dlon = step * math.sin(heading) / (111.32 * math.cos(math.radians(lat)))
            if not inside or a.prepared.contains(ShapelyPoint(lon + dlon, lat + dlat)):
                lon, lat = lon + dlon, lat + dlat
                points.append((round(lon, 6), round(lat, 6)))
                if not inside and a.prepared.contains(ShapelyPoint(lon, lat)):
                    inside = True
                break
            heading += math.pi / 2
    return points


def _outside_start(rng: random.Random, a: _Area) -> tuple[float, float]:
    """A village about a kilometre outside the area's boundary."""
    ring = (
        list(a.shape.exterior.coords)
        if hasattr(a.shape, "exterior")
        else list(a.shape.geoms[0].exterior.coords)
    )
    x, y = ring[rng.randrange(len(ring) - 1)]
    centre = a.shape.centroid
    dx, dy = x - centre.x, y - centre.y
    norm = math.hypot(dx, dy) or 1.0
    return round(x + dx / norm * 0.01, 6), round(y + dy / norm * 0.01, 6)


# What is seized or destroyed for each kind of finding: (seized kind, unit, low, high).
_SEIZED_BY_CATEGORY: dict[str, tuple[str, str, float, float]] = {
    "human_activity.weapons.snare": ("snare", "items", 1, 25),
    "human_activity.weapons.trap": ("snare", "items", 1, 6),
    "human_activity.weapons.firearm": ("firearm", "items", 1, 2),
    "human_activity.weapons.homemade_gun": ("homemade_gun", "items", 1, 2),
    "human_activity.weapons.explosive": ("explosive", "items", 1, 5),
    "human_activity.hunting": ("bushmeat", "kg", 2, 30),
    "human_activity.fishing": ("fishing_gear", "items", 1, 3),
    "human_activity.timber": ("timber", "m3", 0.5, 6),
    "human_activity.camp": ("cutting_tool", "items", 1, 4),
}
_SUSPECT_NAMES = ("John K.", "Peter M.", "Samuel W.", "Michael T.", "Paul R.", "James A.")


def _finding(
    rng: random.Random, a: _Area, *, year: int, month: int, point: tuple[float, float] | None = None
) -> dict[str, Any]:
    """The answers of one observation: category cascade and the follow-ups it asks. Illicit
    findings are likelier in the dry season and near a hotspot (by `_pressure(year)`)."""
    boost = 1.3 if month in _DRY_MONTHS else 0.8
    if point is not None and a.near_hotspot(point):
        boost *= _pressure(year)
    weights = [
        w
        * (boost if categories.vertical_of(slug) == "illicit" else 1.0)
        * (1.6 if slug == "animals.sign.call" and month in _BREEDING_MONTHS else 1.0)
        for w, slug in a.profile.findings
    ]
    slug = rng.choices([slug for _, slug in a.profile.findings], weights=weights)[0]
    parts = slug.split(".")
    category = ".".join(parts[:2])
    values: dict[str, Any] = {
        "vertical": categories.vertical_of(slug),
        "category": category,
        "subcategory": slug if len(parts) > 2 else "",
        "category_final": slug,
    }
    vertical = categories.vertical_of(slug)
    if vertical == "illicit":
        suspects = rng.choice([0, 0, 0, 1, 2, 3])
        if not suspects:
            actions = rng.choice(
                [["destroyed"], ["confiscated"], ["observed_only"], ["confiscated", "destroyed"]]
            )
        else:
            actions = rng.choice(
                [["verbal_warning"], ["arrested", "confiscated"], ["unsuccessful_pursuit"],
                 ["written_warning", "confiscated"], ["arrested", "reported"]]
            )  # fmt: skip
        illicit: dict[str, Any] = {
            "suspects": suspects,
            "suspect_names": ", ".join(rng.sample(_SUSPECT_NAMES, k=suspects)) if suspects else "",
            "infraction": rng.choice(["hunting_in_pa", "illegal_entry", "possession_wildlife", "other"]),
            "action_taken": " ".join(actions),
        }
        seized = next((v for k, v in _SEIZED_BY_CATEGORY.items() if slug.startswith(k)), None)
        if seized is not None and {"confiscated", "destroyed", "arrested"} & set(actions):
            kind, unit, low, high = seized
            quantity = rng.uniform(low, high)
            illicit["seized"] = [
                {
                    "seized_uuid": _uuid(rng),
                    "seized_kind": kind,
                    "seized_quantity": round(quantity, 1) if unit != "items" else max(1, round(quantity)),
                    "seized_unit": unit,
                    "seized_destroyed": "yes" if "destroyed" in actions else "no",
                }
            ]
        values["illicit"] = illicit
        values["count"] = rng.randint(1, 6) if "weapons" in slug else ""
    elif vertical == "resource_use":
        unit, low, high = next(
            (v for k, v in _RESOURCE_QUANTITIES.items() if slug.startswith(k)), ("items", 1, 10)
        )
        quantity = rng.uniform(low, high)
        values["resource_kind"] = categories.implied(categories.RESOURCE_KIND_BY_CATEGORY, slug) or "other"
        values["resource"] = {
            "quantity": round(quantity, 2) if unit in ("m3", "ha", "kg") else max(1, round(quantity)),
            "unit": unit,
            "purpose": rng.choice(["subsistence", "subsistence", "commercial", "customary"]),
            "permitted": rng.choice(["yes", "no", "no"]),
            "users": rng.choice(["community", "community", "outsiders", "mixed"]),
        }
        if values["resource_kind"] == "bushmeat":
            # Named, but no occurrence: counting rule 1 (observations.categories).
            values["taxon"] = a.species(rng)
    elif vertical == "biodiversity":
        taxon = a.species(rng)
        evidence = categories.EVIDENCE_BY_CATEGORY.get(slug, "sign")
        values.update({"taxon": taxon, "evidence": evidence})
        if evidence in ("direct", "carcass"):
            values["counts"] = {
                "count_adult_male": rng.randint(0, 2),
                "count_adult_female": rng.randint(0, 2),
                "count_juvenile": rng.randint(0, 1),
                "count_unknown": rng.randint(0 if evidence == "direct" else 1, 2),
            }
        else:
            values["count"] = rng.randint(1, 4)
    else:
        values["notes"] = rng.choice(["Marker needs repair", "Checked", "Burnt grass near the track"])
    return values


def _patrol(rng: random.Random, a: _Area, year: int, month: int) -> tuple[datetime, str, dict[str, Any]]:
    profile = a.profile
    first_day = _day_in(rng, year, month)
    n_days = rng.randint(*profile.days)
    team = rng.sample(profile.members, k=min(len(profile.members), rng.randint(3, 4)))
    speed = _SPEED_KMH.get(profile.transport, 2.2)
    # Some patrols go to the area's hotspot, more each year; some set off from a village
    # outside the boundary and walk in (their tracks cross it).
    from_outside = profile.transport == "foot" and rng.random() < 0.15
    if a.hotspot is not None and rng.random() < _focus(year):
        position = a.point_near(rng, a.hotspot, HOTSPOT_RADIUS_KM / 2)
    elif from_outside:
        position = _outside_start(rng, a)
    else:
        position = a.random_point(rng)
    days = []
    for offset in range(n_days):
        day = first_day + timedelta(days=offset)
        start = datetime(
            day.year, day.month, day.day, rng.randint(6, 8), rng.choice([0, 15, 30, 45]), tzinfo=TZ
        )
        hours = rng.uniform(5.5, 9.0)
        rest = rng.choice([30, 45, 60, 90])
        end = start + timedelta(hours=hours)
        km = speed * (hours - rest / 60) * rng.uniform(0.6, 0.9)
        track = _walk(rng, a, position, km, inside=not (from_outside and offset == 0))
        position = track[-1]
        observations = []
        inside = [i for i, point in enumerate(track) if a.prepared.contains(ShapelyPoint(*point))]
        for _ in range(rng.randint(2, 7) if inside else 0):
            index = rng.choice(inside)
            moment = start + timedelta(hours=hours * index / max(1, len(track) - 1))
            lon, lat = track[index]
            location = f"{lat} {lon} 0 {rng.randint(3, 15)}"
            if rng.random() < 0.01:
                location = "0.0 0.0 0.0 0.0"  # a phone without a fix: ingest flags it
            observations.append(
                {
                    "observation_uuid": _uuid(rng),
                    "observation_time": _iso(moment),
                    "location": location,
                    **_finding(rng, a, year=year, month=month, point=(lon, lat)),
                }
            )
        days.append(
            {
                "day_uuid": _uuid(rng),
                "day_start": _iso(start),
                "track": ";".join(f"{lat} {lon} 0 5" for lon, lat in track),
                "observation": sorted(observations, key=lambda o: o["observation_time"]),
                "day_end": _iso(end),
                "rest_minutes": rest,
            }
        )
    begin = datetime.fromisoformat(str(days[0]["day_start"]))
    values = {
        "form_start": days[0]["day_start"],
        "form_end": days[-1]["day_end"],
        "patrol": {
            "patrol_id": f"{a.area.wdpa_id}-{begin:%Y%m%d}-{rng.randint(100, 999)}",
            "station": f"{a.area.name} station",
            "team": f"{a.area.name} team {rng.choice('ABC')}",
            "leader": team[0],
            "members": "\n".join(team[1:]),
            "member_count": len(team),
            "transport": profile.transport,
            "mandate": rng.choice(["law_enforcement", "law_enforcement", "monitoring", "community"]),
            "armed": "no",
        },
        "day": days,
    }
    return begin, "patrol", values


def _incident(rng: random.Random, a: _Area, year: int, month: int) -> tuple[datetime, str, dict[str, Any]]:
    moment = datetime.combine(_day_in(rng, year, month), datetime.min.time(), tzinfo=TZ) + timedelta(
        hours=rng.uniform(7, 18)
    )
    if a.hotspot is not None and rng.random() < 0.5:
        lon, lat = a.point_near(rng, a.hotspot, HOTSPOT_RADIUS_KM)
    else:
        lon, lat = a.random_point(rng)
    finding = _finding(rng, a, year=year, month=month, point=(lon, lat))
    while finding["vertical"] != "illicit":
        finding = _finding(rng, a, year=year, month=month, point=(lon, lat))
    files: dict[str, bytes] = {}
    if rng.random() < 0.4:
        # Evidence photos, sent as attachments with the submission.
        for n in range(rng.randint(1, 2)):
            name = f"evidence-{rng.getrandbits(40):010x}.jpg"
            finding["photo" if n == 0 else "photo_2"] = name
            files[name] = EVIDENCE_JPEG
    values = {
        "form_start": _iso(moment),
        "form_end": _iso(moment + timedelta(minutes=20)),
        "report": {
            "source": {"recorded_by": rng.choice(a.profile.members), "report_source": "community"},
            "where": {
                "incident_time": _iso(moment),
                "location_known": "yes",
                "location": f"{lat} {lon} 0 10",
            },
            **finding,
        },
        "_files": files,
    }
    return moment, "incident", values


def _species_survey(
    rng: random.Random, a: _Area, year: int, month: int
) -> tuple[datetime, str, dict[str, Any]]:
    start = datetime.combine(_day_in(rng, year, month), datetime.min.time(), tzinfo=TZ) + timedelta(hours=6.5)
    observer = rng.choice(a.profile.members)
    sightings = []
    calls = 2 if month in _BREEDING_MONTHS else 1
    for i in range(rng.randint(3, 8)):
        lon, lat = a.random_point(rng)
        evidence = rng.choice(["direct", "direct", *(["call"] * calls), "track", "dung", "nest"])
        counts = {"count_unknown": rng.randint(1, 3)} if evidence == "direct" else {}
        sightings.append(
            {
                "sighting_uuid": _uuid(rng),
                "sighting_time": _iso(start + timedelta(minutes=25 * i)),
                "location": f"{lat} {lon} 0 8",
                "taxon": a.species(rng),
                "evidence": evidence,
                "counts": counts,
                "count": "" if counts else rng.randint(1, 3),
                "category": "animals.live" if evidence == "direct" else f"animals.sign.{evidence}",
                "observer_name": observer,
            }
        )
    values = {"form_start": _iso(start), "observer": observer, "method": "transect", "sighting": sightings}
    return start, "species", values


def _resource_use(
    rng: random.Random, a: _Area, year: int, month: int
) -> tuple[datetime, str, dict[str, Any]]:
    moment = datetime.combine(_day_in(rng, year, month), datetime.min.time(), tzinfo=TZ) + timedelta(
        hours=rng.uniform(7, 17)
    )
    finding = _finding(rng, a, year=year, month=month)
    while finding["vertical"] != "resource_use":
        finding = _finding(rng, a, year=year, month=month)
    lon, lat = a.random_point(rng)
    values = {
        "form_start": _iso(moment),
        "use": {
            "recorded_by": rng.choice(a.profile.members),
            "observation_time": _iso(moment),
            "location": f"{lat} {lon} 0 10",
            "resource_kind": finding["resource_kind"],
            "resource_category": finding["category"],
            "detail": finding["category_final"],
            "resource": finding["resource"],
        },
    }
    return moment, "resource_use", values


def _mett(rng: random.Random, a: _Area, year: int) -> tuple[datetime, str, dict[str, Any]]:
    moment = datetime(year, 11, rng.randint(3, 20), 9, 0, tzinfo=TZ)
    # Scores lean low, as PNG's 2017 METT found, and improve a little each year (more where
    # the area has a hotspot and patrols focus on it); tourism questions often do not apply.
    fixed = random.Random(f"mett/{a.area.wdpa_id}")  # noqa: S311  (each area's starting point)
    gain = 0.25 * (year - 2020) + (0.4 * _progress(year) if a.hotspot else 0.0)
    values: dict[str, Any] = {
        "assessment": {
            "area": str(a.area.wdpa_id),
            "year": year,
            "assessed_on": moment.date().isoformat(),
            "assessors": ", ".join(a.profile.members[:3]),
        }
    }
    answers: dict[str, Any] = {}
    for n in range(1, 31):
        q = f"q{n:02d}"
        base = fixed.choices([0, 1, 2, 3], [3, 5, 3, 1])[0]
        score = (
            "na"
            if n in (27, 28, 29) and fixed.random() < 0.6
            else str(max(0, min(3, round(base + gain + rng.gauss(0, 0.4)))))
        )
        answers[q] = score
        answers[f"{q}_comment"] = "Discussed at the workshop"
        for letter in "abc":
            answers[f"{q}{letter}"] = rng.choice(["0", "1"]) if n in (7, 21, 24, 30) else ""
    # The METT's pages are groups without dicts of their own: they read the answers here.
    values.update(answers)
    return moment, "mett", values


def _budget(rng: random.Random, a: _Area, year: int) -> tuple[datetime, str, dict[str, Any]]:
    moment = datetime(year, 12, rng.randint(1, 15), 10, 0, tzinfo=TZ)
    size = math.sqrt(max(a.area.area_km2, 10.0))
    # Budgets grow about 6 % a year, with donor money coming and going.
    growth = 1.06 ** (year - 2020)
    government = round(size * rng.uniform(3000, 6000) * growth, -2)
    donor = round(size * rng.uniform(1000, 8000) * growth, -2)
    own = round(size * rng.uniform(0, 800) * growth, -2)
    total = government + donor + own
    shares = {
        "staff": 0.45,
        "patrol_operations": 0.2,
        "equipment": 0.12,
        "community": 0.13,
        "infrastructure": 0.1,
    }
    income = {"government": government, "donor": donor, "own_revenue": own}
    spend = {k: round(total * v * rng.uniform(0.85, 1.05), -2) for k, v in shares.items()}
    planned = {
        **{f"planned_income_{k}": round(v * rng.uniform(1.0, 1.35), -2) for k, v in income.items()},
        **{f"planned_spend_{k}": round(v * rng.uniform(0.9, 1.2), -2) for k, v in spend.items()},
    }
    values = {
        "form_start": _iso(moment),
        "return": {"area": str(a.area.wdpa_id), "fiscal_year": year, "currency": "PGK"},
        "planned": planned,
        "income": {f"income_{k}": v for k, v in income.items()},
        "spend": {f"spend_{k}": v for k, v in spend.items()},
        "staffing": {"staff_count": max(3, int(size / 3)), "ranger_count": max(2, int(size / 5))},
        "needs": {"need_basic": round(total * 1.6, -3), "need_optimal": round(total * 2.8, -3)},
    }
    return moment, "budget", values
