"""Number and time formatting, and the SVG charts' geometry, against hand-worked values."""

from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from api.web import charts, i18n
from api.web.format import day, exact, grouped, local_time, money_minor, month_name, typed_number


def test_grouped_numbers_keep_every_digit_and_use_a_real_minus():
    assert grouped(Decimal("15190.00")) == "15,190.00"
    assert grouped(Decimal("-2730.5"), 2) == "−2,730.50"
    assert grouped(1234567) == "1,234,567"
    assert grouped(Decimal("0.005"), 2) == "0.01"  # half-up
    assert grouped(None) == "—"
    assert money_minor(-123456789, "GEL") == "−1,234,567.89"


def test_exact_shows_at_least_two_places_and_never_drops_digits():
    assert exact(Decimal("101.500000")) == "101.50"
    assert exact(Decimal("101.123456")) == "101.123456"
    assert exact(Decimal("49")) == "49.00"


def test_georgian_pages_write_numbers_and_months_the_georgian_way():
    i18n.use("ka")
    try:
        # Grouping by a no-break space, a decimal comma (CLDR's Georgian), every digit kept.
        assert grouped(Decimal("-1234567.5"), 2) == "−1\u00a0234\u00a0567,50"
        assert month_name("2022-01") == "იანვარი 2022"
        assert day(datetime(2022, 3, 5).date()) == "5 მარტი, 2022"
        # What a Georgian user types, as the engine reads it; anything else as typed.
        assert typed_number("1 500,25") == typed_number("1\u00a0500,25") == "1500.25"
        assert typed_number("140,00") == "140.00"
        assert typed_number("12abc") == "12abc" and typed_number("NaN") == "NaN"
    finally:
        i18n.use("en")
    assert typed_number("1,500.25") == "1500.25" and month_name("2022-01") == "January 2022"


def test_instants_are_shown_in_tbilisi_time():
    # Tbilisi is UTC+4 all year (no daylight saving since 2005).
    assert local_time(datetime(2022, 1, 31, 20, 30, tzinfo=UTC)) == "2022-02-01 00:30 +04"
    assert local_time(datetime(2022, 7, 1, 0, 0)) == "2022-07-01 04:00 +04"  # naive = UTC


def _rects(svg: str, cls: str) -> list[dict[str, float]]:
    out = []
    for match in re.finditer(rf'<rect class="{cls}" ([^>]*)>', svg):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        out.append({k: float(v) for k, v in attrs.items()})
    return out


def test_money_bars_are_proportional_to_the_amounts():
    svg = str(
        charts.money_in_out(
            ["2022-01", "2022-02", "2022-03"],
            [Decimal("16709.00"), Decimal(0), Decimal("4000")],
            [Decimal(0), Decimal("2730.00"), Decimal("1000")],
            "GEL",
        )
    )
    bars_in, bars_out = _rects(svg, "bar-in"), _rects(svg, "bar-out")
    assert len(bars_in) == 2 and len(bars_out) == 2  # no zero-height bars
    # One scale for every bar: pixels per GEL from the largest bar, heights to 0.1 px.
    scale = bars_in[0]["height"] / 16709
    for bar, amount in zip(bars_in + bars_out, (16709, 4000, 2730, 1000), strict=True):
        assert math.isclose(bar["height"], amount * scale, abs_tol=0.11)
    # Money in rises above the zero line, money out hangs below it.
    zero = float(re.search(r'<line class="zero" [^>]*y1="([\d.]+)"', svg).group(1))
    assert all(math.isclose(b["y"] + b["height"], zero, abs_tol=0.11) for b in bars_in)
    assert all(math.isclose(b["y"], zero, abs_tol=0.11) for b in bars_out)
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg


def test_fan_median_lies_inside_the_band():
    p5 = [Decimal(v) for v in ("-100", "-50", "0", "20")]
    p50 = [Decimal(v) for v in ("0", "10", "40", "60")]
    p95 = [Decimal(v) for v in ("100", "90", "80", "120")]
    svg = str(charts.fan(["a", "b", "c", "d"], p5, p50, p95, "GEL"))
    band = re.search(r'<polygon class="band" points="([^"]+)"', svg).group(1).split()
    median = re.search(r'<polyline class="median" points="([^"]+)"', svg).group(1).split()
    assert len(band) == 8 and len(median) == 4
    upper, lower = band[:4], band[4:][::-1]
    for top, bottom, mid in zip(upper, lower, median, strict=True):
        y_top, y_bottom, y_mid = (float(p.split(",")[1]) for p in (top, bottom, mid))
        assert y_top <= y_mid <= y_bottom  # SVG y grows downwards


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e9, 1e9), st.floats(0.001, 1e10))
def test_ticks_cover_the_range_in_round_steps(lo, span):
    # Chart ranges include zero or are wide against their offset (budgets, money).
    assume(span >= abs(lo) * 1e-3)
    hi = lo + span
    ticks = charts.nice_ticks(lo, hi)
    assert ticks[0] <= lo + 1e-6 * span and ticks[-1] >= hi - 1e-6 * span
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 5, 10))
    assert max(steps) - min(steps) <= step * 1e-6 + 1e-6
    assert 2 <= len(ticks) <= 12
