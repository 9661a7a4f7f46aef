"""A scene for access-policy tests: two areas, users of every role in the first, a manager
of the second, national roles, and field records with a sensitive species, an illicit
activity with a suspect's name and a photo carrying EXIF GPS tags."""

from __future__ import annotations

import io

from PIL import Image

from accounts.models import AreaMembership, CollectorToken, Role, User
from observations.models import IllicitActivity, Observation, Taxon
from tests import observation_builders as ob
from tests.base import PASSWORD
from tests.builders import make_area

# The exact points, off every grid line, written as the tests look for them.
EAGLE_LON, EAGLE_LAT = 147.36127, -9.42318  # sensitive taxon, illicit record (a shot eagle)
CASSOWARY_LON, CASSOWARY_LAT = 147.38764, -9.41163  # open taxon, raised by an area rule
SUSPECT = "Peter Kaupa"
OBSERVER = "Kila Oa"
PHOTO = "eagle.jpg"


def jpeg_with_gps(lon: float, lat: float) -> bytes:
    """A small JPEG whose EXIF holds the camera model and the GPS position (lon, lat)."""

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        return (float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4))

    exif = Image.Exif()
    exif[0x0110] = "Ranger phone"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("S" if lat < 0 else "N"), dms(lat)
    gps[3], gps[4] = ("W" if lon < 0 else "E"), dms(lon)
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 40)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def user(username: str, role: str | None = None, area=None, national: bool = False, **flags) -> User:  # type: ignore[no-untyped-def]
    made = User.objects.create_user(username, f"{username}@example.org", PASSWORD, **flags)
    if role is not None:
        AreaMembership.objects.create(user=made, area=area, national=national, role=role)
    return made


def build(cls) -> None:  # type: ignore[no-untyped-def]
    """Set the scene's objects as attributes of a TestCase class (setUpTestData)."""
    cls.area = make_area("Varirata National Park")
    cls.other_area = make_area("Tonda Wildlife Management Area", bounds=(141.0, -9.2, 141.6, -8.6))
    staff = {"is_staff": True}
    cls.collector = user("collector", Role.COLLECTOR, cls.area, **staff)
    cls.member = user("member", Role.MEMBER, cls.area, **staff)
    cls.manager = user("manager", Role.MANAGER, cls.area, **staff)
    cls.viewer = user("viewer", Role.VIEWER, cls.area, **staff)
    cls.law = user("law", Role.LAW_ENFORCEMENT, cls.area, **staff)
    cls.outsider = user("outsider", Role.MANAGER, cls.other_area, **staff)
    cls.outside_law = user("outside_law", Role.LAW_ENFORCEMENT, cls.other_area, **staff)
    cls.national_viewer = user("national_viewer", Role.VIEWER, national=True, **staff)
    cls.national_law = user("national_law", Role.LAW_ENFORCEMENT, national=True, **staff)
    cls.nobody = user("nobody", **staff)
    cls.admin = User.objects.create_superuser("root", "root@example.org", PASSWORD)

    # Both are in the species list fieldkit installs; their levels are set here.
    cls.eagle, _ = Taxon.objects.update_or_create(
        scientific_name="Harpyopsis novaeguineae",
        defaults={"slug": "harpyopsis_novaeguineae", "sensitivity": 3},
    )
    cls.cassowary, _ = Taxon.objects.update_or_create(
        scientific_name="Casuarius casuarius", defaults={"slug": "casuarius_casuarius", "sensitivity": 0}
    )
    cls.version = ob.publish(ob.patrol_form_md(), [cls.area, cls.other_area])
    eagle = ob.observation_values(
        loc=ob.geopoint(EAGLE_LON, EAGLE_LAT),
        when="2024-05-14T09:00:00+10:00",
        category="human_activity",
        action="confiscated",
        suspects="1",
        taxon=cls.eagle.slug,
        photo=PHOTO,
    )
    cassowary = ob.observation_values(
        loc=ob.geopoint(CASSOWARY_LON, CASSOWARY_LAT),
        when="2024-05-14T11:00:00+10:00",
        category="animals.live",
        taxon=cls.cassowary.slug,
        males="1",
    )
    xml = ob.instance_xml(
        "fk_patrol",
        ob.patrol_values(track=ob.geotrace([(147.36, -9.47), (147.36, -9.40)])),
        {"obs": [eagle, cassowary]},
    )
    cls.photo_bytes = jpeg_with_gps(EAGLE_LON, EAGLE_LAT)
    cls.submission = ob.submit(xml, cls.collector, {PHOTO: io.BytesIO(cls.photo_bytes)})
    cls.eagle_obs = Observation.objects.get(species__taxon=cls.eagle)
    cls.cassowary_obs = Observation.objects.get(species__taxon=cls.cassowary)
    Observation.objects.filter(pk=cls.eagle_obs.pk).update(observer=OBSERVER)
    IllicitActivity.objects.filter(pk=cls.eagle_obs.pk).update(suspect_names=SUSPECT)
    cls.tokens = {
        name: CollectorToken.objects.create(user=getattr(cls, name))
        for name in ("collector", "member", "manager", "viewer", "law", "outsider", "national_viewer")
    }
