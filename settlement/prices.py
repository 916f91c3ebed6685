"""Price series: interval series (15/60 min) or monthly series, held as exact integers.

Prices are int64 hundredths of a currency unit per MWh (prices are quoted to 0.01/MWh).
An interval series has no gaps between its first and last interval; an interval may be present
without a price (SMARD's "-", an empty cell): `has_price` is False there and a contract's
fallback series is used for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from mzekari.errors import InputError, ProblemCollector
from mzekari.money import D
from mzekari.months import NS_PER_S, parse_month

RESOLUTIONS_S = (900, 3600)


@dataclass(frozen=True, eq=False)
class PriceSeries:
    """One named price series. `resolution_s` is 900 or 3600, or 0 for a monthly series."""

    series: str
    source: str
    resolution_s: int
    starts_utc_ns: np.ndarray  # int64, sorted, evenly spaced (interval series)
    price_hundredths: np.ndarray  # int64, per MWh
    has_price: np.ndarray  # bool
    monthly: dict[str, int] = field(default_factory=dict)  # "YYYY-MM" -> hundredths
    currency: str | None = None
    _cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False
    )

    @property
    def is_monthly(self) -> bool:
        return self.resolution_s == 0

    @classmethod
    def from_frame(cls, df: Any, series: str, source: str) -> PriceSeries:
        """From a DataFrame with `timestamp` (tz-aware) and `price` columns, or `month`, `price`.

        Prices may be str, Decimal, int or float; a float is accepted only when it is a whole
        number of hundredths to within float precision (what a CSV reader makes of "12.34").
        """
        from settlement.price_io import series_from_frame

        return series_from_frame(df, series, source)

    @classmethod
    def from_monthly(
        cls, values: dict[str, Decimal | str | int], series: str, source: str = "monthly"
    ) -> PriceSeries:
        monthly = {}
        for month, value in values.items():
            parse_month(month)
            monthly[month] = to_hundredths(D(value) if not isinstance(value, Decimal) else value)
        empty = np.zeros(0, dtype=np.int64)
        return cls(series, source, 0, empty, empty, np.zeros(0, dtype=bool), monthly)

    def at_resolution(self, resolution_s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, hundredths, has_price) of this interval series at another resolution.

        Coarser → finer repeats each value; finer → coarser is the mean of the sub-intervals,
        rounded half-up to 0.01/MWh (how an hourly value is formed from four quarter-hours, not
        the first of them); a coarse interval lacking any sub-interval price has no price.
        """
        if resolution_s in self._cache:
            return self._cache[resolution_s]
        starts, values, ok = self.starts_utc_ns, self.price_hundredths, self.has_price
        r = self.resolution_s
        if resolution_s == r:
            out = (starts, values, ok)
        elif resolution_s < r:
            k = r // resolution_s
            offsets = np.arange(k, dtype=np.int64) * resolution_s * NS_PER_S
            out = (
                (starts[:, None] + offsets[None, :]).ravel(),
                np.repeat(values, k),
                np.repeat(ok, k),
            )
        else:
            step = resolution_s * NS_PER_S
            group = starts // step
            uniq, first, counts = np.unique(group, return_index=True, return_counts=True)
            sums = np.add.reduceat(np.where(ok, values, 0), first)
            n_ok = np.add.reduceat(ok.astype(np.int64), first)
            complete = (counts == resolution_s // r) & (n_ok == counts)
            out = (uniq * step, round_half_up_div(sums, np.maximum(counts, 1)), complete)
        self._cache[resolution_s] = out
        return out


def round_half_up_div(numerator: np.ndarray, denominator: np.ndarray | int) -> np.ndarray:
    """Integer division rounded half away from zero, exact on int64."""
    num = np.asarray(numerator, dtype=np.int64)
    den = np.asarray(denominator, dtype=np.int64)
    q = (2 * np.abs(num) + den) // (2 * den)
    return np.where(num < 0, -q, q)


def to_hundredths(value: Decimal) -> int:
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not quoted to 0.01 per MWh")
    return int(scaled)


def from_hundredths(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def read_prices_text(text: str, series: str = "dam", source: str = "prices.csv") -> PriceSeries:
    """One series from CSV text: `timestamp,price`, `timestamp,<series>,…` or `month,price`."""
    from settlement.price_io import parse_price_csv

    result = parse_price_csv(text.encode(), source)
    if series in result:
        return result[series]
    if len(result) == 1:
        only = next(iter(result.values()))
        return PriceSeries(
            series,
            only.source,
            only.resolution_s,
            only.starts_utc_ns,
            only.price_hundredths,
            only.has_price,
            only.monthly,
            only.currency,
        )
    raise InputError(f"{source}: no price column named {series!r}; columns: {sorted(result)}")


def read_prices(
    path: Any, series: str = "dam", fmt: str = "auto"
) -> PriceSeries | dict[str, PriceSeries]:
    """Prices from a file. fmt: "csv", "smard", "opsd", "esco" or "auto" (by the header).

    A file with one price column gives a `PriceSeries` named `series`; a file with several
    (one column per named series, or SMARD's zones) gives a dict by series name.
    """
    from settlement.price_io import read_price_file

    return read_price_file(path, series, fmt)


def monthly_reference_prices(
    prices: PriceSeries,
    tz: str,
    weights: Any = None,
) -> list[tuple[str, Decimal, int]]:
    """Each complete local month's reference price: baseload mean, or weighted by a generation
    series: (month, price per MWh rounded half-up to 0.01, number of priced intervals).

    `reference.monthly_reference_table` also names the months that cannot be computed.
    """
    from settlement.reference import monthly_reference_table

    return [
        (m, p, n) for m, p, n, _ in monthly_reference_table(prices, tz, weights) if p is not None
    ]


HOURLY_STRETCH_MIN = 24  # an hourly stretch inside a quarter-hour series lasts a day or more


def hourly_rows(starts: np.ndarray) -> np.ndarray:
    """Rows an hour long in a series that is otherwise quarter-hourly: a change of resolution
    such as DE-LU's on 1 October 2025. Shorter hourly steps are gaps, not a resolution."""
    diffs = np.diff(starts)
    hour = diffs == 3600 * NS_PER_S
    mask = np.zeros(len(starts), dtype=bool)
    if not hour.any() or not (diffs == 900 * NS_PER_S).any():
        return mask
    edges = np.diff(np.concatenate(([0], hour.astype(np.int8), [0])))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if b - a >= HOURLY_STRETCH_MIN:
            mask[a:b] = True
            if b == len(diffs):  # the series ends hourly: its last row is an hour too
                mask[-1] = True
    return mask


def to_quarter_hours(
    starts: np.ndarray, values: np.ndarray, ok: np.ndarray, hourly: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each hourly row as its four quarter-hours (the price applies to each of them)."""
    reps = np.where(hourly, 4, 1)
    first = np.repeat(np.cumsum(reps) - reps, reps)
    step = (np.arange(int(reps.sum())) - first) * 900 * NS_PER_S
    return np.repeat(starts, reps) + step, np.repeat(values, reps), np.repeat(ok, reps)


def validate_grid(
    starts: np.ndarray,
    source: str,
    rows: np.ndarray | None = None,
    field_name: str = "timestamp",
    hourly: np.ndarray | None = None,
) -> int:
    """Check sorted-ness, duplicates, gaps and grid alignment; return the resolution in s.

    `hourly` marks rows an hour long in a quarter-hour series (`hourly_rows`): not gaps.
    """
    problems = ProblemCollector(source)
    rows = np.arange(1, len(starts) + 1) if rows is None else rows
    if len(starts) == 0:
        raise InputError(f"{source}: no data rows")
    diffs = np.diff(starts)
    positive = diffs[diffs > 0]
    resolution_ns = int(positive.min()) if len(positive) else 3600 * NS_PER_S
    resolution_s = resolution_ns // NS_PER_S
    if resolution_s not in RESOLUTIONS_S:
        problems.add(None, field_name, f"resolution {resolution_s} s is not 15 or 60 minutes")
        problems.raise_if_any()
    stretch = np.zeros(len(starts), dtype=bool) if hourly is None else hourly
    off_grid = np.nonzero(
        (starts % resolution_ns != 0) | (stretch & (starts % (3600 * NS_PER_S) != 0))
    )[0]
    for i in off_grid[:20]:
        problems.add(
            int(rows[i]), field_name, f"timestamp is off the {resolution_s // 60}-minute grid"
        )
    for i in np.nonzero(diffs == 0)[0][:20]:
        problems.add(int(rows[i + 1]), field_name, f"duplicate interval (same as row {rows[i]})")
    for i in np.nonzero(diffs < 0)[0][:20]:
        problems.add(int(rows[i + 1]), field_name, "timestamps are not in ascending order")
    gaps = (diffs > resolution_ns) & ~(stretch[:-1] & (diffs == 3600 * NS_PER_S))
    for i in np.nonzero(gaps)[0][:20]:
        missing = int(diffs[i] // resolution_ns) - 1
        problems.add(
            int(rows[i + 1]), field_name, f"gap: {missing} interval(s) missing before this row"
        )
    problems.raise_if_any()
    return int(resolution_s)


def merge_series(first: PriceSeries, second: PriceSeries) -> PriceSeries:
    """Two files of one series as one: they may overlap only where they agree, and together
    they must be gap-free. Anything else is refused; neither file is ever dropped."""
    name = first.series
    source = f"{first.source} + {second.source}"
    if first.currency and second.currency and first.currency != second.currency:
        raise InputError(
            f"series {name!r}: {first.source} is in {first.currency}, "
            f"{second.source} in {second.currency}"
        )
    currency = first.currency or second.currency
    if first.is_monthly != second.is_monthly:
        raise InputError(f"series {name!r}: {source} mix monthly and interval prices")
    if first.is_monthly:
        clash = sorted(
            m
            for m in first.monthly.keys() & second.monthly.keys()
            if first.monthly[m] != second.monthly[m]
        )
        if clash:
            raise InputError(f"series {name!r}: {source} disagree on month(s) {', '.join(clash)}")
        empty = np.zeros(0, dtype=np.int64)
        return PriceSeries(
            name,
            source,
            0,
            empty,
            empty,
            np.zeros(0, bool),
            {**first.monthly, **second.monthly},
            currency,
        )
    resolution_s = min(first.resolution_s, second.resolution_s)
    parts = [s.at_resolution(resolution_s) for s in (first, second)]
    starts = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    ok = np.concatenate([p[2] for p in parts])
    order = np.argsort(starts, kind="stable")
    starts, values, ok = starts[order], values[order], ok[order]
    same = np.flatnonzero(starts[1:] == starts[:-1])
    differ = same[(values[same] != values[same + 1]) | (ok[same] != ok[same + 1])]
    if len(differ):
        import pandas as pd

        at = pd.Timestamp(int(starts[differ[0]]), tz="UTC").isoformat()
        raise InputError(
            f"series {name!r}: {source} overlap and disagree at {len(differ)} interval(s), "
            f"first {at}"
        )
    keep = np.ones(len(starts), dtype=bool)
    keep[same + 1] = False
    starts, values, ok = starts[keep], values[keep], ok[keep]
    validate_grid(starts, source)
    return PriceSeries(name, source, resolution_s, starts, values, ok, currency=currency)
