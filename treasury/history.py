"""Price histories the model is calibrated on: monthly (ESCO) or hourly (day-ahead) series.

Accepted: ESCO's monthly CSV (month, price_gel_per_mwh), SMARD's hourly export (';', decimal
comma, 'Datum von'), a plain two-column CSV (timestamp or month, price), or a pandas Series.
Missing values at the ends are trimmed (SMARD's export ends mid-December); a gap inside a
series is refused, because the mean-reversion fit needs consecutive months.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mzekari.errors import ProblemCollector
from settlement.price_io import parse_hundredths
from settlement.tables import timestamps_utc_ns

MIN_MONTHS = 12  # one seasonal cycle; with fewer than 24 the season is not fitted
# A price beyond this (currency/MWh) is a unit or file error, not a market price: exchanges cap
# hourly prices at a few thousand per MWh.
MAX_ABS_PRICE = 1_000_000.0


def _read_table(path: Path) -> pd.DataFrame:
    """The one place a history file is read: a missing or unreadable file is an InputError."""
    collector = ProblemCollector(str(path))
    try:
        head = path.read_text(encoding="utf-8-sig")[:2000]
        if not head.strip():
            collector.add(None, None, "the file is empty")
        elif ";" in head.splitlines()[0]:
            frame = pd.read_csv(
                path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig"
            )
            frame.attrs["decimal_comma"] = True
            return frame
        else:
            # Cells stay text: prices are read under settlement's one price rule (`_trimmed`).
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        collector.add(None, None, "no such file")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        collector.add(None, None, f"cannot read the price history: {type(exc).__name__}")
    collector.raise_if_any()
    raise AssertionError


def _pick_price_column(frame: pd.DataFrame, preferred: str | None, source: str) -> str:
    columns = [str(c) for c in frame.columns]
    if preferred:
        for c in columns:
            if c == preferred or c.startswith(preferred):
                return c
    for c in columns[1:]:
        if "price" in c.lower() or "€/mwh" in c.lower() or "eur" in c.lower():
            return c
    if len(columns) == 2:
        return columns[1]
    collector = ProblemCollector(source)
    # The columns are counted, not quoted: a wrong file's first line is not repeated back.
    collector.add(
        None,
        None,
        f"cannot tell which column holds prices among {len(columns)} column(s); "
        "name it 'price' or give two columns (time, price)",
    )
    collector.raise_if_any()
    raise AssertionError


def _prices_from_text(text: pd.Series, source: str, decimal_comma: bool) -> pd.Series:
    """Price cells of a file under settlement's one price rule (digits quoted to 0.01 per MWh;
    empty or '-' is no price): the forecast accepts exactly what settlement accepts."""
    cells = text.astype("string").fillna("").str.strip()
    if decimal_comma:  # SMARD: '1.234,56'
        cells = cells.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    problems = ProblemCollector(source)
    hundredths, ok = parse_hundredths(cells.to_numpy(dtype=object), problems, "price")
    problems.raise_if_any()
    return pd.Series(np.where(ok, hundredths / 100, np.nan), index=text.index)


def _trimmed(values: pd.Series, source: str, decimal_comma: bool = False) -> pd.Series:
    """Trim missing values at both ends; refuse text that is not a price and missing values
    inside (a gap)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        values = _prices_from_text(values, source, decimal_comma)
    collector = ProblemCollector(source)
    numbers = pd.to_numeric(values, errors="coerce")
    huge = ~(numbers.abs() <= MAX_ABS_PRICE) & numbers.notna()
    for pos in np.flatnonzero(huge.to_numpy())[:50]:
        collector.add(
            int(pos) + 1, "price", f"beyond ±{MAX_ABS_PRICE:,.0f} per MWh (or not finite)"
        )
    collector.raise_if_any()
    values = numbers
    valid = values.notna().to_numpy()
    if not valid.any():
        collector.add(None, None, "no price values")
        collector.raise_if_any()
    first, last = int(np.argmax(valid)), len(valid) - 1 - int(np.argmax(valid[::-1]))
    inner = values.iloc[first : last + 1]
    for pos in np.flatnonzero(inner.isna().to_numpy())[:50]:
        collector.add(first + int(pos) + 1, "price", "missing value inside the series (a gap)")
    collector.raise_if_any()
    return inner.astype(float)


