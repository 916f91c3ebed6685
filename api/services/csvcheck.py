"""Vectorised checks of uploaded CSV chunks; each problem names its row and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mzekari.errors import Problem

MAX_PROBLEMS = 1000
TIMESTAMP_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z")
TIMESTAMP_HINT = "expected a timestamp with a UTC offset, e.g. 2025-06-01T00:00:00+04:00"


@dataclass
class Problems:
    """Collects at most MAX_PROBLEMS problems, counting the rest."""

    source: str
    items: list[Problem] = field(default_factory=list)
    more: int = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(self.source, row, column, message))
        else:
            self.more += 1

    def add_rows(self, rows: np.ndarray, column: str, values: Any, message: str) -> None:
        for index, (row, value) in enumerate(zip(rows.tolist(), list(values), strict=True)):
            self.add(int(row), column, f"{message}: {value!r}")
            if self.more:  # the list is full: count the rest without formatting them
                self.more += len(rows) - index - 1
                break

    def all(self) -> list[Problem]:
        if self.more:
            return [
                *self.items,
                Problem(self.source, None, None, f"… and {self.more} more problem(s)"),
            ]
        return list(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def check_header(columns: list[str], required: tuple[str, ...], problems: Problems) -> bool:
    missing = [c for c in required if c not in columns]
    extra = [c for c in columns if c not in required]
    if missing:
        problems.add(None, ", ".join(missing), "missing column(s)")
    if extra:
        problems.add(None, ", ".join(extra), f"unexpected column(s); expected {list(required)}")
    return not missing and not extra


def timestamps_ns(
    values: pd.Series, rows: np.ndarray, column: str, problems: Problems
) -> tuple[np.ndarray, np.ndarray]:
    """UTC nanoseconds and a validity mask. Naive timestamps are refused: a meter reading
    without an offset cannot be placed in the settlement month. Each distinct text is parsed
    once (a month of hourly data for thousands of units repeats the same 744 stamps)."""
    codes, uniques = pd.factorize(values)
    distinct = pd.Series(uniques, dtype=object)
    parsed = pd.to_datetime(distinct, format=TIMESTAMP_FORMATS[0], utc=True, errors="coerce")
    missing = parsed.isna().to_numpy()
    if missing.any():
        retry = pd.to_datetime(
            distinct[missing], format=TIMESTAMP_FORMATS[1], utc=True, errors="coerce"
        )
        parsed = parsed.copy()
        parsed[missing] = retry
    distinct_ns = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    distinct_bad = parsed.isna().to_numpy()
    bad = np.ones(len(values), dtype=bool)  # codes of -1 (empty cells) stay bad
    ns = np.zeros(len(values), dtype=np.int64)
    present = codes >= 0
    bad[present] = distinct_bad[codes[present]]
    ns[present & ~bad] = distinct_ns[codes[present & ~bad]]
    if bad.any():
        problems.add_rows(rows[bad], column, values[bad], TIMESTAMP_HINT)
    return ns, ~bad


def whole_numbers(
    values: pd.Series, rows: np.ndarray, column: str, problems: Problems
) -> tuple[np.ndarray, np.ndarray]:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.dtype.kind == "i":
        result = numbers.to_numpy(dtype=np.int64)
        ok = np.ones(len(result), dtype=bool)
    else:
        as_float = numbers.to_numpy(dtype=np.float64)
        text_ok = values.str.fullmatch(r"\s*\d+\s*").fillna(False).to_numpy(dtype=bool)
        ok = text_ok & np.isfinite(as_float)
        result = np.where(ok, np.nan_to_num(as_float), 0).astype(np.int64)
        if (~ok).any():
            problems.add_rows(
                rows[~ok], column, values[~ok], "expected a whole, non-negative number of kWh"
            )
    negative = ok & (result < 0)
    if negative.any():
        problems.add_rows(rows[negative], column, values[negative], "must not be negative")
        ok &= ~negative
    return result, ok
