"""Loading and validating contracts from CSV, JSON or records (HTTP API, auction awards).

Every problem is collected with its source, 1-based row and field; one `InputError` carries them
all. Column names are the `Contract` field names; only the first eight are required.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mzekari.errors import InputError, Problem, ProblemCollector
from mzekari.money import MINOR_UNITS, ROUNDING_MODES, D
from mzekari.vocabulary import (
    FX_RULES,
    INDEXATIONS,
    REFERENCE_BASES,
    SCHEMES,
    technology_class,
)
from settlement.model import Contract
from settlement.tables import read_table

REQUIRED = ("contract_id", "producer", "scheme", "price", "currency", "start", "end", "capacity_mw")
KNOWN = {f.name for f in fields(Contract)}
CENT = Decimal("0.01")
_RUN_RULE = re.compile(r"^run:([1-9][0-9]*)$")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        # JSON is parsed with Decimal floats; a float here came from a caller's record.
        value = repr(value)
    return D(value if isinstance(value, (int, Decimal)) else str(value))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _months(value: Any) -> tuple[int, ...]:
    if _blank(value):
        return ()
    items = value if isinstance(value, list) else re.split(r"[;|, ]+", str(value).strip())
    months = tuple(sorted({int(str(m)) for m in items if str(m).strip()}))
    if any(not 1 <= m <= 12 for m in months):
        raise ValueError(f"months must be 1..12, got {value!r}")
    return months


def _parse_field(name: str, value: Any) -> Any:
    if name in (
        "price",
        "capacity_mw",
        "cap",
        "floor",
        "upper_price",
        "annual_cap_mwh",
        "double_benefit_share",
        "indexed_share",
    ):
        return _decimal(value)
    if name in ("start", "end"):
        return value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    if name in ("zero_floor", "interval_cap", "curtailment_compensated"):
        return _bool(value)
    if name == "excluded_months":
        return _months(value)
    if name == "index_month":
        return int(str(value))
    if name == "technology":
        return technology_class(str(value))  # "Small HPP" → "hydro": one place for the mapping
    text = str(value).strip()
    return text.upper() if name in ("currency", "strike_currency") else text


def _check(c: Contract, row: int, add: Any) -> None:
    """Cross-field rules; `add(row, field, message)` records a problem."""
    if c.scheme not in SCHEMES:
        add(row, "scheme", f"unknown scheme {c.scheme!r}; known: {', '.join(SCHEMES)}")
    for name in ("currency", "strike_currency"):
        cur = getattr(c, name)
        if cur is not None and cur not in MINOR_UNITS:
            add(row, name, f"unknown currency {cur!r}; known: {sorted(MINOR_UNITS)}")
    if c.end < c.start:
        add(row, "end", f"end {c.end} is before start {c.start}")
    if c.capacity_mw <= 0:
        add(row, "capacity_mw", "capacity must be positive")
    if c.price < 0:
        add(row, "price", "price must not be negative")
    for name in ("price", "cap", "floor", "upper_price"):
        value = getattr(c, name)
        if (
            value is not None
            and value != value.quantize(CENT)
            and not (name == "price" and (c.strike_currency or c.indexation != "none"))
        ):
            add(row, name, f"{value} is not quoted to 0.01 per MWh")
    if c.cap is not None and c.floor is not None and c.floor > c.cap:
        add(row, "floor", f"floor {c.floor} is above cap {c.cap}")
    if c.reference_basis not in REFERENCE_BASES:
        add(
            row, "reference_basis", f"unknown basis {c.reference_basis!r}; known: {REFERENCE_BASES}"
        )
    if c.scheme == "green_certificate" and c.reference_basis != "monthly_baseload":
        add(
            row,
            "reference_basis",
            "green_certificate pays on the month's certificate market price: "
            "reference_basis must be monthly_baseload",
        )
    rule = c.negative_price_rule
    if rule not in ("none", "any") and not _RUN_RULE.match(rule):
        add(row, "negative_price_rule", f"expected none, any or run:N (hours), got {rule!r}")
    if c.indexation not in INDEXATIONS:
        add(row, "indexation", f"expected one of {', '.join(INDEXATIONS)}, got {c.indexation!r}")
    if c.indexation == "cpi" and not (c.index_base_month and _MONTH.match(c.index_base_month)):
        add(row, "index_base_month", "CPI indexation needs index_base_month as YYYY-MM")
    if not 1 <= c.index_month <= 12:
        add(row, "index_month", "index_month must be 1..12")
    for name in ("indexed_share", "double_benefit_share"):
        if not Decimal(0) <= getattr(c, name) <= Decimal(1):
            add(row, name, "share must be between 0 and 1")
    if c.fx_rule not in FX_RULES:
        add(row, "fx_rule", f"expected one of {', '.join(FX_RULES)}, got {c.fx_rule!r}")
    if c.annual_cap_mwh is not None and c.annual_cap_mwh < 0:
        add(row, "annual_cap_mwh", "annual cap must not be negative")
    if c.market_tz is not None:
        try:
            ZoneInfo(c.market_tz)
        except (ZoneInfoNotFoundError, ValueError):
            add(row, "market_tz", f"unknown time zone {c.market_tz!r}")
    if c.rounding not in ROUNDING_MODES:
        add(row, "rounding", f"unknown rounding {c.rounding!r}; known: {sorted(ROUNDING_MODES)}")


def contracts_from_records(
    records: list[dict[str, Any]], source: str = "contracts"
) -> list[Contract]:
    """Validate records (one dict per contract) into contracts; all problems raised together."""
    problems = ProblemCollector(source)
    contracts: list[Contract] = []
    seen: dict[str, int] = {}
    for row, record in enumerate(records, start=1):
        values: dict[str, Any] = {}
        ok = True
        for key, raw in record.items():
            name = str(key).strip()
            if name not in KNOWN:
                # Reported, and the row's other fields are still checked.
                problems.add(row, name, f"unknown field; known: {', '.join(sorted(KNOWN))}")
                continue
            if _blank(raw) and name not in REQUIRED:
                continue
            try:
                values[name] = _parse_field(name, raw)
            except (ValueError, TypeError) as exc:
                problems.add(row, name, str(exc))
                ok = False
        for name in REQUIRED:
            if name not in values and not any(
                p.row == row and p.field == name for p in problems.problems
            ):
                problems.add(row, name, "required field is missing")
                ok = False
        if not ok:
            continue
        contract = Contract(**values)
        _check(contract, row, problems.add)
        if contract.contract_id in seen:
            problems.add(
                row,
                "contract_id",
                f"duplicate contract_id {contract.contract_id!r} (first on row "
                f"{seen[contract.contract_id]})",
            )
        seen.setdefault(contract.contract_id, row)
        contracts.append(contract)
    problems.raise_if_any()
    return contracts


def load_contracts(path: str | Path) -> list[Contract]:
    """Contracts from a CSV (header = field names) or a JSON list of objects."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text: {exc.reason}") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: not valid JSON: {exc}") from exc
        if isinstance(data, dict):
            data = data.get("contracts", data)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError(f"{source}: expected a list of contract objects")
        return contracts_from_records(data, source)
    table = read_table(text.encode(), None, source)
    unknown = [h for h in table.column_names if h not in KNOWN]
    records = [{k: v for k, v in r.items() if k in KNOWN} for r in table.to_pylist()]
    try:
        contracts = contracts_from_records(records, source)
    except InputError as exc:
        problems = exc.problems
    else:
        problems = []
    problems = [Problem(source, None, h, "unknown column") for h in unknown] + problems
    if problems:
        raise InputError(problems)
    return contracts
