"""Exact problem reduction for pay-as-bid rounds from a Lagrangian bound (reduced-cost fixing).

For multipliers y ≥ 0 on the budget and on every capacity limit (a technology minimum is a ≥
limit, so its term has the opposite sign), any award S that meets every limit satisfies

    W(S) ≤ y·b + Σ_blocks g_block(S)

where W is the weighted energy, b the limits' right-hand sides and g a block's weighted energy
less the multipliers' price of what it uses. A block is one bid, or the bids of one alternative
group (at most one wins); each block keeps its exact choices (nothing, or a whole kW from a
bid's minimum to its capacity). With M_block ≥ max g_block and L = y·b + Σ M_block, an award
with W(S) ≥ target has, in every block, g_block(S) ≥ M_block − (L − target). Choices that fall
short are impossible for every such award and are removed. This holds for ANY y ≥ 0, so the
multipliers may come from a floating-point LP (GLOP): they are rounded to integers over a
common denominator and every test below is exact integer arithmetic. An LP with good duals
only makes the reduction stronger; it never makes it wrong.

Keeping every award with W ≥ target keeps every lexicographic optimum once target is at most
the optimal weighted energy, so the tie-break levels give the same answer on the reduced model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .instance import Instance, ScaledBid

DENOMINATOR = 2**40  # multipliers are rounded down to multiples of 1/DENOMINATOR
# A capacity limit: (−1 for ≤ / +1 for ≥, the bids it counts, kW).
LimitRow = tuple[int, list["ScaledBid"], int]


@dataclass(frozen=True)
class Restriction:
    """Choices an award may still make: all others provably cost weighted energy."""

    excluded: frozenset[str] = frozenset()  # bids that cannot win
    required: tuple[tuple[str, ...], ...] = ()  # blocks of which one bid must win
    kw_range: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # partial bids

    @property
    def empty(self) -> bool:  # no award reaches the target
        return any(not block for block in self.required)

    def meet(self, other: Restriction) -> Restriction:
        """Both restrictions at once (each holds for every award reaching the target): a bid
        whose two kW ranges do not meet cannot win."""
        ranges = dict(self.kw_range)
        for bid_id, (low, high) in other.kw_range.items():
            mine = ranges.get(bid_id, (low, high))
            ranges[bid_id] = (max(low, mine[0]), min(high, mine[1]))
        excluded = self.excluded | other.excluded
        excluded |= {i for i, (low, high) in ranges.items() if low > high}
        blocks = self.required + other.required
        required = tuple(dict.fromkeys(tuple(i for i in b if i not in excluded) for b in blocks))
        ranges = {i: span for i, span in ranges.items() if i not in excluded}
        return Restriction(frozenset(excluded), required, ranges)


@dataclass
class _Choice:
    bid: ScaledBid
    slope: int  # cap·ĝ(x) = slope·x + offset bounds cap·g(x) from above on [low, high]
    offset: int
    low: int
    high: int

    def best(self) -> int:  # ceil of max ĝ over [low, high]: an integer upper bound
        cap = self.bid.capacity_kw
        return max(-(-(self.slope * x + self.offset) // cap) for x in (self.low, self.high))


@dataclass
class LagrangianBound:
    """L (scaled by DENOMINATOR) and each block's choices, for reductions at any target."""

    scaled_bound: int
    blocks: list[tuple[int, bool, list[_Choice]]]  # (M_block, may award nothing, choices)
    budget_mc: int | None
    budget_y: int  # the budget's multiplier × DENOMINATOR

    def bound(self, budget_mc: int | None = None) -> int:
        """A proven upper bound on the weighted energy (kWh × weight); `budget_mc` may lower
        the budget (the same multipliers stay valid: only y·b changes)."""
        return self._scaled(budget_mc) // DENOMINATOR

    def _scaled(self, budget_mc: int | None) -> int:
        if budget_mc is None or self.budget_mc is None:
            return self.scaled_bound
        return self.scaled_bound - self.budget_y * (self.budget_mc - budget_mc)

    def restrict(self, target: int, budget_mc: int | None = None) -> Restriction:
        """Every award with weighted energy ≥ target (and budget use ≤ `budget_mc`, when
        given and below the round's budget) satisfies the returned restriction."""
        if budget_mc is not None and self.budget_mc is not None:
            budget_mc = min(budget_mc, self.budget_mc)
        slack = self._scaled(budget_mc) - target * DENOMINATOR
        if slack < 0:
            return Restriction(required=((),))
        excluded: set[str] = set()
        required: list[tuple[str, ...]] = []
        ranges: dict[str, tuple[int, int]] = {}
        for top, nothing_allowed, choices in self.blocks:
            floor_value = top - slack  # a kept choice has ĝ ≥ floor_value
            kept = []
            for c in choices:
                span = _kept_range(c, floor_value)
                if span is None:
                    excluded.add(c.bid.bid_id)
                    continue
                kept.append(c.bid.bid_id)
                if span != (c.bid.min_kw, c.bid.capacity_kw) and c.low < c.high:
                    ranges[c.bid.bid_id] = span
            if not nothing_allowed or floor_value > 0:
                required.append(tuple(kept))
        return Restriction(frozenset(excluded), tuple(required), ranges)

    def slack_for(self, free_blocks: int) -> int:
        """The target gap (weighted energy) at which about `free_blocks` blocks may change
        which bid they award: a first guess at how far the optimum is below the bound."""
        gaps = sorted(_second_gap(top, nothing, choices) for top, nothing, choices in self.blocks)
        if not gaps:
            return 0
        return -(-gaps[min(free_blocks, len(gaps)) - 1] // DENOMINATOR)


def _kept_range(c: _Choice, floor_value: int) -> tuple[int, int] | None:
    """The kW of [low, high] where cap·ĝ(x) ≥ cap·floor_value, or None."""
    need = floor_value * c.bid.capacity_kw - c.offset  # slope·x ≥ need
    low, high = c.low, c.high
    if c.slope > 0:
        low = max(low, -(-need // c.slope))
    elif c.slope < 0:
        high = min(high, need // c.slope)
    elif need > 0:
        return None
    return (low, high) if low <= high else None


def _second_gap(top: int, nothing: bool, choices: list[_Choice]) -> int:
    """How much slack lets a block change which bid (or none) it awards."""
    values = sorted(([0] if nothing else []) + [c.best() for c in choices], reverse=True)
    return top - values[1] if len(values) > 1 else 2**62


@dataclass(frozen=True)
class Multipliers:
    """Integer multipliers (× DENOMINATOR, all ≥ 0) for the budget and each limit row."""

    budget_y: int
    row_y: tuple[int, ...]


def integer_multipliers(
    budget_dual: float, row_duals: list[float], rows: list[LimitRow], objective_per_cost: float
) -> Multipliers:
    """An LP's duals (objective units per unit of each row, the budget's per unit of the
    budget row scaled by `objective_per_cost`) as integer multipliers, rounded down and
    clipped at zero: any such multipliers give a valid bound."""
    budget_y = int(max(budget_dual, 0.0) * objective_per_cost * DENOMINATOR)
    row_y = tuple(
        int(max(-sense * dual, 0.0) * DENOMINATOR)
        for (sense, _, _), dual in zip(rows, row_duals, strict=True)
    )
    return Multipliers(budget_y, row_y)


def lagrangian_bound(
    inst: Instance,
    pool: list[ScaledBid],
    fixed_kw: Mapping[str, int],
    budget_mc: int | None,
    minimums: bool,
) -> LagrangianBound | None:
    """Multipliers from the LP relaxation of the pay-as-bid round, or None if there is none
    (an infeasible or unsolved LP: the caller then solves the full model)."""
    pool = sorted(pool, key=lambda b: b.bid_id)
    if not pool:
        return None
    rows = limit_rows(inst, pool, minimums)
    if rows is None:
        return None
    multipliers = _lp_multipliers(inst, pool, fixed_kw, budget_mc, rows)
    if multipliers is None:
        return None
    return assemble(inst, pool, fixed_kw, budget_mc, rows, multipliers)


def _lp_multipliers(
    inst: Instance,
    pool: list[ScaledBid],
    fixed_kw: Mapping[str, int],
    budget_mc: int | None,
    rows: list[LimitRow],
) -> Multipliers | None:
    from ortools.linear_solver import pywraplp

    lp = pywraplp.Solver.CreateSolver("GLOP")
    # Scale the objective and the budget row to coefficients near 1 for the LP's tolerances.
    obj_scale = max(b.weight * b.annual_kwh / b.capacity_kw for b in pool) or 1.0
    cost_scale = max(
        abs(inst.valuation(b.price_cents)) * b.annual_kwh / b.capacity_kw for b in pool
    )
    cost_scale = cost_scale or 1.0
    columns = {}
    objective = lp.Objective()
    budget_row = (
        None if budget_mc is None else lp.Constraint(-lp.infinity(), budget_mc / cost_scale)
    )
    for b in pool:
        fixed = fixed_kw.get(b.bid_id)
        low, high = (fixed, fixed) if fixed is not None else (0, b.capacity_kw)
        x = lp.NumVar(low, high, "")
        columns[b.bid_id] = x
        per_kw = b.annual_kwh / b.capacity_kw
        objective.SetCoefficient(x, b.weight * per_kw / obj_scale)
        if budget_row is not None:
            budget_row.SetCoefficient(x, inst.valuation(b.price_cents) * per_kw / cost_scale)
    objective.SetMaximization()
    constraints = []
    for sense, members, rhs in rows:
        row = lp.Constraint(-lp.infinity(), rhs) if sense < 0 else lp.Constraint(rhs, lp.infinity())
        for b in members:
            row.SetCoefficient(columns[b.bid_id], 1)
        constraints.append(row)
    for members in alternatives(pool).values():
        row = lp.Constraint(-lp.infinity(), 1)
        for b in members:
            row.SetCoefficient(columns[b.bid_id], 1 / b.capacity_kw)
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    return integer_multipliers(
        0.0 if budget_row is None else budget_row.dual_value() * obj_scale,
        [row.dual_value() * obj_scale for row in constraints],
        rows,
        1 / cost_scale,
    )


def assemble(
    inst: Instance,
    pool: list[ScaledBid],
    fixed_kw: Mapping[str, int],
    budget_mc: int | None,
    rows: list[LimitRow],
    multipliers: Multipliers,
    accept_y: Mapping[str, int] | None = None,
    constant: int = 0,
) -> LagrangianBound:
    """The exact Lagrangian bound of the pay-as-bid stage (bids `pool`, sorted by bid_id) for
    any multipliers, in integers. `rows` may name bids outside the pool (a row of a larger
    stage): a limit on more bids still holds for these. `accept_y` prices each accepted bid
    (× DENOMINATOR): the multipliers of count rows Σ ±accepted ≤ 0, which a median price box
    imposes (`uniform.py`); `constant` adds the right-hand sides of the rows it prices, × D."""
    accept_y = accept_y or {}
    budget_y = multipliers.budget_y if budget_mc is not None else 0
    scaled = budget_y * (budget_mc or 0) + constant
    per_kw_price: dict[str, int] = defaultdict(int)
    for (sense, members, rhs), y in zip(rows, multipliers.row_y, strict=True):
        scaled += -sense * y * rhs
        for b in members:
            per_kw_price[b.bid_id] += -sense * y
    blocks = []
    grouped = alternatives(pool)
    in_group = {b.bid_id for members in grouped.values() for b in members}
    singles = [[b] for b in pool if b.bid_id not in in_group]
    for members in [*singles, *grouped.values()]:
        # A fixed award leaves its alternatives nothing (the model forbids them outright).
        members = [b for b in members if b.bid_id in fixed_kw] or members
        choices = [
            _choice(
                inst,
                b,
                fixed_kw.get(b.bid_id),
                budget_y,
                per_kw_price[b.bid_id],
                accept_y.get(b.bid_id, 0),
            )
            for b in members
        ]
        nothing = not any(b.bid_id in fixed_kw for b in members)
        top = max([c.best() for c in choices] + ([0] if nothing else []))
        blocks.append((top, nothing, choices))
        scaled += top
    return LagrangianBound(scaled, blocks, budget_mc, budget_y)


def _choice(
    inst: Instance, b: ScaledBid, fixed: int | None, budget_y: int, kw_y: int, accept_y: int = 0
) -> _Choice:
    """ĝ(x) ≥ g(x) = (w·D − y_B·V)·e(x) − y_kW·x − y_A with e(x) = ⌊annual·x / cap⌋, as a
    line over the bid's award sizes (y_A: the price of accepting it at all)."""
    per_kwh = b.weight * DENOMINATOR - budget_y * inst.valuation(b.price_cents)
    return _line(b, fixed, per_kwh, kw_y, accept_y)


def _line(b: ScaledBid, fixed: int | None, per_kwh: int, kw_y: int, accept_y: int) -> _Choice:
    """`_choice` given the bid's value per kWh, (w·D − y_B·V)."""
    cap = b.capacity_kw
    low, high = (fixed, fixed) if fixed is not None else (b.min_kw, cap)
    if low == high:  # one award size: its exact value
        value = per_kwh * b.energy(low) - kw_y * low - accept_y
        return _Choice(b, 0, value * cap, low, high)
    slope = per_kwh * b.annual_kwh - kw_y * cap
    # e(x) ≥ (annual·x − cap + 1)/cap: a negative per-kWh value is bounded with that lower end.
    exact = b.annual_kwh % cap == 0
    offset = -per_kwh * (cap - 1) if per_kwh < 0 and not exact else 0
    return _Choice(b, slope, offset - accept_y * cap, low, high)


def alternatives(pool: list[ScaledBid]) -> dict[str, list[ScaledBid]]:
    groups: dict[str, list[ScaledBid]] = defaultdict(list)
    for b in pool:
        if b.bid.alternative_group:
            groups[b.bid.alternative_group].append(b)
    return {g: members for g, members in sorted(groups.items()) if len(members) > 1}


def limit_rows(inst: Instance, pool: list[ScaledBid], minimums: bool) -> list[LimitRow] | None:
    """(−1 for ≤ / +1 for ≥, bids, kW) of every capacity limit the model imposes; None when a
    minimum has no bids at all (the model is infeasible; the full solve reports it)."""
    bidders: dict[str, list[ScaledBid]] = defaultdict(list)
    nodes: dict[str, list[ScaledBid]] = defaultdict(list)
    techs: dict[str, list[ScaledBid]] = defaultdict(list)
    for b in pool:
        bidders[b.bid.bidder].append(b)
        if b.bid.grid_node in inst.grid_kw:
            nodes[b.bid.grid_node].append(b)
        techs[b.technology].append(b)
    rows: list[LimitRow] = []

    def caps(groups: dict[str, list[ScaledBid]], limits: Mapping[str, int | None]) -> None:
        for key in sorted(groups):
            limit = limits.get(key)
            if limit is not None and sum(b.capacity_kw for b in groups[key]) > limit:
                rows.append((-1, groups[key], limit))  # others cannot bind

    if inst.bidder_cap_kw is not None:
        caps(bidders, dict.fromkeys(bidders, inst.bidder_cap_kw))
    caps(nodes, inst.grid_kw)
    caps(techs, inst.tech_max_kw)
    if minimums:
        for tech, minimum in sorted(inst.tech_min_kw.items()):
            if minimum > 0 and not techs.get(tech):
                return None
            if minimum > 0:
                rows.append((1, techs[tech], minimum))
    if inst.total_kw is not None:
        rows.append((-1, pool, inst.total_kw))
    return rows


class PoolArrays:
    """A stage's bids as arrays, for the Lagrangian bound of many stages on subsets of them at
    other prices (`uniform.py`): the value of `assemble(...).bound()`, in the same exact
    integers (numpy object arrays of Python ints), without a block object per bid."""

    def __init__(self, pool: list[ScaledBid], fixed_kw: Mapping[str, int], rows: list[LimitRow]):
        self.pool = sorted(pool, key=lambda b: b.bid_id)
        self.fixed_kw = fixed_kw
        self.rows = rows
        index = {b.bid_id: i for i, b in enumerate(self.pool)}
        self.members = [np.array([index[b.bid_id] for b in m], dtype=np.int64) for _, m, _ in rows]
        self.weight_d = np.array([b.weight * DENOMINATOR for b in self.pool], dtype=object)
        self.energy = np.array([b.annual_kwh for b in self.pool], dtype=object)
        self.capacity = np.array([b.capacity_kw for b in self.pool], dtype=object)
        # Bids with one award size (all-or-nothing, not fixed) are valued as arrays; the rest
        # (partial or fixed) through `_line`, one by one.
        self.special = np.array(
            [b.min_kw < b.capacity_kw or b.bid_id in fixed_kw for b in self.pool], dtype=bool
        )
        self.fixed = np.array([b.bid_id in fixed_kw for b in self.pool], dtype=bool)
        groups: dict[str, list[int]] = defaultdict(list)
        for i, b in enumerate(self.pool):
            if b.bid.alternative_group:
                groups[b.bid.alternative_group].append(i)
        self.groups = [m for _, m in sorted(groups.items()) if len(m) > 1]
        grouped = np.zeros(len(self.pool), dtype=bool)
        for group in self.groups:
            grouped[group] = True
        self.single = ~grouped

    def bound(
        self,
        eligible: Any,
        valuation: Any,
        budget_mc: int | None,
        multipliers: Multipliers,
        accept_y: Any = None,
        constant: int = 0,
    ) -> int:
        """The bound of the stage on the `eligible` bids (a mask), each bid's budget use per MWh
        `valuation` (an object array), for the multipliers (and `accept_y`, an object array:
        see `assemble`; `constant` adds the right-hand sides of the rows it prices, × D)."""
        budget_y = multipliers.budget_y if budget_mc is not None else 0
        scaled = budget_y * (budget_mc or 0) + constant
        kw_y = np.zeros(len(self.pool), dtype=object)
        for (sense, _, rhs), members, y in zip(
            self.rows, self.members, multipliers.row_y, strict=True
        ):
            scaled += -sense * y * rhs
            if y:
                kw_y[members] += -sense * y
        per_kwh = self.weight_d - budget_y * valuation
        if accept_y is None:
            accept_y = np.zeros(len(self.pool), dtype=object)
        best = per_kwh * self.energy - kw_y * self.capacity - accept_y
        for i in np.flatnonzero(self.special & eligible):
            b = self.pool[i]
            line = _line(b, self.fixed_kw.get(b.bid_id), per_kwh[i], kw_y[i], accept_y[i])
            best[i] = line.best()
        single = self.single & eligible
        free = single & ~self.fixed
        scaled += int(np.maximum(best[free], 0).sum()) + int(best[single & self.fixed].sum())
        for group in self.groups:
            live = [i for i in group if eligible[i]]
            fixed = [i for i in live if self.fixed[i]]
            if fixed:
                scaled += max(best[i] for i in fixed)
            elif live:
                scaled += max(0, *(best[i] for i in live))
        return scaled // DENOMINATOR
