"""Server-side SVG charts. Each has a `<title>` and `<desc>` (named by `aria-labelledby`),
and the page prints the same numbers in a table beneath it, so nothing is only visual.

Coordinates are floats (geometry, not money); the values shown in labels come from the
exact decimals the caller passes in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

from api.web.format import grouped
from api.web.i18n import _

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 88, 44, 24, 48


@dataclass(frozen=True)
class Frame:
    """Maps data values to the plot area."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    def x(self, value: float) -> float:
        span = (self.x_hi - self.x_lo) or 1.0
        return LEFT + (value - self.x_lo) / span * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        span = (self.y_hi - self.y_lo) or 1.0
        return TOP + (self.y_hi - value) / span * (HEIGHT - TOP - BOTTOM)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart)."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    count_needed = math.ceil((hi - first) / step - 1e-9)
    ticks = [round(first + index * step, 10) for index in range(count_needed + 1)]
    return ticks


def _open(chart_id: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _y_axis(frame: Frame, ticks: list[float], unit: str) -> list[str]:
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(grouped(Decimal(repr(tick)).normalize()))}</text>"
        )
    parts.append(
        f'<text class="axis-label" x="12" y="{TOP + 4}" '
        f'transform="rotate(-90 12 {TOP + 4})" text-anchor="end">{escape(unit)}</text>'
    )
    return parts


def money_in_out(
    months: Sequence[str],
    money_in: Sequence[Decimal],
    money_out: Sequence[Decimal],
    currency: str,
    chart_id: str = "money-chart",
) -> Markup:
    """Bars per month: paid to the producer above zero, paid by the producer below."""
    top = max([float(v) for v in money_in] + [0.0])
    bottom = -max([float(v) for v in money_out] + [0.0])
    ticks = nice_ticks(bottom, top)
    frame = Frame(0, max(len(months), 1), min(ticks), max(ticks))
    parts = _open(
        chart_id,
        _("Money in and out by month ({currency})").format(currency=currency),
        _(
            "For each month, bars above the zero line are paid to the producer and bars "
            "below are paid by the producer, in {currency}. The table below lists the "
            "same amounts."
        ).format(currency=currency),
    )
    parts += _y_axis(frame, ticks, currency)
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    bar = min(slot * 0.6, 48)
    zero = frame.y(0)
    for index, (month, paid_in, paid_out) in enumerate(
        zip(months, money_in, money_out, strict=True)
    ):
        x = frame.x(index) + (slot - bar) / 2
        if paid_in:
            y = frame.y(float(paid_in))
            parts.append(
                f'<rect class="bar-in" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{zero - y:.1f}"><title>{escape(month)}: '
                f"{grouped(paid_in)} {currency} {escape(_('paid to the producer'))}</title></rect>"
            )
        if paid_out:
            y = frame.y(-float(paid_out))
            parts.append(
                f'<rect class="bar-out" x="{x:.1f}" y="{zero:.1f}" width="{bar:.1f}" '
                f'height="{y - zero:.1f}"><title>{escape(month)}: '
                f"{grouped(paid_out)} {currency} {escape(_('paid by the producer'))}</title></rect>"
            )
        parts.append(
            f'<text class="tick" x="{x + bar / 2:.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle">{escape(month)}</text>'
        )
    parts.append(
        f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{zero:.1f}" y2="{zero:.1f}"/>'
    )
    parts += _legend(
        (("legend-in", _("paid to the producer")), ("legend-out", _("paid by the producer")))
    )
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _legend(entries: Sequence[tuple[str, str]]) -> list[str]:
    return [
        f'<text class="legend {cls}" x="{LEFT + 10 + 200 * index}" y="{TOP - 8}">'
        f"■ {escape(label)}</text>"
        for index, (cls, label) in enumerate(entries)
    ]


