"""The one set of bounds every request is held to before it reaches the database or the
solver: identifiers, names, numbers. Both databases then see only values that fit their
columns, so the same request gets the same answer on SQLite and PostgreSQL.

Identifiers are short and from a small alphabet (no '/', no spaces, no control characters)
because they appear in paths and in derived ids: a contract id is `<round>-<bid>` (or
`<round>-<producer>-<bid>` when two producers used one bid id), at most 100 characters.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import Any

from mzekari.errors import ProblemCollector

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
SERIES_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"  # price series names (a path segment)
MAX_ID_LENGTH = 32  # round, bid and producer ids: 3 × 32 + 2 separators ≤ 100
MAX_NAME_LENGTH = 200
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*$"  # printable: no NUL, no control characters
MAX_TECHNOLOGIES = 50
MAX_TECHNOLOGY_LENGTH = 50  # awards.technology is varchar(50)
MAX_GRID_NODES = 1000
MAX_BUDGET_YEARS = 50

# Database integer keys (PostgreSQL `integer`): larger ids in paths or queries are refused.
MAX_ROW_ID = 2**31 - 1

# Currency per MWh; NUMERIC(14, 2) holds up to 10^12, the solver's integer model far less.
MAX_PRICE = Decimal("100000.00")
# Uploaded market prices may be negative; same column type.
MAX_ABS_MARKET_PRICE = Decimal("1000000.00")
MAX_CAPACITY_MW = Decimal("100000.000")  # 100 GW: far above any plant, far below NUMERIC(14, 3)
MAX_BUDGET = Decimal("1000000000000.00")  # 10^12 in the round's currency
MAX_FX_RATE = Decimal("100000")  # NUMERIC(14, 6) holds up to 10^8
MAX_TIME_LIMIT_S = Decimal(3600)
HOURS_PER_YEAR = 8760
# A bid is accepted only if a round of this many bids like it clears exactly in the engine's
# 64-bit integer model; larger rounds still clear, and the engine refuses an oversized one.
ENGINE_HEADROOM_BIDS = 1000

MONTH_PATTERN = r"^(199[0-9]|2[01][0-9]{2})-(0[1-9]|1[0-2])$"


def _bounded(
    problems: ProblemCollector,
    field: str,
    value: Decimal | None,
    high: Decimal,
    low: Decimal = Decimal(0),
) -> None:
    if value is not None and not low <= value <= high:
        problems.add(None, field, f"must be between {low} and {high}, got {value}")


def _identifier(problems: ProblemCollector, field: str, value: str, length: int) -> None:
    if len(value) > length or not re.fullmatch(ID_PATTERN, value):
        problems.add(
            None,
            field,
            f"expected 1 to {length} letters, digits or '_.:-' (not starting with one of "
            f"'_.:-'), got {value[:60]!r}",
        )


def _name(problems: ProblemCollector, field: str, value: str, length: int) -> None:
    if len(value) > length or not re.fullmatch(NAME_PATTERN, value):
        problems.add(None, field, f"expected at most {length} printable characters")


def check_round(spec: Any, source: str = "round") -> None:
    """A parsed `auction.RoundSpec` within the service's bounds; InputError naming each field."""
    problems = ProblemCollector(source)
    _identifier(problems, "round_id", spec.round_id, MAX_ID_LENGTH)
    _name(problems, "name", spec.name, MAX_NAME_LENGTH)
    if len(spec.technologies) > MAX_TECHNOLOGIES:
        problems.add(None, "technologies", f"at most {MAX_TECHNOLOGIES} technologies")
    for i, tech in enumerate(spec.technologies[:MAX_TECHNOLOGIES]):
        where = f"technologies[{i}]"
        _identifier(problems, f"{where}.name", tech.name, MAX_TECHNOLOGY_LENGTH)
        _bounded(problems, f"{where}.ceiling_price", tech.ceiling_price, MAX_PRICE)
        _bounded(problems, f"{where}.min_mw", tech.min_mw, MAX_CAPACITY_MW)
        _bounded(problems, f"{where}.max_mw", tech.max_mw, MAX_CAPACITY_MW)
    if len(spec.grid_nodes) > MAX_GRID_NODES:
        problems.add(None, "grid_nodes", f"at most {MAX_GRID_NODES} grid nodes")
    for node, mw in list(spec.grid_nodes.items())[:MAX_GRID_NODES]:
        _name(problems, f"grid_nodes.{node[:60]}", node, 100)
        _bounded(problems, f"grid_nodes.{node[:60]}", mw, MAX_CAPACITY_MW)
    for group in spec.pricing.groups:
        _name(problems, f"pricing.groups.{group[:60]}", group, 100)
    for field in ("bidder_cap_mw", "max_total_mw", "small_plant_threshold_mw"):
        _bounded(problems, field, getattr(spec, field), MAX_CAPACITY_MW)
    _bounded(problems, "time_limit_s", spec.time_limit_s, MAX_TIME_LIMIT_S)
    budget = spec.budget
    if budget is not None:
        _bounded(problems, "budget.amount", budget.amount, MAX_BUDGET)
        _bounded(problems, "budget.reference_price", budget.reference_price, MAX_PRICE)
        prices = budget.reference_prices or []
        if len(prices) > MAX_BUDGET_YEARS:
            problems.add(None, "budget.reference_prices", f"at most {MAX_BUDGET_YEARS} prices")
        for i, price in enumerate(prices[:MAX_BUDGET_YEARS]):
            _bounded(problems, f"budget.reference_prices[{i}]", price, MAX_PRICE)
    problems.raise_if_any()


def check_bid(spec: Any, bid: Any, source: str = "bid") -> None:
    """A validated `auction.Bid` within the round's limits and the engine's exact range:
    capacity within the technology's and the round's maximum and its grid node, energy within
    capacity × 8,760 h, price within (0, MAX_PRICE], and a round of ENGINE_HEADROOM_BIDS bids
    like it still clears exactly in 64-bit integers."""
    from auction.instance import build_instance, scale_problem

    problems = ProblemCollector(source)
    tech = spec.technology(bid.technology)
    capacity_limits = [
        ("the technology's max_mw", tech.max_mw),
        ("the round's max_total_mw", spec.max_total_mw),
        ("the grid node's capacity", spec.grid_nodes.get(bid.grid_node or "")),
        ("the service's limit", MAX_CAPACITY_MW),
    ]
    for what, limit in capacity_limits:
        if limit is not None and bid.capacity_mw > limit:
            problems.add(None, "capacity_mw", f"{bid.capacity_mw} MW exceeds {what} {limit} MW")
            break
    if bid.annual_mwh > bid.capacity_mw * HOURS_PER_YEAR:
        problems.add(None, "annual_mwh", f"exceeds capacity_mw × {HOURS_PER_YEAR} h")
    _bounded(problems, "price", bid.price, MAX_PRICE)
    for field in ("bid_id", "bidder"):
        _identifier(problems, field, getattr(bid, field), MAX_ID_LENGTH)
    for field in ("grid_node", "alternative_group"):
        value = getattr(bid, field)
        if value is not None:
            _name(problems, field, value, 100)
    if not problems:
        copies = [
            dataclasses.replace(bid, bid_id=f"{i}", extra={}) for i in range(ENGINE_HEADROOM_BIDS)
        ]
        too_big = scale_problem(build_instance(spec, copies))
        if too_big:
            problems.add(
                None,
                "capacity_mw",
                f"a round of {ENGINE_HEADROOM_BIDS} bids like this one could not be cleared "
                f"exactly ({too_big} beyond 64-bit integers): lower capacity, energy or price",
            )
    problems.raise_if_any()
