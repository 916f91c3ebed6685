"""Charts of a forecast: a fan chart of monthly cost and annual bars, as PNG and as one
self-contained HTML page (inline SVG with hover read-outs; no scripts fetched from anywhere)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from treasury.result import ForecastResult

FAN_LEVELS = (5, 25, 50, 75, 95)


def fan_quantiles(result: ForecastResult) -> dict[int, list[float]]:
    """Monthly net-cost quantiles for the fan (from all scenario totals when kept)."""
    if result.scenario_totals is not None:
        q = np.percentile(result.scenario_totals, FAN_LEVELS, axis=0)
        return {level: q[k].tolist() for k, level in enumerate(FAN_LEVELS)}
    monthly = result.monthly
    fallback = {5: "p5", 25: "p5", 50: "p50", 75: "p95", 95: "p95"}
    return {level: monthly[fallback[level]].astype(float).tolist() for level in FAN_LEVELS}


def write_png(result: ForecastResult, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    currency = result.config.currency
    months = list(result.monthly["month"])
    x = np.arange(len(months))
    fan = fan_quantiles(result)
    fig, ax = plt.subplots(figsize=(11, 5))
    ax.fill_between(x, fan[5], fan[95], color="#9ecae1", label="P5–P95")
    ax.fill_between(x, fan[25], fan[75], color="#4292c6", label="P25–P75")
    ax.plot(x, fan[50], color="#08306b", label="P50")
    ax.plot(x, result.monthly["expected"], color="#d94801", linestyle="--", label="expected")
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], months[::step], rotation=45, ha="right")
    ax.set_ylabel(f"net support cost, {currency} per month")
    ax.set_title("Monthly support cost (positive: paid to producers)")
    fan_path = _save(fig, ax, out_dir / "forecast_fan.png")

    annual = result.annual
    fig, ax = plt.subplots(figsize=(9, 5))
    xa = np.arange(len(annual))
    ax.bar(xa - 0.2, annual["payments_out"], width=0.4, color="#fd8d3c", label="payments out")
    ax.bar(xa + 0.2, -annual["paybacks_in"], width=0.4, color="#74c476", label="paybacks in")
    err = np.vstack([annual["expected"] - annual["p5"], annual["p95"] - annual["expected"]])
    ax.errorbar(xa, annual["expected"], yerr=err, fmt="o", color="black", label="net, P5–P95")
    if "budget" in annual:
        ax.plot(xa, annual["budget"], "r_", markersize=30, label="budget")
    ax.set_xticks(xa, [str(y) for y in annual["year"]])
    ax.set_ylabel(f"{currency} per year")
    ax.set_title("Annual support cost")
    bars_path = _save(fig, ax, out_dir / "forecast_annual.png")
    return [fan_path, bars_path]


def _save(fig: Any, ax: Any, path: Path) -> Path:
    """The finish both charts share: a zero line, the legend, the PNG written, the figure freed."""
    import matplotlib.pyplot as plt

    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _scale(values: list[float], lo: float, hi: float, top: float, bottom: float) -> list[float]:
    span = (hi - lo) or 1.0
    return [bottom - (v - lo) / span * (bottom - top) for v in values]


def fan_svg(
    months: list[str], fan: dict[int, list[float]], expected: list[float], unit: str
) -> str:
    width, height, left, right, top, bottom = 900, 360, 80, 20, 20, 320
    lo = min(min(fan[5]), 0.0)
    hi = max(max(fan[95]), 0.0)
    n = len(months)
    xs = [left + (k + 0.5) * (width - left - right) / n for k in range(n)]

    def band(a: list[float], b: list[float], colour: str) -> str:
        ya, yb = _scale(a, lo, hi, top, bottom), _scale(b, lo, hi, top, bottom)
        points = [f"{x:.1f},{y:.1f}" for x, y in zip(xs, yb, strict=True)]
        points += [f"{x:.1f},{y:.1f}" for x, y in zip(xs[::-1], ya[::-1], strict=True)]
        return f'<polygon points="{" ".join(points)}" fill="{colour}"/>'

    def line(values: list[float], colour: str, dash: str = "") -> str:
        ys = _scale(values, lo, hi, top, bottom)
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        return f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2" {dash}/>'

    zero = _scale([0.0], lo, hi, top, bottom)[0]
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">',
        band(fan[5], fan[95], "#9ecae1"),
        band(fan[25], fan[75], "#4292c6"),
        line(fan[50], "#08306b"),
        line(expected, "#d94801", 'stroke-dasharray="6 4"'),
        f'<line x1="{left}" x2="{width - right}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#000"/>',
        f'<text x="4" y="{top + 10}" font-size="11">{html.escape(unit)}</text>',
        f'<text x="4" y="{top + 26}" font-size="11">{hi:,.0f}</text>',
        f'<text x="4" y="{bottom}" font-size="11">{lo:,.0f}</text>',
    ]
    col_w = (width - left - right) / n
    for k, month in enumerate(months):
        tip = (
            f"{month}: expected {expected[k]:,.0f}; P5 {fan[5][k]:,.0f}; P50 {fan[50][k]:,.0f}; "
            f"P95 {fan[95][k]:,.0f}"
        )
        parts.append(
            f'<rect class="hit" x="{xs[k] - col_w / 2:.1f}" y="{top}" width="{col_w:.1f}" '
            f'height="{bottom - top}" fill="transparent" data-tip="{html.escape(tip)}">'
            f"<title>{html.escape(tip)}</title></rect>"
        )
        if k % max(1, n // 12) == 0:
            parts.append(
                f'<text x="{xs[k]:.1f}" y="{bottom + 16}" font-size="10" '
                f'text-anchor="middle">{month}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(annual: Any, unit: str) -> str:
    width, height, left, top, bottom = 900, 320, 80, 20, 280
    rows = annual.to_dict(orient="records")
    values = [float(r["payments_out"]) for r in rows] + [-float(r["paybacks_in"]) for r in rows]
    values += [float(r["p95"]) for r in rows] + [float(r["p5"]) for r in rows] + [0.0]
    lo, hi = min(values), max(values)
    slot = (width - left - 20) / max(1, len(rows))
    zero = _scale([0.0], lo, hi, top, bottom)[0]
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">',
        f'<text x="4" y="{top + 10}" font-size="11">{html.escape(unit)}</text>',
    ]
    for k, r in enumerate(rows):
        x0 = left + k * slot
        for offset, value, colour, name in (
            (0.1, float(r["payments_out"]), "#fd8d3c", "payments out"),
            (0.5, -float(r["paybacks_in"]), "#74c476", "paybacks in"),
        ):
            y = _scale([value], lo, hi, top, bottom)[0]
            tip = f"{r['year']} {name}: {abs(value):,.0f}"
            parts.append(
                f'<rect x="{x0 + offset * slot:.1f}" y="{min(y, zero):.1f}" '
                f'width="{0.4 * slot:.1f}" '
                f'height="{abs(zero - y):.1f}" fill="{colour}" data-tip="{html.escape(tip)}">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
        y5, y95, ye = _scale(
            [float(r["p5"]), float(r["p95"]), float(r["expected"])], lo, hi, top, bottom
        )
        xc = x0 + 0.5 * slot
        tip = (
            f"{r['year']} net: expected {float(r['expected']):,.0f}, "
            f"P5 {float(r['p5']):,.0f}, P95 {float(r['p95']):,.0f}"
        )
        parts.append(
            f'<line x1="{xc:.1f}" x2="{xc:.1f}" y1="{y5:.1f}" y2="{y95:.1f}" stroke="#000"/>'
            f'<circle cx="{xc:.1f}" cy="{ye:.1f}" r="5" data-tip="{html.escape(tip)}">'
            f"<title>{html.escape(tip)}</title></circle>"
            f'<text x="{xc:.1f}" y="{bottom + 18}" font-size="11" '
            f'text-anchor="middle">{r["year"]}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - 20}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#000"/></svg>'
    )
    return "".join(parts)


_SCRIPT = """
const box = document.getElementById('tip');
document.querySelectorAll('[data-tip]').forEach(el => {
  el.addEventListener('mousemove', e => { box.textContent = el.dataset.tip;
    box.style.left = (e.pageX + 12) + 'px'; box.style.top = (e.pageY + 12) + 'px';
    box.style.display = 'block'; });
  el.addEventListener('mouseleave', () => { box.style.display = 'none'; });
});
"""


def write_html(result: ForecastResult, out_dir: Path) -> Path:
    from treasury.result import _as_text

    currency = result.config.currency
    months = list(result.monthly["month"])
    fan = fan_quantiles(result)
    expected = result.monthly["expected"].astype(float).tolist()
    table = _as_text(result.annual, currency).to_html(index=False, border=0)
    summary = {k: v for k, v in result.summary().items() if k not in ("monthly", "annual")}
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Support cost forecast</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1000px}}table{{border-collapse:collapse}}
td,th{{padding:2px 8px;text-align:right}}#tip{{position:absolute;display:none;background:#fff;
border:1px solid #888;padding:4px;font-size:12px}}</style></head><body>
<h1>Support cost forecast</h1>
<p>{result.scenarios} scenarios × {result.contracts} contracts × {len(months)} months from
{html.escape(result.config.start_month)}; positive = paid to producers; reserve at
{result.config.reserve_probability:.0%}.</p>
<h2>Monthly net cost ({currency})</h2>{fan_svg(months, fan, expected, currency + "/month")}
<h2>Annual ({currency})</h2>{bars_svg(result.annual, currency + "/year")}
{table}
<h2>Run</h2><pre>{html.escape(json.dumps(summary, indent=1, default=str))}</pre>
<div id="tip"></div><script>{_SCRIPT}</script></body></html>"""
    path = out_dir / "forecast.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_charts(result: ForecastResult, out_dir: Path) -> list[Path]:
    return [*write_png(result, out_dir), write_html(result, out_dir)]
