"""Charts of a forecast: a fan chart of monthly cost and annual bars, as PNG and as one
self-contained HTML page (inline SVG with hover read-outs; no scripts fetched from anywhere)."""

from __future__ import annotations

import html
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


MILLION = 1e6
LEGEND_BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.22), "ncol": 5, "frameon": False}


def _subtitle(result: ForecastResult) -> str:
    text = f"as of {result.as_of}"
    if result.history_end:
        text += f"; price history to {result.history_end}"
    if result.warnings:
        text += " — STALE PRICE HISTORY, see the warning"
    return text


def write_png(result: ForecastResult, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    currency = result.config.currency
    months = list(result.monthly["month"])
    x = np.arange(len(months))
    fan = {k: np.asarray(v) / MILLION for k, v in fan_quantiles(result).items()}
    fig, (ax, ax_price) = plt.subplots(2, 1, figsize=(11, 8.5), sharex=True)
    ax.fill_between(x, fan[5], fan[95], color="#9ecae1", label="P5–P95")
    ax.fill_between(x, fan[25], fan[75], color="#4292c6", label="P25–P75")
    ax.plot(x, fan[50], color="#08306b", label="P50")
    ax.plot(
        x,
        result.monthly["expected"].astype(float) / MILLION,
        "--",
        color="#d94801",
        label="expected",
    )
    ax.plot(
        x,
        result.monthly["reserve"].astype(float) / MILLION,
        color="#a50f15",
        linewidth=1,
        label=f"reserve ({result.config.reserve_probability:.0%})",
    )
    ax.set_ylabel(f"million {currency} per month")
    ax.set_title(
        f"Monthly net support cost (positive: paid to producers)\n{_subtitle(result)}",
        fontsize=11,
    )
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if "price_p5" in result.monthly:
        ax_price.fill_between(
            x,
            result.monthly["price_p5"],
            result.monthly["price_p95"],
            color="#c7e9c0",
            label="P5–P95",
        )
        ax_price.plot(x, result.monthly["price_p50"], color="#00441b", label="P50")
        ax_price.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax_price.set_ylabel(f"reference price, {currency}/MWh")
    ax_price.set_title("Reference price fan", fontsize=11)
    step = max(1, len(months) // 12)
    ax_price.set_xticks(x[::step], months[::step], rotation=45, ha="right")
    fig.tight_layout()
    fan_path = out_dir / "forecast_fan.png"
    fig.savefig(fan_path, dpi=110)
    plt.close(fig)

    annual = result.annual
    fig, ax = plt.subplots(figsize=(10, 5.5))
    xa = np.arange(len(annual))
    m = {c: annual[c].astype(float) / MILLION for c in annual if c not in ("year", "months")}
    ax.bar(xa - 0.2, m["payments_out"], width=0.4, color="#fd8d3c", label="payments out")
    ax.bar(xa + 0.2, -m["paybacks_in"], width=0.4, color="#74c476", label="paybacks in")
    err = np.vstack([m["expected"] - m["p5"], m["p95"] - m["expected"]])
    ax.errorbar(xa, m["expected"], yerr=err, fmt="o", color="black", label="net: expected, P5–P95")
    ax.plot(
        xa,
        m["reserve"],
        "v",
        color="#a50f15",
        markersize=9,
        label=f"reserve ({result.config.reserve_probability:.0%})",
    )
    if "budget" in annual:
        ax.plot(
            xa, m["budget"], "_", color="#cb181d", markersize=34, markeredgewidth=2, label="budget"
        )
        for k in range(len(annual)):
            headroom = m["headroom_reserve"].iloc[k]
            ax.annotate(
                f"headroom at reserve\n{headroom:+,.1f} M",
                (xa[k], m["budget"].iloc[k]),
                textcoords="offset points",
                xytext=(12, 6),
                ha="left",
                fontsize=8,
            )
    ax.set_xticks(xa, [str(y) for y in annual["year"]])
    ax.set_ylabel(f"million {currency} per year")
    ax.set_title(f"Annual support cost\n{_subtitle(result)}", fontsize=11)
    bars_path = _save(fig, ax, out_dir / "forecast_annual.png")
    return [fan_path, bars_path]


def _save(fig: Any, ax: Any, path: Path) -> Path:
    """The finish: a zero line, the legend below the axes (clear of the data), saved, freed."""
    import matplotlib.pyplot as plt

    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(**LEGEND_BELOW)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _scale(values: list[float], lo: float, hi: float, top: float, bottom: float) -> list[float]:
    span = (hi - lo) or 1.0
    return [bottom - (v - lo) / span * (bottom - top) for v in values]


def _legend_svg(entries: list[tuple[str, str]], x: float, y: float) -> str:
    """A legend row under the plot area: (colour, label) swatches, clear of the data."""
    parts, offset = [], 0.0
    for colour, label in entries:
        parts.append(
            f'<rect x="{x + offset:.1f}" y="{y - 9}" width="14" height="10" fill="{colour}"/>'
            f'<text x="{x + offset + 18:.1f}" y="{y}" font-size="11">{html.escape(label)}</text>'
        )
        offset += 30 + 6.5 * len(label)
    return "".join(parts)


def fan_svg(
    months: list[str],
    bands: dict[int, list[float]],
    lines: list[tuple[str, list[float], str, str]],
    unit: str,
    decimals: int = 1,
) -> str:
    """A fan chart: `bands` holds quantile levels (5/95, optionally 25/75 and 50), `lines`
    (label, values, colour, dash) are drawn on top; every month reads out on hover."""
    width, height, left, right, top, bottom = 900, 390, 80, 20, 20, 320
    every = [v for values in bands.values() for v in values]
    every += [v for _, values, _, _ in lines for v in values]
    lo, hi = min(min(every), 0.0), max(max(every), 0.0)
    n = len(months)
    xs = [left + (k + 0.5) * (width - left - right) / n for k in range(n)]

    def band(a: list[float], b: list[float], colour: str) -> str:
        ya, yb = _scale(a, lo, hi, top, bottom), _scale(b, lo, hi, top, bottom)
        points = [f"{x:.1f},{y:.1f}" for x, y in zip(xs, yb, strict=True)]
        points += [f"{x:.1f},{y:.1f}" for x, y in zip(xs[::-1], ya[::-1], strict=True)]
        return f'<polygon points="{" ".join(points)}" fill="{colour}"/>'

    def line(values: list[float], colour: str, dash: str) -> str:
        ys = _scale(values, lo, hi, top, bottom)
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        return f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2" {dash}/>'

    zero = _scale([0.0], lo, hi, top, bottom)[0]
    legend = [("#9ecae1", "P5–P95")]
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    parts.append(band(bands[5], bands[95], "#9ecae1"))
    if 25 in bands:
        parts.append(band(bands[25], bands[75], "#4292c6"))
        legend.append(("#4292c6", "P25–P75"))
    if 50 in bands:
        parts.append(line(bands[50], "#08306b", ""))
        legend.append(("#08306b", "P50"))
    for label, values, colour, dash in lines:
        parts.append(line(values, colour, dash))
        legend.append((colour, label))
    parts += [
        f'<line x1="{left}" x2="{width - right}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#000"/>',
        f'<text x="4" y="{top + 10}" font-size="11">{html.escape(unit)}</text>',
        f'<text x="4" y="{top + 26}" font-size="11">{hi:,.{decimals}f}</text>',
        f'<text x="4" y="{bottom}" font-size="11">{lo:,.{decimals}f}</text>',
        _legend_svg(legend, left, height - 8),
    ]
    col_w = (width - left - right) / n
    for k, month in enumerate(months):
        readings = [f"P5 {bands[5][k]:,.{decimals}f}"]
        if 50 in bands:
            readings.append(f"P50 {bands[50][k]:,.{decimals}f}")
        readings.append(f"P95 {bands[95][k]:,.{decimals}f}")
        readings += [f"{label} {values[k]:,.{decimals}f}" for label, values, _, _ in lines]
        tip = f"{month} ({unit}): " + "; ".join(readings)
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


def bars_svg(annual: Any, unit: str, scale: float = MILLION) -> str:
    """Annual payments out and paybacks in as bars; the net's P5–P95, expected, reserve and
    budget marked, and the headroom at the reserve written above each year."""
    width, height, left, top, bottom = 900, 350, 80, 30, 280
    rows = annual.to_dict(orient="records")

    def v(row: dict[str, Any], name: str) -> float:
        return float(row[name]) / scale

    has_budget = "budget" in annual
    values = [0.0]
    for r in rows:
        values += [v(r, "payments_out"), -v(r, "paybacks_in"), v(r, "p5"), v(r, "p95")]
        values += [v(r, "reserve")] + ([v(r, "budget")] if has_budget else [])
    lo, hi = min(values), max(values)
    slot = (width - left - 20) / max(1, len(rows))
    zero = _scale([0.0], lo, hi, top, bottom)[0]
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">',
        f'<text x="4" y="{top - 12}" font-size="11">{html.escape(unit)}</text>',
        f'<text x="4" y="{top + 4}" font-size="11">{hi:,.1f}</text>',
        f'<text x="4" y="{bottom}" font-size="11">{lo:,.1f}</text>',
    ]
    for k, r in enumerate(rows):
        x0 = left + k * slot
        for offset, value, colour, name in (
            (0.1, v(r, "payments_out"), "#fd8d3c", "payments out"),
            (0.5, -v(r, "paybacks_in"), "#74c476", "paybacks in"),
        ):
            y = _scale([value], lo, hi, top, bottom)[0]
            tip = f"{r['year']} {name}: {abs(value):,.2f} {unit}"
            parts.append(
                f'<rect x="{x0 + offset * slot:.1f}" y="{min(y, zero):.1f}" '
                f'width="{0.4 * slot:.1f}" '
                f'height="{abs(zero - y):.1f}" fill="{colour}" data-tip="{html.escape(tip)}">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
        y5, y95, ye, yr = _scale(
            [v(r, "p5"), v(r, "p95"), v(r, "expected"), v(r, "reserve")], lo, hi, top, bottom
        )
        xc = x0 + 0.5 * slot
        tip = (
            f"{r['year']} net: expected {v(r, 'expected'):,.2f}, P5 {v(r, 'p5'):,.2f}, "
            f"P95 {v(r, 'p95'):,.2f}, reserve {v(r, 'reserve'):,.2f} {unit}"
        )
        parts.append(
            f'<line x1="{xc:.1f}" x2="{xc:.1f}" y1="{y5:.1f}" y2="{y95:.1f}" stroke="#000"/>'
            f'<circle cx="{xc:.1f}" cy="{ye:.1f}" r="5" data-tip="{html.escape(tip)}">'
            f"<title>{html.escape(tip)}</title></circle>"
            f'<line x1="{xc - 14:.1f}" x2="{xc + 14:.1f}" y1="{yr:.1f}" y2="{yr:.1f}" '
            f'stroke="#a50f15" stroke-width="3"/>'
            f'<text x="{xc:.1f}" y="{bottom + 18}" font-size="11" '
            f'text-anchor="middle">{r["year"]}</text>'
        )
        if has_budget:
            yb = _scale([v(r, "budget")], lo, hi, top, bottom)[0]
            headroom = v(r, "headroom_reserve")
            parts.append(
                f'<line x1="{x0 + 0.05 * slot:.1f}" x2="{x0 + 0.95 * slot:.1f}" y1="{yb:.1f}" '
                f'y2="{yb:.1f}" stroke="#cb181d" stroke-dasharray="4 3"/>'
                f'<text x="{xc + 18:.1f}" y="{min(yb, yr) - 6:.1f}" font-size="11">'
                f"headroom at reserve {headroom:+,.2f}</text>"
            )
    legend = [
        ("#fd8d3c", "payments out"),
        ("#74c476", "paybacks in"),
        ("#000000", "net: expected (dot), P5–P95 (line)"),
        ("#a50f15", "reserve"),
    ] + ([("#cb181d", "budget (dashed)")] if has_budget else [])
    parts.append(_legend_svg(legend, left, height - 10))
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


# Column headings of the HTML tables (unit in the heading, values with separators).
ANNUAL_COLUMNS = {
    "year": "Year",
    "months": "Months",
    "expected": "Expected net cost",
    "expected_se": "± s.e.",
    "p5": "P5",
    "p50": "P50",
    "p95": "P95",
    "reserve": "Reserve",
    "reserve_se": "Reserve ± s.e.",
    "scenarios_needed": "Scenarios needed",
    "payments_out": "Payments out",
    "paybacks_in": "Paybacks in",
    "budget": "Budget",
    "headroom_expected": "Headroom at expected",
    "headroom_reserve": "Headroom at reserve",
}
MONTHLY_COLUMNS = {
    "month": "Month",
    "expected": "Expected net cost",
    "p5": "P5",
    "p50": "P50",
    "p95": "P95",
    "reserve": "Reserve",
    "price_p5": "Price P5",
    "price_p50": "Price P50",
    "price_p95": "Price P95",
}
LABEL_COLUMNS = ("year", "months", "month")


def _cell(column: str, value: Any) -> str:
    """Money in millions (two decimals), prices per MWh, counts grouped; labels as they are."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if column in LABEL_COLUMNS:
        return html.escape(str(value))
    if column == "scenarios_needed":
        return f"{int(value):,}"
    if column.startswith("price_"):
        return f"{float(value):,.2f}"
    return f"{float(value) / MILLION:,.2f}"


def html_table(frame: Any, columns: dict[str, str], caption: str) -> str:
    shown = [c for c in columns if c in frame]
    head = "".join(f'<th scope="col">{html.escape(columns[c])}</th>' for c in shown)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(c, row[c])}</td>" for c in shown) + "</tr>"
        for row in frame.to_dict(orient="records")
    )
    return (
        f'<div class="scroll"><table><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def write_html(result: ForecastResult, out_dir: Path) -> Path:
    currency = result.config.currency
    monthly = result.monthly
    months = list(monthly["month"])
    fan = {k: [v / MILLION for v in values] for k, values in fan_quantiles(result).items()}
    cost_lines = [
        (
            "expected",
            [float(v) / MILLION for v in monthly["expected"]],
            "#d94801",
            'stroke-dasharray="6 4"',
        ),
        (
            f"reserve ({result.config.reserve_probability:.0%})",
            [float(v) / MILLION for v in monthly["reserve"]],
            "#a50f15",
            "",
        ),
    ]
    warnings = "".join(f'<p class="warning">{html.escape(w)}</p>' for w in result.warnings)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    price_fan = ""
    if "price_p5" in monthly:
        price = {
            k: monthly[c].astype(float).tolist()
            for k, c in ((5, "price_p5"), (50, "price_p50"), (95, "price_p95"))
        }
        price_fan = f"<h2>Reference price fan ({currency}/MWh)</h2>" + fan_svg(
            months, price, [], f"{currency}/MWh", decimals=0
        )
    probability = f"{result.config.reserve_probability:.0%}"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Support cost forecast</title>
<style>body{{font-family:sans-serif;margin:2em auto;max-width:1400px;padding:0 1em}}
.scroll{{overflow-x:auto}}table{{border-collapse:collapse;margin:1em 0}}
caption{{text-align:left;font-weight:bold;padding:4px 0}}
td,th{{padding:3px 8px;text-align:right;border-bottom:1px solid #ddd}}
td{{white-space:nowrap}}th{{vertical-align:bottom;max-width:7em}}
.warning{{background:#fee;border:2px solid #c00;padding:8px;font-weight:bold}}
#tip{{position:absolute;display:none;background:#fff;border:1px solid #888;padding:4px;
font-size:12px}}</style></head><body>
<h1>Support cost forecast</h1>{warnings}
<p>As of <strong>{html.escape(result.as_of)}</strong>{
        f"; price history to {html.escape(result.history_end)}" if result.history_end else ""
    }.
{result.scenarios:,} scenarios × {result.contracts:,} contracts × {len(months)} months from
{html.escape(result.config.start_month)} ({html.escape(result.mode)} mode, seed
{result.config.seed}); amounts in {currency}, positive = paid to producers; the reserve covers
a period's net payments with probability {probability}; ± s.e. is the Monte Carlo standard
error.</p>
<h2>Monthly net cost (million {currency})</h2>
{fan_svg(months, fan, cost_lines, f"million {currency}/month", decimals=2)}
{price_fan}
<h2>Annual net cost (million {currency})</h2>{bars_svg(result.annual, f"million {currency}/year")}
{html_table(result.annual, ANNUAL_COLUMNS, f"Per calendar year, million {currency}")}
{html_table(monthly, MONTHLY_COLUMNS, f"Per month, million {currency}; prices {currency}/MWh")}
<h2>What the forecast approximates</h2><ul>{notes or "<li>nothing for this portfolio</li>"}</ul>
<div id="tip"></div><script>{_SCRIPT}</script></body></html>"""
    path = out_dir / "forecast.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_charts(result: ForecastResult, out_dir: Path) -> list[Path]:
    return [*write_png(result, out_dir), write_html(result, out_dir)]
