"""Reading price files: generic CSV, SMARD exports, OPSD time series, ESCO monthly prices."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mzekari.errors import InputError, ProblemCollector
from mzekari.months import MONTH_RE
from settlement.prices import PriceSeries, hourly_rows, to_quarter_hours, validate_grid
from settlement.tables import Source, read_table, timestamps_utc_ns

if TYPE_CHECKING:
    import pandas as pd

_OFFSET = r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
_GENERATION = re.compile(r"^([0-9]+)(?:\.([0-9]{1,3}))?$")
_PRICE_PARTS = re.compile(r"^(-?[0-9]+)(?:\.([0-9]{1,2}))?$")
# Whole digits of a price: beyond 12 no market price fits, and the hundredths stay in int64.
MAX_PRICE_DIGITS = 12
_SMARD_ZONES = {
    "Deutschland/Luxemburg": "DE_LU",
    "∅ Anrainer DE/LU": "DE_LU_neighbours",
    "Belgien": "BE",
    "Dänemark 1": "DK1",
    "Dänemark 2": "DK2",
    "Frankreich": "FR",
    "Niederlande": "NL",
    "Norwegen 2": "NO2",
    "Österreich": "AT",
    "Polen": "PL",
    "Schweden 4": "SE4",
    "Schweiz": "CH",
    "Tschechien": "CZ",
    "DE/AT/LU": "DE_AT_LU",
    "Italien (Nord)": "IT_NORTH",
    "Slowenien": "SI",
    "Ungarn": "HU",
}


TextColumns = dict[str, pa.Array]  # a CSV's columns as text, by header name


def _text(values: Any) -> pa.Array:
    """Text cells as one trimmed Arrow string array (from Arrow, numpy, pandas or a list)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    elif not isinstance(values, pa.Array):
        if hasattr(values, "to_numpy"):  # a pandas Series: missing cells become ""
            values = values.astype("string").fillna("").to_numpy(dtype=object)
        values = pa.array(list(values), pa.string())
    return pc.utf8_trim_whitespace(values)


def parse_timestamps(values: Any, problems: ProblemCollector, field: str) -> np.ndarray:
    """Text timestamps → int64 UTC ns under the one timestamp rule (`tables.timestamps_utc_ns`)."""
    return timestamps_utc_ns(_text(values), problems, field)