def lines(
    series: Mapping[str, Sequence[tuple[Decimal, Decimal]]],
    x_unit: str,
    y_unit: str,
    title: str,
    desc: str,
    chart_id: str,
    marker: tuple[Decimal, str] | None = None,
) -> Markup:
    """One polyline per named series (e.g. the budget curve by method), each with its own dash
    pattern and point shape, so series that coincide still show as distinct marks; `marker`
    draws a labelled vertical line at one x value (e.g. the round's budget)."""
    xs = [float(x) for points in series.values() for x, _ in points]
    if marker is not None:
        xs.append(float(marker[0]))
    ys = [float(y) for points in series.values() for _, y in points] + [0.0]
    if not xs:
        xs = [0.0, 1.0]
    x_ticks = nice_ticks(min(xs), max(xs))
    y_ticks = nice_ticks(min(ys), max(ys))
    frame = Frame(min(x_ticks), max(x_ticks), min(y_ticks), max(y_ticks))
    parts = _open(chart_id, title, desc) + _y_axis(frame, y_ticks, y_unit)
    for tick in x_ticks:
        parts.append(
            f'<text class="tick" x="{frame.x(tick):.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle">{escape(grouped(Decimal(repr(tick)).normalize()))}'
            f"</text>"
        )
    parts.append(
        f'<text class="axis-label" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" '
        f'text-anchor="end">{escape(x_unit)}</text>'
    )
    spacing = min(200, (WIDTH - LEFT - RIGHT) // max(len(series), 1))
    for index, (name, points) in enumerate(series.items()):
        coords = " ".join(f"{frame.x(float(x)):.1f},{frame.y(float(y)):.1f}" for x, y in points)
        parts.append(f'<g class="series series-{index}"><title>{escape(name)}</title>')
        parts.append(f'<polyline points="{coords}"/>')
        for x, y in points:
            label = f"{escape(name)}: {grouped(x)} {escape(x_unit)} → {grouped(y)} {escape(y_unit)}"
            parts.append(_point(index, frame.x(float(x)), frame.y(float(y)), label))
        parts.append("</g>")
        parts.append(
            f'<text class="legend series-{index}" x="{LEFT + 10 + spacing * index}" '
            f'y="{TOP - 8}">{SHAPE_GLYPHS[index % len(SHAPE_GLYPHS)]} '
            f"{escape(name.replace('_', ' '))}</text>"
        )
    if marker is not None:
        at = frame.x(float(marker[0]))
        parts.append(
            f'<line class="marker" x1="{at:.1f}" x2="{at:.1f}" y1="{TOP}" '
            f'y2="{HEIGHT - BOTTOM}"><title>{escape(marker[1])}: {grouped(marker[0])} '
            f"{escape(x_unit)}</title></line>"
        )
        parts.append(
            f'<text class="marker-label" x="{at - 4:.1f}" y="{TOP + 14}" text-anchor="end">'
            f"{escape(marker[1])}</text>"
        )
    parts.append("</svg>")
    return Markup("\n".join(parts))


SHAPE_GLYPHS = ("●", "■", "▲", "◆")


def _point(index: int, x: float, y: float, label: str) -> str:
    """A point mark whose shape and size differ by series: coinciding points of two series
    show as a larger shape around a smaller one."""
    shape = index % len(SHAPE_GLYPHS)
    if shape == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7"><title>{label}</title></circle>'
    if shape == 1:
        return (
            f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8">'
            f"<title>{label}</title></rect>"
        )
    corners = ((0, -5), (-4.5, 3), (4.5, 3)) if shape == 2 else ((0, -3), (3, 0), (0, 3), (-3, 0))
    points = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)
    return f'<polygon points="{points}"><title>{label}</title></polygon>'


def fan(
    months: Sequence[str],
    p5: Sequence[Decimal],
    p50: Sequence[Decimal],
    p95: Sequence[Decimal],
    currency: str,
    chart_id: str = "fan-chart",
) -> Markup:
    """The P5–P95 band with the P50 line: monthly net support cost."""
    values = [float(v) for v in (*p5, *p95)] + [0.0]
    ticks = nice_ticks(min(values), max(values))
    frame = Frame(0, max(len(months) - 1, 1), min(ticks), max(ticks))
    parts = _open(
        chart_id,
        _("Forecast of monthly net support cost ({currency})").format(currency=currency),
        _(
            "The shaded band runs from the 5th to the 95th percentile of the scenarios; "
            "the line is the median (P50). Positive: paid to producers; negative: paid "
            "back by producers. The table below lists the same values."
        ),
    )
    parts += _y_axis(frame, ticks, currency)
    upper = [f"{frame.x(i):.1f},{frame.y(float(v)):.1f}" for i, v in enumerate(p95)]
    lower = [f"{frame.x(i):.1f},{frame.y(float(v)):.1f}" for i, v in enumerate(p5)]
    parts.append(
        f'<polygon class="band" points="{" ".join(upper + lower[::-1])}">'
        f"<title>{escape(_('P5–P95 band'))}</title></polygon>"
    )
    median = " ".join(f"{frame.x(i):.1f},{frame.y(float(v)):.1f}" for i, v in enumerate(p50))
    parts.append(f'<polyline class="median" points="{median}"><title>P50</title></polyline>')
    zero = frame.y(0)
    parts.append(
        f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{zero:.1f}" y2="{zero:.1f}"/>'
    )
    parts += _legend((("legend-band", _("P5–P95 band")), ("legend-median", _("P50 (median)"))))
    step = max(1, math.ceil(len(months) / 12))
    for index in range(0, len(months), step):
        parts.append(
            f'<text class="tick" x="{frame.x(index):.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle">{escape(months[index])}</text>'
        )
    parts.append("</svg>")
    return Markup("\n".join(parts))
