"""Exact reduction of pay-as-clear rounds over their candidate clearing prices.

With the clearing price c_u of every pricing unit fixed, a pay-as-clear round is a pay-as-bid
problem: a bid may win only if it asked at most c_u, and it is valued at V(min(c_u, ceiling)).
For multipliers y ≥ 0 on the budget and every capacity limit (as in `reduction.py`) each
block's Lagrangian value g(choice; c_u) depends on its own unit's price only, so

    W(S) ≤ y·b + Σ_u F_u(c_u) ≤ L = y·b + Σ_u max_c F_u(c),   F_u(c) = Σ_blocks M_block(c),

for every award S whose true clearing prices are c (M_block(c) ≥ 0: the block's best choice
among bids asking at most c, or nothing; an alternative group spanning units is split into one
block per unit, a relaxation). An award reaching a target T therefore has, in every unit,
max F_u − F_u(c_u) ≤ L − T, and every choice it makes falls at most L − T short of its block's
best: prices and bids beyond that are removed, exactly as for pay-as-bid. The values are
computed in floating point over every (bid, candidate price) pair at once; every test keeps a
choice unless it falls short by more than a margin far above the floating-point error, so
the reduction can only keep too much, never remove an award it must keep.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .instance import Instance, ScaledBid
from .reduction import DENOMINATOR, NO_PRICE, LagrangianBound, Restriction, lagrangian_bound

RELATIVE_MARGIN = 1e-9  # float64 sums here err by ~1e-13 relative; kept choices need less


@dataclass
class _Unit:
    bids: list[ScaledBid]
    candidates: np.ndarray  # clearing prices, cents, ascending
    value: np.ndarray  # g(bid; candidate), −inf where the bid asked more
    block: np.ndarray  # each bid's block (row of `best`)
    best: np.ndarray  # M_block(candidate) ≥ 0
    total: np.ndarray  # F_u(candidate)


@dataclass
class UniformBound:
    """L and each unit's values at every candidate price, for reductions at any target."""

    units: dict[str, _Unit]
    limits: float  # y·b, weighted-energy units
    budget_mc: int | None
    budget_y: float  # the budget's multiplier, weighted energy per milli-cent
    margin: float

    def _bound(self, budget_mc: int | None) -> float:
        top = sum(max(0.0, float(u.total.max())) for u in self.units.values())
        lowered = 0.0
        if budget_mc is not None and self.budget_mc is not None:
            lowered = self.budget_y * (self.budget_mc - budget_mc)
        return self.limits - lowered + top

    def bound(self, budget_mc: int | None = None) -> int:
        return math.ceil(self._bound(budget_mc) + self.margin)

    def restrict(self, target: int, budget_mc: int | None = None) -> Restriction:
        if budget_mc is not None and self.budget_mc is not None:
            budget_mc = min(budget_mc, self.budget_mc)
        slack = self._bound(budget_mc) - target + self.margin
        if slack < 0:
            return Restriction(required=((),))
        excluded: set[str] = set()
        prices: dict[str, frozenset[int]] = {}
        for name, u in self.units.items():
            top = max(0.0, float(u.total.max()))
            deficit = top - u.total  # per candidate
            allowed = deficit <= slack
            kept = {int(c) for c in u.candidates[allowed]}
            if top <= slack:
                kept.add(NO_PRICE)
            prices[name] = frozenset(kept)
            short = deficit[None, :] + u.best[u.block, :] - u.value
            possible = (short <= slack) & allowed[None, :]
            for i in np.flatnonzero(~possible.any(axis=1)):
                excluded.add(u.bids[i].bid_id)
        return Restriction(excluded=frozenset(excluded), prices=prices)

    def slack_for(self, free_blocks: int) -> int:
        """A first guess at the optimum's distance below the bound: the gap at which about
        `free_blocks` blocks could change their choice at each unit's best price."""
        gaps: list[float] = []
        for u in self.units.values():
            k = int(u.total.argmax())
            for row in range(u.best.shape[0]):
                members = u.value[u.block == row, k]
                values = sorted([0.0, *members[np.isfinite(members)]], reverse=True)
                gaps.append(values[0] - values[1] if len(values) > 1 else math.inf)
        gaps.sort()
        if not gaps:
            return 0
        gap = gaps[min(free_blocks, len(gaps)) - 1]
        return math.ceil(gap + self.margin) if math.isfinite(gap) else 2**62


def _unit_of(inst: Instance, b: ScaledBid) -> str:
    return inst.group_of[b.technology]