def parse_hundredths(
    values: Any, problems: ProblemCollector, field: str, allow_missing: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Decimal text quoted to 0.01 → (int64 hundredths, has_price). Empty or '-' = no price.

    The one price rule: `-?digits[.d[d]]`; `50.250`, `1e2`, `+50`, `50.`, `.5` are refused.
    """
    cells = _text(values).to_pylist()
    # Exact integer hundredths from the digits (price files are thousands of rows, not millions).
    hundredths = np.zeros(len(cells), dtype=np.int64)
    ok = np.zeros(len(cells), dtype=bool)
    reported = 0
    for i, cell in enumerate(cells):
        match = _PRICE_PARTS.match(cell)
        if match and len(match.group(1).lstrip("-")) > MAX_PRICE_DIGITS:
            if reported < 20:
                reported += 1
                problems.add(i + 1, field, f"price {cell[:40]!r} is beyond ±10^12 per MWh")
        elif match:
            whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
            value = abs(int(whole)) * 100 + int(cents)
            hundredths[i] = -value if whole.startswith("-") else value
            ok[i] = True
        elif reported < 20 and (cell not in ("", "-") or not allow_missing):
            reported += 1
            if cell in ("", "-"):
                problems.add(i + 1, field, "price is missing")
            else:
                problems.add(
                    i + 1, field, f"price {cell[:40]!r} is not a number quoted to 0.01 per MWh"
                )
    return hundredths, ok


def _interval_series(
    name: str, source: str, starts: np.ndarray, values: np.ndarray, ok: np.ndarray
) -> PriceSeries:
    """A series on one grid; hourly stretches of a quarter-hour file become quarter-hours."""
    hourly = hourly_rows(starts)
    resolution_s = validate_grid(starts, source, hourly=hourly)
    if hourly.any():
        starts, values, ok = to_quarter_hours(starts, values, ok, hourly)
    return PriceSeries(name, source, resolution_s, starts, values, ok)


def text_columns(data: Source, source: str, delimiter: str = ",") -> TextColumns:
    """Every column of a CSV as text (the shared reader: bad rows are named, not raised)."""
    table = read_table(data, None, source, delimiter=delimiter)
    return {name: table.column(name).combine_chunks() for name in table.column_names}


def parse_price_csv(data: Source, source: str) -> dict[str, PriceSeries]:
    return _series_from_text_frame(text_columns(data, source), source)


def _series_from_text_frame(frame: TextColumns, source: str) -> dict[str, PriceSeries]:
    problems = ProblemCollector(source)
    if "month" in frame:
        return _monthly_from_frame(frame, source)
    if "timestamp" not in frame:
        raise InputError(f"{source}: needs a 'timestamp' (or 'month') column; got {list(frame)}")
    value_cols = [c for c in frame if c != "timestamp"]
    if not value_cols:
        raise InputError(f"{source}: no price column")
    starts = parse_timestamps(frame["timestamp"], problems, "timestamp")
    parsed = {c: parse_hundredths(frame[c], problems, c) for c in value_cols}
    problems.raise_if_any()
    return {c: _interval_series(c, source, starts, v, ok) for c, (v, ok) in parsed.items()}


def _monthly_from_frame(frame: TextColumns, source: str) -> dict[str, PriceSeries]:
    problems = ProblemCollector(source)
    months = _text(frame["month"]).to_pylist()
    seen: dict[str, int] = {}
    for i, m in enumerate(months, start=1):
        if not MONTH_RE.match(str(m)):
            problems.add(i, "month", f"month {m!r} is not YYYY-MM")
        elif m in seen:
            problems.add(i, "month", f"duplicate month {m} (first on row {seen[m]})")
        seen.setdefault(str(m), i)
    cols = [c for c in frame if c != "month"]
    if "price_gel_per_mwh" in cols:  # ESCO's file also has tetri/kWh; same value, other unit
        cols = ["price_gel_per_mwh"]
    out = {}
    for c in cols:
        values, ok = parse_hundredths(frame[c], problems, c)
        out[c] = {str(m): int(v) for m, v, good in zip(months, values, ok, strict=True) if good}
    problems.raise_if_any()
    empty = np.zeros(0, dtype=np.int64)
    return {
        c: PriceSeries(
            c,
            source,
            0,
            empty,
            empty,
            np.zeros(0, bool),
            m,
            "GEL" if c == "price_gel_per_mwh" else None,
        )
        for c, m in out.items()
    }


def series_from_frame(df: pd.DataFrame, series: str, source: str) -> PriceSeries:
    import pandas as pd

    problems = ProblemCollector(source)
    if "month" in df.columns:
        frame = {"month": _text(df["month"].astype(str)), series: _text(_price_text(df["price"]))}
        return _monthly_from_frame(frame, source)[series]
    ts = df["timestamp"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise InputError(f"{source}: column 'timestamp' must be tz-aware")
    starts = pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ns").asi8.copy()
    values, ok = parse_hundredths(_price_text(df["price"]), problems, "price")
    problems.raise_if_any()
    return _interval_series(series, source, starts, values, ok)


def _price_text(values: pd.Series) -> pd.Series:
    """Prices as text; floats must be whole hundredths (checked after rounding to 2 places)."""
    import pandas as pd

    if pd.api.types.is_float_dtype(values.dtype):
        arr = values.to_numpy(dtype=np.float64)
        cents = np.rint(arr * 100)
        exact = np.isnan(arr) | (np.abs(arr * 100 - cents) < 1e-6)
        text = pd.Series([f"{c / 100:.2f}" for c in cents], index=values.index, dtype="string")
        text[np.isnan(arr)] = ""
        text[~exact] = pd.Series(values[~exact].map(repr), dtype="string")
        return text
    return values.map(lambda v: "" if v is None else str(v)).astype("string")


def read_smard(path: Path) -> dict[str, PriceSeries]:
    """SMARD "Großhandelspreise": ';', decimal comma, naive Europe/Berlin times, '-' = none."""
    import pandas as pd

    source = str(path)
    frame = text_columns(path, source, delimiter=";")
    if "Datum von" not in frame:
        raise InputError(f"{source}: not a SMARD export (no 'Datum von' column)")
    naive = pd.to_datetime(
        pd.Series(frame["Datum von"].to_pylist()), format="%d.%m.%Y %H:%M", errors="coerce"
    )
    problems = ProblemCollector(source)
    for i in np.nonzero(naive.isna().to_numpy())[0][:20]:
        problems.add(int(i) + 1, "Datum von", "not a date dd.mm.yyyy hh:mm")
    problems.raise_if_any()
    # The repeated hour of the autumn change comes first in summer time: 'infer' resolves it.
    local = pd.DatetimeIndex(naive).tz_localize("Europe/Berlin", ambiguous="infer")
    starts = local.tz_convert("UTC").as_unit("ns").asi8.copy()
    out = {}
    for col in list(frame)[2:]:
        zone = str(col).split(" [", 1)[0].strip()
        name = _SMARD_ZONES.get(zone, zone)
        text = pc.replace_substring(pc.replace_substring(frame[col], ".", ""), ",", ".")
        values, ok = parse_hundredths(text, problems, str(col))
        out[name] = dataclasses.replace(
            _interval_series(name, source, starts, values, ok), currency="EUR"
        )
    problems.raise_if_any()
    return out


def read_opsd(path: Path, series: str) -> PriceSeries:
    """OPSD extract: `utc_timestamp` (UTC), `DE_price_day_ahead` in EUR/MWh."""
    source = str(path)
    frame = text_columns(path, source)
    for col in ("utc_timestamp", "DE_price_day_ahead"):
        if col not in frame:
            raise InputError(f"{source}: not an OPSD extract (no {col!r} column)")
    problems = ProblemCollector(source)
    starts = parse_timestamps(frame["utc_timestamp"], problems, "utc_timestamp")
    values, ok = parse_hundredths(frame["DE_price_day_ahead"], problems, "DE_price_day_ahead")
    problems.raise_if_any()
    return dataclasses.replace(_interval_series(series, source, starts, values, ok), currency="EUR")


def read_price_file(path: Any, series: str, fmt: str) -> PriceSeries | dict[str, PriceSeries]:
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig") as handle:
            header = handle.readline()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    if fmt == "auto":
        fmt = "smard" if "Datum von" in header else "opsd" if "utc_timestamp" in header else "csv"
    if fmt == "smard":
        return read_smard(path)
    if fmt == "opsd":
        return read_opsd(path, series)
    if fmt not in ("csv", "esco"):
        raise InputError(f"unknown price format {fmt!r}; known: auto, csv, smard, opsd, esco")
    result = parse_price_csv(path, str(path))
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
    return result


@dataclass(frozen=True, eq=False)
class Profile:
    """A generation profile (e.g. national solar feed-in) as weights: int64 thousandths."""

    name: str
    source: str
    resolution_s: int
    starts_utc_ns: np.ndarray
    weight_milli: np.ndarray


def read_profile(
    data: Source, column: str | None = None, name: str | None = None, source: str | None = None
) -> Profile:
    """A generation series from CSV (`timestamp` or OPSD `utc_timestamp` + value columns); `data`
    a path, bytes or a binary file object."""
    source = source or str(data)
    frame = text_columns(data, source)
    ts_col = "utc_timestamp" if "utc_timestamp" in frame else "timestamp"
    if ts_col not in frame:
        raise InputError(f"{source}: needs a 'timestamp' (or OPSD 'utc_timestamp') column")
    cols = [c for c in frame if c != ts_col and "price" not in c]
    column = column or (cols[0] if cols else None)
    if column is None or column not in frame:
        raise InputError(f"{source}: no generation column {column!r}; columns: {cols}")
    problems = ProblemCollector(source)
    starts = parse_timestamps(frame[ts_col], problems, ts_col)
    cells = _text(frame[column]).to_pylist()
    milli = np.zeros(len(cells), dtype=np.int64)
    for i, cell in enumerate(cells):
        match = _GENERATION.match(cell)
        if match:
            milli[i] = int(match.group(1)) * 1000 + int((match.group(2) or "").ljust(3, "0"))
        elif len(problems.problems) < 20:
            problems.add(i + 1, column, f"generation {cell!r} is not a number ≥ 0")
    problems.raise_if_any()
    resolution_s = validate_grid(starts, source, field_name=ts_col)
    return Profile(name or column, source, resolution_s, starts, milli)
