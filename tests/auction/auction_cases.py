"""Random rounds for property tests, and a brute-force optimum to check the engine against.

The brute force enumerates every award (each bid: 0, or each whole kW from its minimum to its
capacity) and checks each limit itself; prices and valuations come from the validator's
Decimal functions, not from the engine's integer instance.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from auction import Bid, RoundSpec, parse_round
from auction.validate import expected_exclusion, support_value

TECHS = ["solar", "wind", "hydro"]


def mw(kw: int) -> str:
    return str(Decimal(kw).scaleb(-3))


def random_case(
    rng: random.Random, n: int, pricing: str | None = None
) -> tuple[RoundSpec, list[Bid]]:
    techs = TECHS[: rng.randint(1, 3)]
    bidders = [f"B{i}" for i in range(rng.randint(2, 5))]
    bids: list[Bid] = []
    for i in range(n):
        bidder = rng.choice(bidders)
        cap = rng.randint(1, 6)
        hours = 8760 * rng.uniform(0.12, 0.6)
        # Half the bids state whole kWh per kW (exactly linear energy), half do not (rounded).
        annual_kwh = cap * round(hours) if rng.random() < 0.5 else int(cap * hours)
        minimum = rng.randint(1, cap - 1) if cap >= 2 and rng.random() < 0.25 else None
        group = f"g-{bidder}-{rng.randint(0, 1)}" if rng.random() < 0.2 else None
        bids.append(
            Bid(
                bid_id=f"b{i:02d}",
                bidder=bidder,
                technology=rng.choice(techs),
                capacity_mw=Decimal(mw(cap)),
                annual_mwh=Decimal(annual_kwh).scaleb(-3),
                price=Decimal(rng.randint(3000, 8000)).scaleb(-2),
                innovative=rng.random() < 0.3,
                grid_node=rng.choice([None, "N1", "N2"]),
                alternative_group=group,
                min_capacity_mw=None if minimum is None else Decimal(mw(minimum)),
            )
        )
    data: dict[str, Any] = {
        "round_id": f"R{rng.randint(0, 999)}",
        "name": "random",
        "currency": "USD",
        "time_limit_s": "20",
        "technologies": [],
        "pricing": {"rule": pricing or rng.choice(["pay_as_bid", "pay_as_clear", "median"])},
    }
    for tech in techs:
        spec: dict[str, Any] = {"name": tech}
        if rng.random() < 0.5:
            spec["ceiling_price"] = str(rng.randint(55, 80))
        if rng.random() < 0.4:
            spec["max_mw"] = mw(rng.randint(3, 15))
        if rng.random() < 0.15:
            spec["min_mw"] = mw(rng.randint(1, 3))
        if rng.random() < 0.1:
            spec["max_capacity_factor"] = "0.5"
        data["technologies"].append(spec)
    if len(techs) > 1 and rng.random() < 0.5:
        data["pricing"]["groups"] = {"pot": techs[:2]}
    budget: dict[str, Any] = {"amount": "1"}
    if rng.random() < 0.6:
        budget["reference_price"] = str(rng.randint(20, 50))
    budget["years"] = rng.randint(1, 3)
    if rng.random() < 0.3:
        budget["discount_rate"] = "0.05"
    if rng.random() < 0.2:
        budget["below_reference"] = "negative"
    data["budget"] = budget
    probe = parse_round(data)
    full = sum((support_value(probe, b.price) * b.annual_mwh for b in bids), Decimal(0))
    budget["amount"] = str(
        max(abs(full) * Decimal(rng.uniform(0.15, 0.8)), Decimal(1)).quantize(Decimal("0.01"))
    )
    inn: dict[str, str] = {}
    if rng.random() < 0.3:
        inn["bonus"] = str(rng.choice(["0.1", "0.25", "0.5"]))
    if rng.random() < 0.2:
        inn["score_weight"] = str(rng.choice(["0.1", "0.2", "0.3"]))
    if rng.random() < 0.2:
        inn["ring_fence_share"] = str(rng.choice(["0.2", "0.4"]))
    data["innovation"] = inn
    if rng.random() < 0.4:
        data["grid_nodes"] = {"N1": mw(rng.randint(2, 10)), "N2": mw(rng.randint(2, 10))}
    if rng.random() < 0.3:
        data["bidder_cap_mw"] = mw(rng.randint(3, 10))
    if rng.random() < 0.2:
        data["max_total_mw"] = mw(rng.randint(5, 20))
    if rng.random() < 0.15:
        data["small_plant_threshold_mw"] = mw(rng.randint(3, 6))
    return parse_round(data), bids


def _options(spec: RoundSpec, bid: Bid) -> list[int]:
    if expected_exclusion(spec, bid) is not None:
        return [0]
    cap = int(bid.capacity_mw * 1000)
    low = int((bid.min_capacity_mw or bid.capacity_mw) * 1000)
    return [0, *range(low, cap + 1)]


def evaluate(
    spec: RoundSpec, bids: list[Bid], award: dict[str, int], minimums: bool = True
) -> tuple[Fraction, Decimal] | None:
    """(exactly weighted energy in kWh, budget use) of an award, or None if it breaks a limit."""
    accepted = [(b, award[b.bid_id]) for b in bids if award.get(b.bid_id, 0) > 0]
    used: dict[tuple[str, str], int] = defaultdict(int)
    groups: set[str] = set()
    for b, kw in accepted:
        if b.alternative_group in groups:
            return None
        if b.alternative_group:
            groups.add(b.alternative_group)
        used["bidder", b.bidder] += kw
        used["node", b.grid_node or ""] += kw
        used["tech", b.technology] += kw
        used["total", ""] += kw
    limits: dict[tuple[str, str], Decimal] = {("node", k): v for k, v in spec.grid_nodes.items()}
    for t in spec.technologies:
        if t.max_mw is not None:
            limits["tech", t.name] = t.max_mw
        if minimums and used["tech", t.name] < t.min_mw * 1000:
            return None
    if spec.max_total_mw is not None:
        limits["total", ""] = spec.max_total_mw
    for key, value in list(used.items()):
        limit = spec.bidder_cap_mw if key[0] == "bidder" else limits.get(key)
        if limit is not None and value > limit * 1000:
            return None
    energy = {
        b.bid_id: int(b.annual_mwh * 1000 * kw // int(b.capacity_mw * 1000)) for b, kw in accepted
    }
    # Prices: an independent recomputation of the three rules.
    rule = spec.pricing.rule
    group = {t: g for g, ts in spec.price_groups().items() for t in ts}
    unit_prices: dict[str, list[Decimal]] = defaultdict(list)
    for b, _ in accepted:
        unit_prices[group[b.technology] if rule == "pay_as_clear" else b.technology].append(b.price)
    use = Decimal(0)
    for b, _ in accepted:
        if rule == "pay_as_bid":
            paid = b.price
        else:
            prices = sorted(
                unit_prices[group[b.technology] if rule == "pay_as_clear" else b.technology]
            )
            paid = prices[-1] if rule == "pay_as_clear" else prices[(len(prices) - 1) // 2]
            ceiling = spec.technology(b.technology).ceiling_price
            paid = paid if ceiling is None else min(paid, ceiling)
        use += support_value(spec, paid) * Decimal(energy[b.bid_id]).scaleb(-3)
    weighted = sum(
        (exact_score(spec, bids, b) * energy[b.bid_id] for b, _ in accepted), Fraction(0)
    )
    return weighted, use


def brute_force(
    spec: RoundSpec,
    bids: list[Bid],
    budget: Decimal | None,
    pool: set[str] | None = None,
    fixed: dict[str, int] | None = None,
    minimums: bool = True,
) -> tuple[Fraction, Decimal]:
    """Best (exact weighted kWh, then least budget use) over every award of `pool` given `fixed`.

    Every award is one row of an integer array (kW per bid); limits, energy, prices and budget
    use are computed for all rows at once, in exact integers (kWh, cents, milli-cents)."""
    fixed = fixed or {}
    choices = []
    for b in bids:
        if b.bid_id in fixed:
            choices.append([fixed[b.bid_id]])
        elif pool is not None and b.bid_id not in pool:
            choices.append([0])
        else:
            choices.append(_options(spec, b))
    grid = np.array(list(itertools.product(*choices)), dtype=np.int64).reshape(-1, len(bids))
    ok = np.ones(len(grid), dtype=bool)
    accepted = grid > 0
    by: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, b in enumerate(bids):
        by["bidder", b.bidder].append(i)
        by["node", b.grid_node or ""].append(i)
        by["tech", b.technology].append(i)
        by["total", ""].append(i)
        if b.alternative_group:
            by["group", b.alternative_group].append(i)
    limits: dict[tuple[str, str], Decimal] = {("node", k): v for k, v in spec.grid_nodes.items()}
    limits.update({("tech", t.name): t.max_mw for t in spec.technologies if t.max_mw is not None})
    if spec.max_total_mw is not None:
        limits["total", ""] = spec.max_total_mw
    for key, members in by.items():
        if key[0] == "group":
            ok &= accepted[:, members].sum(axis=1) <= 1
            continue
        limit = spec.bidder_cap_mw if key[0] == "bidder" else limits.get(key)
        if limit is not None:
            ok &= grid[:, members].sum(axis=1) <= int(limit * 1000)
    if minimums:
        for t in spec.technologies:
            ok &= grid[:, by.get(("tech", t.name), [])].sum(axis=1) >= int(t.min_mw * 1000)
    annual = np.array([int(b.annual_mwh * 1000) for b in bids], dtype=np.int64)
    capacity = np.array([int(b.capacity_mw * 1000) for b in bids], dtype=np.int64)
    energy = annual * grid // capacity
    scores = [
        Fraction(0) if expected_exclusion(spec, b) else exact_score(spec, bids, b) for b in bids
    ]
    denominator = math.lcm(*(f.denominator for f in scores))
    weights = np.array([int(f * denominator) for f in scores], dtype=object)
    weighted = (energy.astype(object) * weights).sum(axis=1)
    cost = _costs(spec, bids, accepted, energy)
    if budget is not None:
        ok &= cost <= int(budget * 100_000)
    if not ok.any():
        return Fraction(-1), Decimal(0)
    best = max(weighted[ok])
    cheapest = cost[ok & (weighted == best)].min()
    return Fraction(best, denominator), Decimal(int(cheapest)).scaleb(-5)


def exact_score(spec: RoundSpec, bids: list[Bid], bid: Bid) -> Fraction:
    """The README's score × (1 + bonus), as an exact fraction (no rounding at all)."""
    inn = spec.innovation
    score = Fraction(1)
    if inn.score_weight:
        lowest = min(b.price for b in bids if expected_exclusion(spec, b) is None)
        weight = Fraction(inn.score_weight)
        score = (1 - weight) * Fraction(lowest) / Fraction(bid.price)
        score += weight if bid.innovative else 0
    if bid.innovative:
        score *= 1 + Fraction(inn.bonus)
    return score


