"""Reference prices: interval look-ups, monthly baseload and weighted means, negative-price runs.

Alignment of meter and price intervals: prices are brought to the meter resolution first
(`PriceSeries.at_resolution`: an hourly price applies to each of its quarter-hours; an hourly
value from quarter-hour prices is their mean rounded to 0.01). Monthly means use the series' own
intervals. Means are rounded half-up to 0.01 per MWh once, and that R is what the line records.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from mzekari.months import NS_PER_S, month_bounds_ns
from settlement.price_io import Profile
from settlement.prices import PriceSeries, from_hundredths

UNKNOWN = -1  # a negative run that touches the end of the data: its full length is not known


def div_half_up(numerator: int, denominator: int) -> int:
    q = (2 * abs(numerator) + denominator) // (2 * denominator)
    return -q if numerator < 0 else q


def lookup(
    series: PriceSeries, starts_ns: np.ndarray, resolution_s: int, month: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(price hundredths, has_price, position in the aligned series or -1) per meter interval."""
    n = len(starts_ns)
    if series.is_monthly:
        value = series.monthly.get(month)
        ok = np.full(n, value is not None)
        return np.full(n, value or 0, dtype=np.int64), ok, np.full(n, -1, dtype=np.int64)
    s_starts, s_values, s_ok = series.at_resolution(resolution_s)
    if len(s_starts) == 0 or n == 0:
        return np.zeros(n, np.int64), np.zeros(n, bool), np.full(n, -1, np.int64)
    pos = (starts_ns - s_starts[0]) // (resolution_s * NS_PER_S)
    if pos.min() >= 0 and pos.max() < len(s_starts):  # the usual case: all inside the series
        ok = s_ok[pos]
        values = s_values[pos]
        return (values if ok.all() else np.where(ok, values, 0)), ok, pos
    valid = (pos >= 0) & (pos < len(s_starts))
    safe = np.where(valid, pos, 0)
    ok = valid & s_ok[safe]
    return np.where(ok, s_values[safe], 0), ok, np.where(valid, pos, -1)


def negative_flags(series: PriceSeries, resolution_s: int, run_hours: int) -> np.ndarray:
    """Per aligned interval: 1 inside a qualifying negative-price run, 0 not, UNKNOWN unsure.

    Zero is not negative. A run counts whole, across month boundaries, so the rule looks at the
    series beyond the settled month; a short run touching the end of the data is UNKNOWN.
    """
    key = -(run_hours + 1) * 100_000 - resolution_s  # negative keys: flags, not prices
    cached = series._cache.get(key)
    if cached is not None:
        return cached[0]
    _, values, ok = series.at_resolution(resolution_s)
    neg = ok & (values < 0)
    if run_hours == 0:
        flags = neg.astype(np.int8)
    else:
        padded = np.concatenate(([False], neg, [False])).astype(np.int8)
        edges = np.diff(padded)
        run_start, run_end = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        length_s = (run_end - run_start) * resolution_s
        flags = np.zeros(len(neg), dtype=np.int8)
        for a, b, secs in zip(run_start, run_end, length_s, strict=True):
            if secs >= run_hours * 3600:
                flags[a:b] = 1
            elif a == 0 or b == len(neg):
                flags[a:b] = UNKNOWN
    series._cache[key] = (flags, flags, flags)
    return flags


def baseload(series: PriceSeries, month: str, tz: str) -> tuple[int, int] | None:
    """(mean hundredths, intervals) of a complete month, or None when any price is missing."""
    if series.is_monthly:
        value = series.monthly.get(month)
        return None if value is None else (value, 1)
    lo, hi = month_bounds_ns(month, tz)
    starts = series.starts_utc_ns
    a, b = int(np.searchsorted(starts, lo)), int(np.searchsorted(starts, hi))
    expected = (hi - lo) // (series.resolution_s * NS_PER_S)
    if b - a != expected or not series.has_price[a:b].all():
        return None
    total = int(series.price_hundredths[a:b].sum())
    return div_half_up(total, b - a), b - a


def profile_weighted(
    series: PriceSeries, profile: Profile, month: str, tz: str
) -> tuple[int, int] | None:
    """Σ p·g / Σ g over the month at the profile's resolution, or None if incomplete."""
    lo, hi = month_bounds_ns(month, tz)
    starts = profile.starts_utc_ns
    a, b = int(np.searchsorted(starts, lo)), int(np.searchsorted(starts, hi))
    expected = (hi - lo) // (profile.resolution_s * NS_PER_S)
    if b - a != expected:
        return None
    weights = profile.weight_milli[a:b]
    prices, ok, _ = lookup(series, starts[a:b], profile.resolution_s, month)
    total_weight = int(weights.sum())
    if not ok.all() or total_weight <= 0:
        return None
    # Python ints: Σ p·g can pass 2**63 for national profiles.
    numerator = sum(int(p) * int(g) for p, g in zip(prices.tolist(), weights.tolist(), strict=True))
    return div_half_up(numerator, total_weight), b - a


def month_labels(starts_ns: np.ndarray, tz: str) -> np.ndarray:
    import pandas as pd

    local = pd.DatetimeIndex(pd.to_datetime(starts_ns, utc=True)).tz_convert(tz)
    return np.asarray(local.year * 100 + local.month, dtype=np.int64)


def monthly_reference_table(
    prices: PriceSeries, tz: str, weights: Any = None
) -> list[tuple[str, Decimal | None, int, str]]:
    """(month, price or None, priced intervals, what is missing) for every month the data
    touches; a month that cannot be computed says which intervals it lacks."""
    if prices.is_monthly:
        return [(m, from_hundredths(v), 1, "") for m, v in sorted(prices.monthly.items())]
    base = weights.starts_utc_ns if weights is not None else prices.starts_utc_ns
    out: list[tuple[str, Decimal | None, int, str]] = []
    for label in np.unique(month_labels(base, tz)):
        month = f"{label // 100:04d}-{label % 100:02d}"
        if weights is None:
            result = baseload(prices, month, tz)
        else:
            result = profile_weighted(prices, weights, month, tz)
        if result is not None:
            out.append((month, from_hundredths(result[0]), result[1], ""))
        else:
            out.append((month, None, 0, shortfall(prices, month, tz, weights)))
    return out


def shortfall(prices: PriceSeries, month: str, tz: str, weights: Profile | None) -> str:
    """Which intervals of `month` lack a price (or generation), for the report."""
    import pandas as pd

    lo, hi = month_bounds_ns(month, tz)
    grid = weights if weights is not None else prices
    step = grid.resolution_s * NS_PER_S
    expected = np.arange(lo, hi, step, dtype=np.int64)
    present = np.isin(expected, grid.starts_utc_ns)
    priced, ok, _ = lookup(prices, expected, grid.resolution_s, month)
    del priced
    lacking = expected[~(present & ok)]
    parts = []
    if len(lacking):
        first = ", ".join(
            pd.Timestamp(int(t), tz="UTC").tz_convert(tz).isoformat() for t in lacking[:5]
        )
        more = f" and {len(lacking) - 5} more" if len(lacking) > 5 else ""
        what = "price or generation" if weights is not None else "price"
        parts.append(f"{len(lacking)} of {len(expected)} intervals without a {what}: {first}{more}")
    elif weights is not None:
        parts.append("no generation in the month (weights sum to zero)")
    return "; ".join(parts)
