"""A year of field data for the demo areas, sent the way phones send it.

`load_demo_records()` publishes the standard forms (standard_forms/*.xlsx) for the demo areas, then
generates a year of patrols with tracks and observations, incident reports, species
surveys, resource-use records, one METT assessment and one budget return per area, and
hands every one to odk_forms.receiving.receive_submission as an OpenRosa submission would
be: processing then maps them into records through observations.records, the same path
as data from the field. Nothing here writes observation rows itself.

Everything is drawn from a seeded random generator and instance IDs derive from the seed,
so loading again sends the same XML, which the server recognises as already received.
"""

from __future__ import annotations

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
         (3, "animals.carcass"), (2, "human_activity.arrest")),
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


@dataclass
class _Area:
    area: ProtectedArea
    profile: AreaProfile
    shape: Any
    prepared: Any = field(repr=False, default=None)

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        west, south, east, north = self.shape.bounds
        while True:
            x, y = rng.uniform(west, east), rng.uniform(south, north)
            if self.prepared.contains(ShapelyPoint(x, y)):
                return x, y


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


def load_demo_records(user: Any, year: int | None = None, seed: int = 2024, scale: float = 1.0) -> DemoReport:
    """Send a year of demo submissions for the demo areas as `user` (a collector of them)."""
    areas = list(ProtectedArea.objects.filter(wdpa_id__in=PROFILES).order_by("wdpa_id"))
    if not areas:
        return DemoReport()
    versions = publish_standard_forms(areas)
    year = year or date.today().year - 1
    report = DemoReport()
    for stem, xml in generate_submissions(areas, versions, year, seed, scale):
        received = receiving.receive_submission(xml, {}, user=user)
        report.sent += 1
        report.new += received.created
        report.by_form[stem] = report.by_form.get(stem, 0) + 1
    return report


def generate_submissions(
    areas: list[ProtectedArea], versions: dict[str, FormVersion], year: int, seed: int, scale: float = 1.0
) -> Iterator[tuple[str, bytes]]:
    """(form stem, instance XML) of a year of field data, in the order phones send it."""
    rng = random.Random(seed)  # noqa: S311  (demo data, reproducible on purpose)
    counter = iter(range(10**9))
    demo_areas = []
    for area in areas:
        shape = geometry.to_shapely(area.boundary)
        demo_areas.append(_Area(area, PROFILES[area.wdpa_id or 0], shape, prep(shape)))
    xml_of = {stem: bytes(v.xml) for stem, v in versions.items()}

    def instance_id(stem: str) -> str:
        return f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'fieldkit-demo/{seed}/{stem}/{next(counter)}')}"

    items: list[tuple[datetime, str, dict[str, Any]]] = []
    for a in demo_areas:
        for month in range(1, 13):
            for _ in range(max(1, round(a.profile.patrols_per_month * scale))):
                items.append(_patrol(rng, a, year, month))
            for _ in range(rng.randint(0, 2)):
                items.append(_incident(rng, a, year, month))
            items.append(_species_survey(rng, a, year, month))
            for _ in range(rng.randint(1, 2)):
                items.append(_resource_use(rng, a, year, month))
        items.append(_mett(rng, a, year))
        items.append(_budget(rng, a, year))
    items.sort(key=lambda item: item[0])
    for _, stem, values in items:
        yield stem, xform.fill_instance(xml_of[stem], values, instance_id(stem))


def _iso(moment: datetime) -> str:
    return moment.astimezone(TZ).isoformat(timespec="milliseconds")


