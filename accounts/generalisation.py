"""Generalisation of sensitive locations: pure grid snapping, no database.

Chapman (2020) and ALA's sensitive data service: a sensitive record's point is replaced by
the centre of the grid cell of its sensitivity level, and its uncertainty grows to cover the
cell. Snapping is deterministic (the same point always gives the same centre), so repeated
queries cannot be averaged back towards the truth, as random jitter could. Cells are found
in decimal arithmetic on the coordinate's shortest repr, so a point on a cell edge (0.3 with
0.1° cells) lands in the cell a person reading the number expects, on every machine.

observations.sensitivity decides the level of a record (taxon default, raised by area or
national rules) and whether a user sees it exactly; this module only does the arithmetic
and says in words what was done (Darwin Core dataGeneralizations / informationWithheld).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import models


class Sensitivity(models.IntegerChoices):
    """Chapman (2020) sensitivity categories: how much a location is generalised for anyone
    without the right to see it exactly. The numbers are those of the category names, not
    an order of strictness: see STRICTNESS."""

    OPEN = 0, "Not sensitive: exact location"
    EXTREME = 1, "Extreme: location withheld"
    HIGH = 2, "High: 0.1° (~10 km)"
    MEDIUM = 3, "Medium: 0.01° (~1 km)"
    LOW = 4, "Low: 0.001° (~100 m)"


# Cell size in degrees per level; None: the location is withheld altogether.
CELL_DEGREES: dict[int, Decimal | None] = {
    Sensitivity.OPEN: Decimal(0),
    Sensitivity.EXTREME: None,
    Sensitivity.HIGH: Decimal("0.1"),
    Sensitivity.MEDIUM: Decimal("0.01"),
    Sensitivity.LOW: Decimal("0.001"),
}

# Higher is stricter: a rule may raise a taxon's level along this order, never lower it.
STRICTNESS: dict[int, int] = {
    Sensitivity.OPEN: 0,
    Sensitivity.LOW: 1,
    Sensitivity.MEDIUM: 2,
    Sensitivity.HIGH: 3,
    Sensitivity.EXTREME: 4,
}


def strictest(*levels: int | None) -> int:
    """The strictest of `levels` (None ignored); OPEN when there are none."""
    found = [level for level in levels if level is not None]
    return max(found, key=STRICTNESS.__getitem__, default=int(Sensitivity.OPEN))


@dataclass(frozen=True)
class Generalised:
    """A location as it may be shown: `lon`/`lat` None when withheld."""

    lon: float | None
    lat: float | None
    uncertainty_m: float | None
    level: int
    data_generalizations: str = ""
    information_withheld: str = ""

    @property
    def is_exact(self) -> bool:
        return self.level == Sensitivity.OPEN


def _cell_start(value: float, cell: Decimal) -> Decimal:
    return (Decimal(repr(value)) / cell).to_integral_value(rounding=ROUND_FLOOR) * cell


# Metres per degree on the WGS 84 ellipsoid at latitude phi (the usual series).
def _m_per_deg_lat(phi: float) -> float:
    return 111_132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)


def _m_per_deg_lon(phi: float) -> float:
    return 111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)


def cell_half_diagonal_m(lat_start: float, cell_degrees: float) -> float:
    """Half the diagonal of a cell whose southern edge is `lat_start`, in metres, measured on
    its edge nearest the equator (its widest): the farthest any point of the cell is from
    its centre, rounded up."""
    lat_end = lat_start + cell_degrees
    widest = min(abs(lat_start), abs(lat_end)) if lat_start * lat_end > 0 else 0.0
    mid = math.radians(lat_start + cell_degrees / 2)
    width = cell_degrees * _m_per_deg_lon(math.radians(widest))
    height = cell_degrees * _m_per_deg_lat(mid)
    return math.ceil(math.hypot(width, height) / 2)


def generalise(lon: float, lat: float, level: int, accuracy_m: float | None = None) -> Generalised:
    """The point shown for a record of sensitivity `level`: itself when OPEN, else the
    centre of its grid cell with an uncertainty covering the cell (plus the fix's own
    accuracy), or nothing when the level withholds it."""
    if level == Sensitivity.OPEN:
        return Generalised(lon, lat, accuracy_m, level)
    cell = CELL_DEGREES[level]
    if cell is None:
        return withheld(level)
    lon0, lat0 = _cell_start(lon, cell), _cell_start(lat, cell)
    half = cell / 2
    centre_lon, centre_lat = float(lon0 + half), float(lat0 + half)
    uncertainty = cell_half_diagonal_m(float(lat0), float(cell)) + math.ceil(accuracy_m or 0)
    return Generalised(
        centre_lon,
        centre_lat,
        float(uncertainty),
        level,
        data_generalizations=(
            f"Coordinates generalised to the centre of a {cell}° grid cell: sensitive species "
            f"({Sensitivity(level).label})."
        ),
        information_withheld="Exact coordinates withheld: sensitive species.",
    )


def withheld(level: int) -> Generalised:
    """The answer for a record whose point is withheld whatever it is (no point, or the
    extreme level)."""
    return Generalised(
        None, None, None, level,
        information_withheld="Location withheld: sensitive species (Chapman 2020, extreme).",
    )  # fmt: skip


# --- Photos ------------------------------------------------------------------------------------

_GPS_IFD = 0x8825
_EXIF_HEADER = b"Exif\x00\x00"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int] | None:
    """The marker segments of a JPEG before its scan, as (marker, payload), and where the
    scan starts; None when `data` is not a JPEG this reader follows."""
    if data[:2] != b"\xff\xd8":
        return None
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the image data follows, untouched
            return segments, pos
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return None


def strip_gps(data: bytes) -> bytes:
    """`data` (an image) without the location its camera wrote: the EXIF GPS IFD and any
    XMP packet (which may repeat it). A JPEG loses only those bytes, its image data copied
    as it is (no re-encoding); other formats Pillow reads are written again without EXIF.
    An image without GPS tags comes back unchanged."""
    import io

    from PIL import Image

    parsed = _jpeg_segments(data)
    if parsed is not None:
        segments, scan = parsed
        changed = False
        out = [b"\xff\xd8"]
        for marker, payload in segments:
            if marker == 0xE1 and payload.startswith(_XMP_HEADER):
                changed = True
                continue
            if marker == 0xE1 and payload.startswith(_EXIF_HEADER):
                exif = Image.Exif()
                exif.load(payload)
                if _GPS_IFD in exif:
                    del exif[_GPS_IFD]
                    payload = exif.tobytes()
                    changed = True
            out.append(bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload)
        if not changed:
            return data
        out.append(data[scan:])
        return b"".join(out)
    with Image.open(io.BytesIO(data)) as image:
        if _GPS_IFD not in image.getexif() and "xmp" not in image.info:
            return data
        buffer = io.BytesIO()
        image.save(buffer, format=image.format)
        return buffer.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    """The GPS tags of an image's EXIF (empty without): for checks and tests."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(_GPS_IFD))