def uniform_bound(
    inst: Instance,
    pool: list[ScaledBid],
    budget_mc: int | None,
    minimums: bool,
    reference_kw: Mapping[str, int],
) -> UniformBound | None:
    """Multipliers from the LP of the round priced at the reference award's clearing prices
    (bids above them at their own price: any multipliers are valid), then every unit's values
    at every candidate price. None when the LP has no solution."""
    units: dict[str, list[ScaledBid]] = defaultdict(list)
    for b in sorted(pool, key=lambda b: b.bid_id):
        units[_unit_of(inst, b)].append(b)
    reference = {
        u: max((b.price_cents for b in members if reference_kw.get(b.bid_id)), default=0)
        for u, members in units.items()
    }
    priced = [
        dataclasses.replace(
            b,
            price_cents=inst.paid_cents(
                b.technology, max(reference[_unit_of(inst, b)], b.price_cents)
            ),
        )
        for b in pool
    ]
    relaxed = lagrangian_bound(inst, priced, {}, budget_mc, minimums)
    if relaxed is None:
        return None
    budget_y = relaxed.budget_y / DENOMINATOR
    limits = relaxed.limits_scaled / DENOMINATOR
    scale = abs(limits)
    built = {}
    for name, members in sorted(units.items()):
        unit = _values(inst, members, budget_y, relaxed.kw_y)
        scale += float(np.abs(np.where(np.isfinite(unit.value), unit.value, 0)).max(axis=1).sum())
        built[name] = unit
    return UniformBound(built, limits, budget_mc, budget_y, RELATIVE_MARGIN * scale + 1)


def _values(
    inst: Instance, members: list[ScaledBid], budget_y: float, kw_y: Mapping[str, int]
) -> _Unit:
    candidates = np.array(sorted({b.price_cents for b in members}), dtype=np.int64)
    by_tech: dict[str, np.ndarray] = {}
    for tech in {b.technology for b in members}:
        by_tech[tech] = np.array(
            [inst.valuation(inst.paid_cents(tech, int(c))) for c in candidates], dtype=float
        )
    value = np.full((len(members), len(candidates)), -np.inf)
    blocks: dict[str, int] = {}
    block = np.zeros(len(members), dtype=np.int64)
    for i, b in enumerate(members):
        key = b.bid.alternative_group or f"\0{b.bid_id}"
        block[i] = blocks.setdefault(key, len(blocks))
        per_kwh = b.weight - budget_y * by_tech[b.technology]  # per kWh, at every price
        per_kw = kw_y.get(b.bid_id, 0) / DENOMINATOR
        ends = [b.capacity_kw] if b.min_kw == b.capacity_kw else [b.min_kw, b.capacity_kw]
        best = np.max(
            [per_kwh * b.energy(x) - per_kw * x for x in ends], axis=0
        )  # linear in x between the ends (whole kWh per kW) …
        if b.min_kw < b.capacity_kw and b.annual_kwh % b.capacity_kw:
            best = best + np.abs(per_kwh)  # … or within one kWh of it (energy rounded down)
        allowed = candidates >= b.price_cents
        value[i, allowed] = best[allowed]
    best_of = np.zeros((len(blocks), len(candidates)))
    np.maximum.at(best_of, block, np.where(np.isfinite(value), value, 0.0))
    return _Unit(members, candidates, value, block, best_of, best_of.sum(axis=0))


@dataclass
class CombinedBound:
    """Both reductions at once. A pay-as-clear winner is paid at least its own bid, so a
    pay-as-clear award within a budget is within it at pay-as-bid prices too: the pay-as-bid
    reduction (`reduction.py`), usually much the tighter, is valid for it as well. The
    pay-as-clear one adds the prices each unit may still clear at."""

    by_bid: LagrangianBound
    by_price: UniformBound

    def bound(self, budget_mc: int | None = None) -> int:
        return min(self.by_bid.bound(budget_mc), self.by_price.bound(budget_mc))

    def restrict(self, target: int, budget_mc: int | None = None) -> Restriction:
        first = self.by_bid.restrict(target, budget_mc)
        second = self.by_price.restrict(target, budget_mc)
        excluded = first.excluded | second.excluded
        required = tuple(
            tuple(bid_id for bid_id in block if bid_id not in excluded) for block in first.required
        )
        ranges = {k: v for k, v in first.kw_range.items() if k not in excluded}
        return Restriction(excluded, required + second.required, ranges, second.prices)

    def slack_for(self, free_blocks: int) -> int:
        return self.by_bid.slack_for(free_blocks)


def pay_as_clear_bound(
    inst: Instance,
    pool: list[ScaledBid],
    budget_mc: int | None,
    minimums: bool,
    reference_kw: Mapping[str, int],
) -> CombinedBound | None:
    by_bid = lagrangian_bound(inst, pool, {}, budget_mc, minimums)
    by_price = uniform_bound(inst, pool, budget_mc, minimums, reference_kw)
    return None if by_bid is None or by_price is None else CombinedBound(by_bid, by_price)
