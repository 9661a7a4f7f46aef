"""A small SVG map for the case file's PDF: the area's outline and the linked records as
dots, in an equirectangular projection scaled by the cosine of the middle latitude. Pure:
coordinates in, SVG text out (WeasyPrint draws it; no tiles, nothing fetched)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

Ring = Sequence[tuple[float, float]]


def svg_map(
    rings: Sequence[Ring], points: Sequence[tuple[float, float, str]], *, width: int = 480, height: int = 300
) -> str:
    """`rings`: the area's polygon rings as (lon, lat); `points`: (lon, lat, label)."""
    coords = [c for ring in rings for c in ring] + [(lon, lat) for lon, lat, _ in points]
    if not coords:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"></svg>'
    west = min(c[0] for c in coords)
    east = max(c[0] for c in coords)
    south = min(c[1] for c in coords)
    north = max(c[1] for c in coords)
    kx = math.cos(math.radians((north + south) / 2))
    span_x = max((east - west) * kx, 1e-6)
    span_y = max(north - south, 1e-6)
    margin = 12
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (margin + (lon - west) * kx * scale, height - margin - (lat - south) * scale)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f'<rect width="{width}" height="{height}" fill="#f4f7f2" stroke="#999"/>',
    ]
    for ring in rings:
        path = " ".join("%.1f,%.1f" % xy(lon, lat) for lon, lat in ring)  # noqa: UP031
        parts.append(f'<polygon points="{path}" fill="#c8e6c9" stroke="#2e7d32" stroke-width="1"/>')
    for n, (lon, lat, label) in enumerate(points, 1):
        x, y = xy(lon, lat)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#c62828" stroke="#fff"/>')
        parts.append(
            f'<text x="{x + 7:.1f}" y="{y + 4:.1f}" font-size="11" font-family="DejaVu Sans">{n}</text>'
            f"<title>{escape(label)}</title>"
        )
    parts.append("</svg>")
    return "".join(parts)
