"""Bids as CSV: read, check every row, and say exactly where each problem is."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from mzekari.errors import InputError, Problem, ProblemCollector
from mzekari.money import parse_decimal

from .round import RoundSpec

REQUIRED_COLUMNS = (
    "bid_id",
    "bidder",
    "technology",
    "capacity_mw",
    "annual_mwh",
    "price",
    "innovative",
)
OPTIONAL_COLUMNS = ("grid_node", "alternative_group", "min_capacity_mw")
TRUE_WORDS = {"true", "yes", "1", "y"}
# Plain decimals only: "1_0", "5.5E1", "NaN", "1,5" are refused, not read as 10, 55, …
PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")
MAX_FIELD_CHARS = 1000
FALSE_WORDS = {"false", "no", "0", "n", ""}


@dataclass(frozen=True)
class Bid:
    bid_id: str
    bidder: str
    technology: str
    capacity_mw: Decimal
    annual_mwh: Decimal
    price: Decimal  # currency per MWh, two decimals
    innovative: bool
    grid_node: str | None = None
    alternative_group: str | None = None
    min_capacity_mw: Decimal | None = None
    extra: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def partial(self) -> bool:
        """A bid with a minimum capacity may be awarded any capacity from it up to the full bid."""
        return self.min_capacity_mw is not None and self.min_capacity_mw < self.capacity_mw


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _number(
    raw: dict[str, str],
    name: str,
    row: int,
    problems: ProblemCollector,
    places: int,
    positive: bool = True,
) -> Decimal | None:
    text = (raw.get(name) or "").strip()
    if not PLAIN_DECIMAL.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        problems.add(
            row,
            name,
            f"not a plain decimal (digits, one '.' point): {shown!r}" if text else "missing value",
        )
        return None
    value = parse_decimal(text)
    if positive and value <= 0:
        problems.add(row, name, f"must be positive, got {text}")
        return None
    if _decimal_places(value.normalize()) > places:
        problems.add(row, name, f"at most {places} decimals, got {text}")
        return None
    return value


def _parse_row(raw: dict[str, str], row: int, problems: ProblemCollector) -> Bid | None:
    before = len(problems.problems)
    text = {k: (raw.get(k) or "").strip() for k in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    for name in ("bid_id", "bidder", "technology"):
        if not text[name]:
            problems.add(row, name, "missing value")
    capacity = _number(raw, "capacity_mw", row, problems, 3)
    energy = _number(raw, "annual_mwh", row, problems, 3)
    price = _number(raw, "price", row, problems, 2)
    innovative = text["innovative"].lower()
    if innovative not in TRUE_WORDS | FALSE_WORDS:
        problems.add(row, "innovative", f"expected true/false, got {text['innovative']!r}")
    minimum = None
    if text["min_capacity_mw"]:
        minimum = _number(raw, "min_capacity_mw", row, problems, 3)
        if minimum is not None and capacity is not None and minimum > capacity:
            problems.add(row, "min_capacity_mw", f"{minimum} exceeds capacity_mw {capacity}")
    if capacity is not None and energy is not None and energy > capacity * 8760:
        problems.add(row, "annual_mwh", f"{energy} MWh exceeds {capacity} MW × 8760 h")
    if len(problems.problems) > before or capacity is None or energy is None or price is None:
        return None
    extra = {k: v for k, v in raw.items() if k not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS and k}
    return Bid(
        bid_id=text["bid_id"],
        bidder=text["bidder"],
        technology=text["technology"],
        capacity_mw=capacity,
        annual_mwh=energy,
        price=price,
        innovative=innovative in TRUE_WORDS,
        grid_node=text["grid_node"] or None,
        alternative_group=text["alternative_group"] or None,
        min_capacity_mw=minimum,
        extra=extra,
    )


def check_bids(
    bids: list[Bid],
    round_spec: RoundSpec | None,
    problems: ProblemCollector,
    rows: list[int] | None = None,
) -> None:
    """Cross-row rules: unique ids, known technologies and nodes, alternatives of one bidder."""
    rows = rows or list(range(1, len(bids) + 1))
    first_row: dict[str, int] = {}
    group_bidder: dict[str, tuple[str, int]] = {}
    for bid, row in zip(bids, rows, strict=True):
        if bid.bid_id in first_row:
            problems.add(
                row,
                "bid_id",
                f"duplicate bid id {bid.bid_id!r} (first at row {first_row[bid.bid_id]})",
            )
        else:
            first_row[bid.bid_id] = row
        if round_spec is not None:
            if bid.technology not in round_spec.technology_names:
                problems.add(
                    row,
                    "technology",
                    f"unknown technology {bid.technology!r}; "
                    f"the round has {round_spec.technology_names}",
                )
            if (
                round_spec.grid_nodes
                and bid.grid_node
                and bid.grid_node not in round_spec.grid_nodes
            ):
                problems.add(row, "grid_node", f"unknown grid node {bid.grid_node!r}")
        if bid.alternative_group:
            owner = group_bidder.setdefault(bid.alternative_group, (bid.bidder, row))
            if owner[0] != bid.bidder:
                problems.add(
                    row,
                    "alternative_group",
                    f"group {bid.alternative_group!r} spans bidders {owner[0]!r} "
                    f"(row {owner[1]}) and {bid.bidder!r}",
                )


def read_bids_text(
    text: str, source: str = "bids.csv", round_spec: RoundSpec | None = None
) -> list[Bid]:
    """Parse bids from CSV text; all problems are collected and raised as one InputError."""
    problems = ProblemCollector(source)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise InputError(Problem(source, None, None, f"not valid CSV: {exc}")) from None
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        hint = ""
        if len(header) <= 1 and ";" in ",".join(header):
            hint = (
                "; the header looks semicolon-separated: bids are comma-separated, "
                "with '.' as the decimal point"
            )
        problems.add(None, ", ".join(missing), "missing column(s)" + hint)
        problems.raise_if_any()
    bids: list[Bid] = []
    rows: list[int] = []
    row = 0
    try:
        for row, raw in enumerate(reader, start=1):
            if None in raw:
                problems.add(row, None, "more values than columns (a decimal comma?)")
                continue
            long = [k for k, v in raw.items() if v is not None and len(v) > MAX_FIELD_CHARS]
            if long:
                problems.add(row, long[0], f"longer than {MAX_FIELD_CHARS} characters")
                continue
            bid = _parse_row(raw, row, problems)
            if bid is not None:
                bids.append(bid)
                rows.append(row)
    except csv.Error as exc:
        problems.add(row + 1, None, f"not valid CSV: {exc}")
    if not bids and not problems:
        problems.add(None, None, "no bids")
    check_bids(bids, round_spec, problems, rows)
    problems.raise_if_any()
    return bids


def read_bids(path: str | Path, round_spec: RoundSpec | None = None) -> list[Bid]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), None, None, f"cannot read: {exc}")) from None
    return read_bids_text(text, source=str(path), round_spec=round_spec)
