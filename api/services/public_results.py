"""Published results of awarded rounds (law Art. 2(1)(l), 14(1); cf. § 35 EEG): readable by
anyone, without a key.

Per round: the winners (bidder, technology, grid node, MW, MWh/yr, price paid), per
technology the bids and MW offered and awarded with the lowest, highest and
quantity-weighted award price, the bid(s) that set a uniform or median price, the budget
used, and every bid's receipt so a bidder can check its own. Losing bids' prices and sizes
are not published one by one, only in the per-technology totals.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from api.actor import NotFound
from api.db import models as m
from api.uow import UnitOfWork

WINNER_COLUMNS = (
    "round_id",
    "bid_id",
    "bidder",
    "technology",
    "grid_node",
    "capacity_mw",
    "annual_mwh",
    "price_paid",
    "currency",
    "receipt",
)
TECHNOLOGY_COLUMNS = (
    "technology",
    "bids",
    "offered_mw",
    "awarded_bids",
    "awarded_mw",
    "awarded_mwh",
    "lowest_price",
    "highest_price",
    "weighted_price",
)
PRICE_PLACES = Decimal("0.01")


def _awarded_round(uow: UnitOfWork, round_id: str) -> m.Round:
    row = uow.rounds.get(round_id)
    if row is None or row.status != "awarded":
        # Draft, open, closed and provisional (cleared) rounds look the same as none.
        raise NotFound(f"no awarded round {round_id!r}")
    return row


def weighted_price(pairs: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Σ price · MWh / Σ MWh, to the cent, half-up (as every published price)."""
    energy = sum((mwh for _, mwh in pairs), Decimal(0))
    if not energy:
        return None
    total = sum((price * mwh for price, mwh in pairs), Decimal(0))
    return (total / energy).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


def _price_units(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Pricing unit → its technologies, as the clearing prices them: a group under
    pay-as-clear, each technology alone under median pricing."""
    from auction import parse_round

    parsed = parse_round(spec, source="round")
    if parsed.pricing.rule == "pay_as_clear":
        return parsed.price_groups()
    return {t: [t] for t in parsed.technology_names}


def results(uow: UnitOfWork, round_id: str) -> dict[str, Any]:
    row = _awarded_round(uow, round_id)
    awards = uow.rounds.awards(round_id)
    bids = {b.bid_id: b.payload for b in uow.bids.for_round(round_id)}
    clearing = row.clearing or {}
    winners: list[dict[str, Any]] = []
    capacity_mw, energy_mwh = Decimal(0), Decimal(0)
    per_tech: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "bids": 0,
            "offered_mw": Decimal(0),
            "awarded_bids": 0,
            "awarded_mw": Decimal(0),
            "awarded_mwh": Decimal(0),
            "prices": [],
        }
    )
    for award in sorted(awards, key=lambda a: a.bid_id):
        bid = bids[award.bid_id]
        tech = per_tech[award.technology]
        tech["bids"] += 1
        tech["offered_mw"] += Decimal(str(bid["capacity_mw"]))
        if not award.accepted or award.price_paid is None:
            continue
        tech["awarded_bids"] += 1
        tech["awarded_mw"] += award.awarded_capacity_mw
        tech["awarded_mwh"] += award.awarded_annual_mwh
        tech["prices"].append((award.price_paid, award.awarded_annual_mwh))
        capacity_mw += award.awarded_capacity_mw
        energy_mwh += award.awarded_annual_mwh
        winners.append(
            {
                "round_id": round_id,
                "bid_id": award.bid_id,
                "bidder": award.bidder,
                "technology": award.technology,
                "grid_node": bid.get("grid_node"),
                "capacity_mw": award.awarded_capacity_mw,
                "annual_mwh": award.awarded_annual_mwh,
                "price_paid": award.price_paid,
                "currency": row.currency,
                "receipt": award.receipt,
            }
        )
    technologies = {
        name: {
            "bids": t["bids"],
            "offered_mw": t["offered_mw"],
            "awarded_bids": t["awarded_bids"],
            "awarded_mw": t["awarded_mw"],
            "awarded_mwh": t["awarded_mwh"],
            "lowest_price": min((p for p, _ in t["prices"]), default=None),
            "highest_price": max((p for p, _ in t["prices"]), default=None),
            "weighted_price": weighted_price(t["prices"]),
        }
        for name, t in sorted(per_tech.items())
    }
    return {
        "round_id": round_id,
        "name": row.name,
        "currency": row.currency,
        "awarded_at": row.awarded_at,
        "method": clearing.get("rule"),
        "pricing_rule": clearing.get("pricing_rule"),
        "budget": clearing.get("budget"),
        "budget_used": clearing.get("budget_used"),
        "capacity_mw": capacity_mw,
        "energy_mwh": energy_mwh,
        "winners": winners,
        "technologies": technologies,
        "price_setting_bids": _price_setters(row, awards, bids),
        "receipts": [
            {"bid_id": a.bid_id, "bidder": a.bidder, "receipt": a.receipt, "accepted": a.accepted}
            for a in sorted(awards, key=lambda a: a.receipt)
        ],
    }


def _price_setters(
    row: m.Round, awards: Any, bids: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """For uniform (pay-as-clear) and median pricing: the accepted bid(s) whose own price is
    the unit's clearing price (several on a tie)."""
    prices = (row.clearing or {}).get("clearing_prices") or {}
    units = _price_units(row.spec)
    out = []
    for unit, price in sorted(prices.items()):
        members = units[unit]
        for award in sorted(awards, key=lambda a: a.bid_id):
            if (
                award.accepted
                and award.technology in members
                and Decimal(str(bids[award.bid_id]["price"])) == Decimal(price)
            ):
                out.append(
                    {"unit": unit, "clearing_price": Decimal(price), "bid_id": award.bid_id,
                     "bidder": award.bidder, "technology": award.technology}
                )  # fmt: skip
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for item in rows:
        writer.writerow([_text(item.get(c)) for c in columns])
    return buffer.getvalue()


def awarded_rounds(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [
        {"round_id": r.round_id, "name": r.name, "awarded_at": r.awarded_at}
        for r in uow.rounds.list()
        if r.status == "awarded"
    ]