def exact_weighted_kwh(spec: RoundSpec, bids: list[Bid], kw: dict[str, int]) -> Fraction:
    """Σ exact score × awarded kWh of an award (kW per bid)."""
    total = Fraction(0)
    for b in bids:
        if kw.get(b.bid_id, 0) > 0:
            energy = int(b.annual_mwh * 1000) * kw[b.bid_id] // int(b.capacity_mw * 1000)
            total += exact_score(spec, bids, b) * energy
    return total


def _cents(spec: RoundSpec, price: Decimal) -> int:
    return int(support_value(spec, price) * 100)


def _costs(spec: RoundSpec, bids: list[Bid], accepted: Any, energy: Any) -> Any:
    """Budget use (milli-cents) of every award row under the round's pricing rule."""
    rule = spec.pricing.rule
    if rule == "pay_as_bid":
        value = np.array([_cents(spec, b.price) for b in bids], dtype=np.int64)
        return (energy * value).sum(axis=1)
    group = {t: g for g, ts in spec.price_groups().items() for t in ts}
    units: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(bids):
        units[group[b.technology] if rule == "pay_as_clear" else b.technology].append(i)
    cost = np.zeros(len(accepted), dtype=np.int64)
    for members in units.values():
        prices = np.array([int(bids[i].price * 100) for i in members], dtype=np.int64)
        taken = accepted[:, members]
        if rule == "pay_as_clear":
            clearing = np.where(taken, prices, -1).max(axis=1)
        else:  # lower median of the accepted prices
            ordered = np.sort(np.where(taken, prices, 2**40), axis=1)
            count = taken.sum(axis=1)
            clearing = ordered[np.arange(len(ordered)), np.maximum(count - 1, 0) // 2]
        candidates = np.unique(prices)
        where = np.clip(np.searchsorted(candidates, clearing), 0, len(candidates) - 1)
        for i in members:
            ceiling = spec.technology(bids[i].technology).ceiling_price
            table = np.array(
                [
                    _cents(spec, min(Decimal(int(p)).scaleb(-2), ceiling or Decimal("Infinity")))
                    for p in candidates
                ],
                dtype=np.int64,
            )
            paid = table[where]
            cost += np.where(accepted[:, i], paid * energy[:, i], 0)
    return cost


def quantize_kwh(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.001"), rounding=ROUND_DOWN)