def _stamps(text: pd.Series, fmt: str | None, source: str) -> pd.Series:
    """Timestamps or months; a value that is neither is reported with its row."""
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    collector = ProblemCollector(source)
    for pos in np.flatnonzero(parsed.isna().to_numpy())[:50]:
        collector.add(int(pos) + 1, "month", f"not a date or month: {str(text.iloc[pos])[:40]!r}")
    collector.raise_if_any()
    return parsed


def load_hourly_history(source: Path | pd.Series | Any, column: str | None = None) -> pd.Series:
    """Hourly prices (currency/MWh) in order, indexed by naive local hour starts."""
    if isinstance(source, pd.Series):
        series = source.copy()
        series.index = pd.DatetimeIndex(series.index)
        return _trimmed(series, "hourly history")
    path = Path(source)
    frame = _read_table(path)
    stamp = frame.columns[0]
    fmt = "%d.%m.%Y %H:%M" if "Datum" in str(stamp) else None
    text = frame[stamp].astype(str).str.strip()
    if fmt is None:
        # ISO 8601 under the one timestamp rule shared with settlement (an offset is required);
        # the wall-clock time as written is the local hour start.
        problems = ProblemCollector(path.name)
        timestamps_utc_ns(text.to_numpy(), problems, str(stamp))
        problems.raise_if_any()
        text = text.str.replace(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", "", regex=True)
        fmt = "ISO8601"
    index = _stamps(text, fmt, path.name)
    if getattr(index.dt, "tz", None) is not None:
        index = index.dt.tz_localize(None)
    series = pd.Series(frame[_pick_price_column(frame, column, path.name)].to_numpy(), index=index)
    return _trimmed(series, path.name, frame.attrs.get("decimal_comma", False))


def load_monthly_history(source: Path | pd.Series | Any, column: str | None = None) -> pd.Series:
    """Monthly mean prices (currency/MWh), PeriodIndex of consecutive months."""
    if isinstance(source, pd.Series):
        series = source.copy()
        if not isinstance(series.index, pd.PeriodIndex):
            series.index = pd.PeriodIndex(pd.DatetimeIndex(pd.to_datetime(series.index)), freq="M")
        hourly = len(series) > 2 * len(series.index.unique())
        name = "price history"
    else:
        path = Path(source)
        frame = _read_table(path)
        stamp = str(frame.columns[0])
        name = path.name
        if "Datum" in stamp or len(frame) > 1500:
            series = load_hourly_history(path, column)
            hourly = True
        else:
            price_column = _pick_price_column(frame, column or "price_gel_per_mwh", name)
            months = pd.PeriodIndex(_stamps(frame[stamp].astype(str), None, name), freq="M")
            prices = pd.Series(frame[price_column].to_numpy(), index=months)
            series = _trimmed(prices, name, frame.attrs.get("decimal_comma", False))
            hourly = False
    if hourly:
        stamps = pd.DatetimeIndex(series.index)
        counts = series.groupby(stamps.to_period("M")).size()
        means = series.groupby(stamps.to_period("M")).mean()
        days = pd.PeriodIndex(counts.index).days_in_month.to_numpy()
        # A month counts when at least ~half its hours are present: its mean is still a fair
        # estimate (SMARD ends on 15 December).
        series = means[counts.to_numpy() >= 0.45 * 24 * days]
    return _validated_months(series, name)


def _validated_months(series: pd.Series, source: str) -> pd.Series:
    collector = ProblemCollector(source)
    series = series.sort_index()
    if series.index.has_duplicates:
        collector.add(None, "month", "a month appears twice")
    expected = pd.period_range(series.index.min(), series.index.max(), freq="M")
    missing = expected.difference(pd.PeriodIndex(series.index))
    if len(missing):
        shown = ", ".join(str(p) for p in missing[:12])
        collector.add(
            None, "month", f"the history has gaps: {len(missing)} month(s) missing ({shown})"
        )
    if len(series) < MIN_MONTHS:
        collector.add(
            None, None, f"at least {MIN_MONTHS} months are needed to calibrate, got {len(series)}"
        )
    if (series <= 0).any():
        bad = [str(p) for p in series.index[(series <= 0).to_numpy()][:12]]
        collector.add(
            None, "price", f"monthly means must be positive for the log-price model: {bad}"
        )
    collector.raise_if_any()
    return series.astype(float)
