"""Official exchange rates (`date,pair,rate`) and consumer price indices (`month,cpi`).

The one reader of each, for the command line and the service: every row is checked and every
problem named by file, row and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from mzekari.errors import ProblemCollector
from mzekari.money import MINOR_UNITS, parse_decimal
from settlement.tables import TEXT, Source, read_table

FX_COLUMNS = {"date": TEXT, "pair": TEXT, "rate": TEXT}
CPI_COLUMNS = {"month": TEXT, "cpi": TEXT}
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")

FxRates = dict[str, dict[str, Decimal]]  # {"USD/GEL": {"2025-06-30": Decimal("2.7012")}}


def _positive(text: str) -> Decimal:
    value = parse_decimal(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def parse_fx(rows: Iterable[tuple[str, str, str]], source: str) -> FxRates:
    """(date, pair, rate) text rows → rates by pair and ISO date; all problems raised together."""
    problems = ProblemCollector(source)
    rates: FxRates = {}
    for row, (day_text, pair_text, rate_text) in enumerate(rows, start=1):
        day = day_text.strip()
        try:
            if not _DAY.match(day):
                raise ValueError
            date.fromisoformat(day)
        except ValueError:
            problems.add(row, "date", f"expected a date YYYY-MM-DD: {day_text!r}")
            continue
        pair = pair_text.strip().upper()
        base, _, quote = pair.partition("/")
        if base not in MINOR_UNITS or quote not in MINOR_UNITS or base == quote:
            problems.add(row, "pair", f"expected two known currencies like USD/GEL: {pair_text!r}")
            continue
        try:
            rate = _positive(rate_text)
        except (ValueError, TypeError) as exc:
            problems.add(row, "rate", f"expected a positive number: {rate_text!r} ({exc})")
            continue
        if day in rates.get(pair, {}):
            problems.add(row, "date", f"a second {pair} rate for {day}")
        rates.setdefault(pair, {})[day] = rate
    problems.raise_if_any()
    return rates


def read_fx(data: Source, source: str | None = None) -> FxRates:
    name = source or str(data)
    table = read_table(data, FX_COLUMNS, name)
    columns = [table.column(c).to_pylist() for c in ("date", "pair", "rate")]
    return parse_fx(zip(*columns, strict=True), name)


def parse_cpi(rows: Iterable[tuple[str, str]], source: str) -> dict[str, Decimal]:
    problems = ProblemCollector(source)
    out: dict[str, Decimal] = {}
    for row, (month_text, cpi_text) in enumerate(rows, start=1):
        month = month_text.strip()
        if not _MONTH.match(month):
            problems.add(row, "month", f"expected YYYY-MM: {month_text!r}")
            continue
        try:
            value = _positive(cpi_text)
        except (ValueError, TypeError) as exc:
            problems.add(row, "cpi", f"expected a positive number: {cpi_text!r} ({exc})")
            continue
        if month in out:
            problems.add(row, "month", f"a second CPI value for {month}")
        out[month] = value
    problems.raise_if_any()
    return out


def read_cpi(data: Source, source: str | None = None) -> dict[str, Decimal]:
    name = source or str(data)
    table = read_table(data, CPI_COLUMNS, name)
    columns = [table.column(c).to_pylist() for c in ("month", "cpi")]
    return parse_cpi(zip(*columns, strict=True), name)
