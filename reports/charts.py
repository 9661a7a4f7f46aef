"""Charts and the area map of the donor report as SVG, written by hand: pure functions,
numbers in, SVG text out (WeasyPrint draws it in the PDF; nothing is fetched, no plotting
library runs on the server). The map uses the projection of enforcement.svgmap: longitude
scaled by the cosine of the middle latitude."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

FONT = 'font-family="DejaVu Sans" font-size="9"'
PALETTE = ("#2e7d32", "#c62828", "#1565c0", "#ef6c00", "#6a1b9a", "#00838f")
# Zones on the map: none in the boundary's green or the shaded cells' red.
ZONE_PALETTE = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#6d4c41", "#455a64", "#ad1457")
Ring = Sequence[tuple[float, float]]


@dataclass
class Series:
    name: str
    values: Sequence[float | None]
    lower: Sequence[float | None] = field(default_factory=list)
    upper: Sequence[float | None] = field(default_factory=list)
    color: str = PALETTE[0]


def nice_max(value: float) -> tuple[float, float]:
    """A round top for an axis reaching `value`, and the step of its 4–5 ticks."""
    if value <= 0:
        return 1.0, 0.25
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        tick = step * magnitude
        if value / tick <= 5:
            return tick * math.ceil(value / tick - 1e-9), tick
    return value, value / 4


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}".replace(",", " ")
    if abs(value) >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]


def _legend(parts: list[str], names: Sequence[tuple[str, str]], right: float, y: float) -> None:
    """Keys in one line that ends at `right`."""
    x = right - sum(20 + 5.6 * len(name) for name, _ in names) + 7
    for name, color in names:
        parts.append(f'<rect x="{x:.1f}" y="{y - 7:.1f}" width="10" height="8" fill="{color}"/>')
        parts.append(f'<text x="{x + 13:.1f}" y="{y:.1f}" {FONT}>{escape(name)}</text>')
        x += 20 + 5.6 * len(name)


def _y_axis(parts: list[str], top: float, tick: float, left: float, right: float, y_of) -> None:  # type: ignore[no-untyped-def]
    value = 0.0
    while value <= top + 1e-9:
        y = y_of(value)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd" stroke-width="0.6"/>'
        )
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" {FONT}>{_number(value)}</text>')
        value += tick


def line_chart(
    labels: Sequence[str], series: Sequence[Series], *, width: int = 520, height: int = 190, y_label: str = ""
) -> str:
    """Lines over `labels` (months), each with its 95 % interval as a band where given. A
    missing value (no effort, no data) breaks the line and shades its column."""
    left, right, top_pad, bottom = 46, width - 10, 22, height - 26
    highest = max([v for s in series for v in (*s.values, *s.upper) if v is not None] or [0.0])
    top, tick = nice_max(highest)
    n = max(len(labels), 1)
    step = (right - left) / n

    def x_of(i: int) -> float:
        return left + step * (i + 0.5)

    def y_of(v: float) -> float:
        return bottom - (bottom - top_pad) * (v / top)

    parts = _frame(width, height)
    no_data = [
        i for i in range(len(labels)) if all(i >= len(s.values) or s.values[i] is None for s in series)
    ]
    for i in no_data:
        parts.append(
            f'<rect x="{left + step * i:.1f}" y="{top_pad}" width="{step:.1f}" height="{bottom - top_pad}" '
            'fill="#eeeeee"/>'
        )
    _y_axis(parts, top, tick, left, right, y_of)  # over the grey columns: they keep their scale
    every = max(1, math.ceil(n / 12))
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(_label(x_of(i), bottom + 12, label))
    for s in series:
        for run in _runs(s.values):
            if s.lower and s.upper:
                band = [(i, s.upper[i]) for i in run if s.upper[i] is not None]
                band += [(i, s.lower[i]) for i in reversed(run) if s.lower[i] is not None]
                if len(band) >= 2:
                    points = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in band)  # type: ignore[arg-type]
                    parts.append(
                        f'<polygon points="{points}" fill="{s.color}" fill-opacity="0.18" stroke="none"/>'
                    )
            ys = {i: y_of(s.values[i] or 0.0) for i in run}  # a run holds no missing value
            points = " ".join(f"{x_of(i):.1f},{ys[i]:.1f}" for i in run)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="1.6"/>')
            for i in run:
                parts.append(f'<circle cx="{x_of(i):.1f}" cy="{ys[i]:.1f}" r="1.8" fill="{s.color}"/>')
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555" stroke-width="0.8"/>'
    )
    if y_label:
        parts.append(f'<text x="{left}" y="12" {FONT} fill="#444">{escape(y_label)}</text>')
    _legend(parts, [(s.name, s.color) for s in series if s.name], right, 12)
    parts.append("</svg>")
    return "".join(parts)


def _label(x: float, y: float, text: str) -> str:
    return f'<text x="{x:.1f}" y="{y}" text-anchor="middle" {FONT}>{escape(text)}</text>'


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    runs: list[list[int]] = []
    current: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def bar_chart(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    width: int = 520,
    height: int = 190,
    y_label: str = "",
    top: float | None = None,
) -> str:
    """Grouped vertical bars: one group per label of `groups`, one bar per series (name,
    values, colour); a missing value draws no bar and writes "n/a"."""
    left, right, top_pad, bottom = 52, width - 10, 22, height - 26
    highest = max([v for _, values, _ in series for v in values if v is not None] or [0.0])
    axis_top, tick = nice_max(top if top is not None else highest)
    n, k = max(len(groups), 1), max(len(series), 1)
    slot = (right - left) / n
    bar = min(22.0, slot * 0.8 / k)

    def y_of(v: float) -> float:
        return bottom - (bottom - top_pad) * (max(v, 0.0) / axis_top)

    parts = _frame(width, height)
    _y_axis(parts, axis_top, tick, left, right, y_of)
    for g, label in enumerate(groups):
        start = left + slot * g + (slot - bar * k) / 2
        for j, (_, values, color) in enumerate(series):
            value = values[g] if g < len(values) else None
            x = start + bar * j
            if value is None:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{bottom - 3}" text-anchor="middle" '
                    'font-family="DejaVu Sans" font-size="6" fill="#777">n/a</text>'
                )
                continue
            y = y_of(value)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" '
                f'height="{bottom - y:.1f}" fill="{color}"/>'
            )
        parts.append(_label(left + slot * (g + 0.5), bottom + 12, label))
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555" stroke-width="0.8"/>'
    )
    if y_label:
        parts.append(f'<text x="{left}" y="12" {FONT} fill="#444">{escape(y_label)}</text>')
    _legend(parts, [(name, color) for name, _, color in series], right, 12)
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class Cell:
    ring: Ring
    value: float


def area_map(
    boundary: Sequence[Ring],
    zones: Sequence[tuple[str, Sequence[Ring]]],
    cells: Sequence[Cell],
    *,
    width: int = 520,
    height: int = 300,
) -> str:
    """The area's outline, its zones (dashed, named) and grid cells shaded by value; the
    drawing spans the outline and the shaded cells, which may reach past it."""
    coords = [c for ring in boundary for c in ring]
    if coords:
        coords += [c for cell in cells if cell.value > 0 for c in cell.ring]
    parts = _frame(width, height)
    if not coords:
        parts.append("</svg>")
        return "".join(parts)
    west, east = min(c[0] for c in coords), max(c[0] for c in coords)
    south, north = min(c[1] for c in coords), max(c[1] for c in coords)
    kx = math.cos(math.radians((north + south) / 2))
    margin, legend = 12, 44
    scale = min(
        (width - 2 * margin) / max((east - west) * kx, 1e-9),
        (height - 2 * margin - legend) / max(north - south, 1e-9),
    )
    offset_x = (width - (east - west) * kx * scale) / 2
    base_y = height - legend - margin

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (offset_x + (lon - west) * kx * scale, base_y - (lat - south) * scale)

    def path(ring: Ring) -> str:
        return " ".join("%.1f,%.1f" % xy(lon, lat) for lon, lat in ring)  # noqa: UP031

    parts[1] = f'<rect width="{width}" height="{height}" fill="#f4f7f2"/>'
    for ring in boundary:
        parts.append(f'<polygon points="{path(ring)}" fill="#e3efe0" stroke="none"/>')
    highest = max([c.value for c in cells] or [0.0])
    for cell in cells:
        if cell.value <= 0:
            continue
        shade = 0.15 + 0.75 * cell.value / highest
        parts.append(
            f'<polygon points="{path(cell.ring)}" fill="#c62828" fill-opacity="{shade:.2f}" '
            'stroke="#fff" stroke-width="0.2"/>'
        )
    for n, (_, rings) in enumerate(zones):
        color = ZONE_PALETTE[n % len(ZONE_PALETTE)]
        for ring in rings:
            parts.append(
                f'<polygon points="{path(ring)}" fill="none" stroke="{color}" '
                'stroke-width="1" stroke-dasharray="3,2"/>'
            )
    for ring in boundary:
        parts.append(f'<polygon points="{path(ring)}" fill="none" stroke="#2e7d32" stroke-width="1.4"/>')
    y = height - legend + 8
    items = [("boundary", "#2e7d32")] + [
        (name, ZONE_PALETTE[n % len(ZONE_PALETTE)]) for n, (name, _) in enumerate(zones)
    ]
    x = 12.0
    for name, color in items[:7]:
        label = name if len(name) <= 28 else name[:27] + "…"
        parts.append(
            f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x + 14:.1f}" y2="{y - 3}" '
            f'stroke="{color}" stroke-width="1.4"/>'
        )
        parts.append(f'<text x="{x + 17:.1f}" y="{y:.1f}" {FONT}>{escape(label)}</text>')
        x += 26 + 5.4 * len(label)
        if x > width - 120:
            x, y = 12.0, y + 13
    if cells:
        parts.append(
            f'<text x="12" y="{height - 6}" {FONT} fill="#444">'
            "Shading: illicit-activity records per grid cell "
            f"(darkest {_number(highest)}).</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