def _day_in(rng: random.Random, year: int, month: int) -> date:
    first = date(year, month, 1)
    days = ((first.replace(month=month % 12 + 1, year=year + month // 12)) - first).days
    return first + timedelta(days=rng.randrange(days))


def _walk(rng: random.Random, a: _Area, start: tuple[float, float], km: float) -> list[tuple[float, float]]:
    """A wandering track of about `km` kilometres inside the area, a point every ~150 m."""
    points = [start]
    heading = rng.uniform(0, 2 * math.pi)
    lon, lat = start
    for _ in range(max(2, int(km / 0.15))):
        heading += rng.gauss(0, 0.35)
        for _attempt in range(8):
            step = rng.uniform(0.1, 0.2)
            dlat = step * math.cos(heading) / 110.57
            dlon = step * math.sin(heading) / (111.32 * math.cos(math.radians(lat)))
            if a.prepared.contains(ShapelyPoint(lon + dlon, lat + dlat)):
                lon, lat = lon + dlon, lat + dlat
                points.append((round(lon, 6), round(lat, 6)))
                break
            heading += math.pi / 2
    return points


def _finding(rng: random.Random, a: _Area) -> dict[str, Any]:
    """The answers of one observation: category cascade and the follow-ups it asks."""
    weights, slugs = zip(*a.profile.findings, strict=True)
    slug = rng.choices(slugs, weights=weights)[0]
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
        values["illicit"] = {
            "suspects": suspects,
            "infraction": rng.choice(["hunting_in_pa", "illegal_entry", "possession_wildlife", "other"]),
            "action_taken": rng.choice(
                ["destroyed", "confiscated", "observed_only"] if not suspects
                else ["verbal_warning", "arrested", "unsuccessful_pursuit", "written_warning"]
            ),
        }  # fmt: skip
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
    elif vertical == "biodiversity":
        taxon = rng.choice(a.profile.taxa)
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
        track = _walk(rng, a, position, speed * (hours - rest / 60) * rng.uniform(0.6, 0.9))
        position = track[-1]
        observations = []
        for _ in range(rng.randint(2, 7)):
            index = rng.randrange(len(track))
            moment = start + timedelta(hours=hours * index / max(1, len(track) - 1))
            lon, lat = track[index]
            location = f"{lat} {lon} 0 {rng.randint(3, 15)}"
            if rng.random() < 0.01:
                location = "0.0 0.0 0.0 0.0"  # a phone without a fix: ingest flags it
            observations.append({"observation_time": _iso(moment), "location": location, **_finding(rng, a)})
        days.append(
            {
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
    lon, lat = a.random_point(rng)
    finding = _finding(rng, a)
    while finding["vertical"] != "illicit":
        finding = _finding(rng, a)
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
    }
    return moment, "incident", values


def _species_survey(
    rng: random.Random, a: _Area, year: int, month: int
) -> tuple[datetime, str, dict[str, Any]]:
    start = datetime.combine(_day_in(rng, year, month), datetime.min.time(), tzinfo=TZ) + timedelta(hours=6.5)
    observer = rng.choice(a.profile.members)
    sightings = []
    for i in range(rng.randint(3, 8)):
        lon, lat = a.random_point(rng)
        evidence = rng.choice(["direct", "direct", "call", "track", "dung", "nest"])
        counts = {"count_unknown": rng.randint(1, 3)} if evidence == "direct" else {}
        sightings.append(
            {
                "sighting_time": _iso(start + timedelta(minutes=25 * i)),
                "location": f"{lat} {lon} 0 8",
                "taxon": rng.choice(a.profile.taxa),
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
    finding = _finding(rng, a)
    while finding["vertical"] != "resource_use":
        finding = _finding(rng, a)
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
    # Scores lean low, as PNG's 2017 METT found; tourism questions often do not apply.
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
        score: str = (
            "na"
            if n in (27, 28, 29) and rng.random() < 0.6
            else str(rng.choices([0, 1, 2, 3], [3, 5, 3, 1])[0])
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
    government = round(size * rng.uniform(3000, 6000), -2)
    donor = round(size * rng.uniform(1000, 8000), -2)
    own = round(size * rng.uniform(0, 800), -2)
    total = government + donor + own
    shares = {
        "staff": 0.45,
        "patrol_operations": 0.2,
        "equipment": 0.12,
        "community": 0.13,
        "infrastructure": 0.1,
    }
    values = {
        "form_start": _iso(moment),
        "return": {"area": str(a.area.wdpa_id), "fiscal_year": year, "currency": "PGK"},
        "income": {"income_government": government, "income_donor": donor, "income_own_revenue": own},
        "spend": {f"spend_{k}": round(total * v * rng.uniform(0.85, 1.05), -2) for k, v in shares.items()},
        "staffing": {"staff_count": max(3, int(size / 3)), "ranger_count": max(2, int(size / 5))},
        "needs": {"need_basic": round(total * 1.6, -3), "need_optimal": round(total * 2.8, -3)},
    }
    return moment, "budget", values
