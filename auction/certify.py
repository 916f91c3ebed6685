"""An independent certificate of a stage's lexicographic optimum: HiGHS re-proves it.

The award CP-SAT found is first re-checked in exact integer arithmetic on the instance (every
limit, the budget under the round's pricing rule, its weighted energy, budget use and lot sum:
`exact_value`). HiGHS, a different solver with its own model written here (not `model.py`),
then solves the same integer instance level by level with its gap tolerances at zero:

1. the most weighted energy; 2. with that energy held, the least budget use; 3. with both
held, the least lot sum.

At each level HiGHS must report an optimum, its own best award is re-checked exactly, and the
exact values must equal CP-SAT's: an exact HiGHS award better than CP-SAT's, or a HiGHS optimum
CP-SAT's award beats, is a disagreement, and the clearing refuses to publish. HiGHS runs on one
thread with a node limit (deterministic work), never a wall-clock limit.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from .instance import Instance, PriceWindow, ScaledBid
from .reduction import LagrangianBound, Restriction, lagrangian_bound

FULL_MODEL_BIDS = 200  # larger pay-as-bid stages are certified on the reduced instance
NODE_LIMIT = 10_000  # HiGHS branch-and-bound nodes per level (deterministic work)
LEVELS = ("weighted_energy", "cost", "lot")
ROW_EXPONENT = 40  # rows with a coefficient of 2**40 or more are scaled down (`_solve`)


@dataclass(frozen=True)
class StageProblem:
    """One clearing stage: the bids it may award, awards fixed before it, its budget."""

    inst: Instance
    pool: list[ScaledBid]
    fixed_kw: Mapping[str, int]
    budget_mc: int | None
    minimums: bool
    lot_pool: list[ScaledBid] | None = None  # lot positions count these (default: the pool)
    clearing: Mapping[str, PriceWindow] | None = None  # median prices allowed per technology

    @property
    def bids(self) -> list[ScaledBid]:
        return sorted(self.pool, key=lambda b: b.bid_id)

    def lot_position(self) -> dict[str, int]:
        ordered = sorted(self.lot_pool or self.pool, key=lambda b: b.lot)
        return {b.bid_id: i + 1 for i, b in enumerate(ordered)}


def _reduction(stage: StageProblem) -> LagrangianBound | None:
    """For large pay-as-bid stages, the exact Lagrangian reduction (`reduction.py`): HiGHS
    then proves the optimum among the choices any award reaching CP-SAT's values can make.
    Other stages, and small ones, are given to HiGHS whole."""
    if stage.inst.spec.pricing.rule != "pay_as_bid" or len(stage.pool) <= FULL_MODEL_BIDS:
        return None
    return lagrangian_bound(stage.inst, stage.pool, stage.fixed_kw, stage.budget_mc, stage.minimums)


@dataclass
class Certificate:
    certified: bool
    disagreement: bool = False  # the two solvers' answers contradict each other
    reduced: bool = False  # HiGHS solved the exactly reduced instance
    reason: str = ""
    levels: list[dict[str, Any]] = field(default_factory=list)
    highs_version: str = ""


def _unit(inst: Instance, b: ScaledBid) -> str:
    return inst.group_of[b.technology] if inst.spec.pricing.rule == "pay_as_clear" else b.technology


def _clearing_cents(inst: Instance, members: list[ScaledBid]) -> int:
    prices = sorted(b.price_cents for b in members)
    if inst.spec.pricing.rule == "median":
        return prices[(len(prices) - 1) // 2]
    return prices[-1]


def exact_value(
    stage: StageProblem, awarded_kw: Mapping[str, int]
) -> tuple[list[str], tuple[int, int, int]]:
    """(violations, (weighted energy, budget use, lot sum)) of an award, in exact integers."""
    inst = stage.inst
    problems: list[str] = []
    pool = {b.bid_id: b for b in stage.pool}
    chosen = [(pool[k], kw) for k, kw in sorted(awarded_kw.items()) if kw > 0 and k in pool]
    unknown = sorted(set(k for k, kw in awarded_kw.items() if kw > 0) - set(pool))
    problems += [f"{k}: not in the stage's pool" for k in unknown]
    for bid_id, kw in stage.fixed_kw.items():
        if awarded_kw.get(bid_id, 0) != kw:
            problems.append(f"{bid_id}: fixed at {kw} kW, awarded {awarded_kw.get(bid_id, 0)}")
    used: dict[tuple[str, str], int] = defaultdict(int)
    alternatives: dict[str, int] = defaultdict(int)
    for b, kw in chosen:
        if not b.min_kw <= kw <= b.capacity_kw:
            problems.append(f"{b.bid_id}: {kw} kW outside [{b.min_kw}, {b.capacity_kw}]")
        if b.bid.alternative_group:
            alternatives[b.bid.alternative_group] += 1
        for key in (("bidder", b.bid.bidder), ("tech", b.technology), ("total", "")):
            used[key] += kw
        if b.bid.grid_node:
            used["node", b.bid.grid_node] += kw
    problems += [f"alternative group {g}: {n} awards" for g, n in alternatives.items() if n > 1]
    limits: dict[tuple[str, str], int | None] = {("total", ""): inst.total_kw}
    limits.update({("tech", t): v for t, v in inst.tech_max_kw.items()})
    limits.update({("node", n): v for n, v in inst.grid_kw.items()})
    for key, total in sorted(used.items()):
        limit = inst.bidder_cap_kw if key[0] == "bidder" else limits.get(key)
        if limit is not None and total > limit:
            problems.append(f"{key[0]} {key[1]}: {total} kW above {limit}")
    if stage.minimums:
        for tech, minimum in sorted(inst.tech_min_kw.items()):
            if used["tech", tech] < minimum:
                problems.append(f"technology {tech}: {used['tech', tech]} kW below {minimum}")
    energy = {b.bid_id: b.energy(kw) for b, kw in chosen}
    units: dict[str, list[ScaledBid]] = defaultdict(list)
    for b, _ in chosen:
        units[_unit(inst, b)].append(b)
    cost = 0
    for b, _ in chosen:
        paid = b.price_cents
        if inst.spec.pricing.rule != "pay_as_bid":
            paid = inst.paid_cents(b.technology, _clearing_cents(inst, units[_unit(inst, b)]))
        cost += inst.valuation(paid) * energy[b.bid_id]
    if stage.budget_mc is not None and cost > stage.budget_mc:
        problems.append(f"budget: {cost} milli-cents used, {stage.budget_mc} available")
    weighted = sum(b.weight * energy[b.bid_id] for b, _ in chosen)
    position = stage.lot_position()
    lot_sum = sum(position[b.bid_id] for b, _ in chosen)
    return problems, (weighted, cost, lot_sum)


class _HighsModel:
    """The stage as a HiGHS MIP: columns and rows gathered in plain lists, then passed at once."""

    def __init__(self, stage: StageProblem, restriction: Restriction | None = None):
        # Bids a restriction excludes are left out (lot positions still count them): they
        # would only add fixed-zero columns to every row of their technology.
        excluded = set() if restriction is None else restriction.excluded
        self.stage = dataclasses.replace(
            stage,
            pool=[b for b in stage.pool if b.bid_id not in excluded],
            lot_pool=stage.lot_pool or stage.pool,
        )
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[float, float, dict[int, float]]] = []
        self.accept: dict[str, int] = {}  # bid → its 0/1 column
        self.kw_terms: dict[str, dict[int, int]] = {}
        self.energy_terms: dict[str, dict[int, int]] = {}
        self._awards()
        self._limits()
        self.cost_terms = self._cost()
        if stage.budget_mc is not None:
            self.rows.append(_at_most(self.cost_terms, stage.budget_mc))
        self.open_bids = len(self.stage.pool)
        if restriction is not None:
            self._restrict(restriction)

    def _restrict(self, r: Restriction) -> None:
        """The choices an exact reduction (`reduction.py`) leaves to awards reaching a target."""
        if any(bid_id in self.stage.fixed_kw for bid_id in r.excluded):
            self.rows.append((1.0, INF, {}))  # a fixed award excluded: no award (`_solve`)
        for block in r.required:
            self.rows.append((1.0, INF, {self.accept[i]: 1.0 for i in block if i in self.accept}))
        for bid_id, (low, high) in r.kw_range.items():
            if bid_id not in self.accept:
                continue
            x, a = next(iter(self.kw_terms[bid_id])), self.accept[bid_id]
            self.rows.append((0.0, INF, {x: 1.0, a: -float(low)}))
            self.rows.append((-INF, 0.0, {x: 1.0, a: -float(high)}))
        self.open_bids -= len(r.required)

    def column(self, low: float, high: float, integer: bool = True) -> int:
        self.lower.append(low)
        self.upper.append(high)
        self.integer.append(integer)
        return len(self.lower) - 1

    def _awards(self) -> None:
        fixed = self.stage.fixed_kw
        for b in self.stage.bids:
            pinned = b.bid_id in fixed
            a = self.column(1.0 if pinned else 0.0, 1.0)
            self.accept[b.bid_id] = a
            if b.min_kw == b.capacity_kw:
                self.kw_terms[b.bid_id] = {a: b.capacity_kw}
                self.energy_terms[b.bid_id] = {a: b.annual_kwh}
                continue
            low = fixed[b.bid_id] if pinned else 0
            high = fixed[b.bid_id] if pinned else b.capacity_kw
            x = self.column(float(low), float(high))
            e = self.column(0.0, float(b.annual_kwh))
            self.rows.append((0.0, INF, {x: 1.0, a: -float(b.min_kw)}))  # x ≥ min·a
            self.rows.append((-INF, 0.0, {x: 1.0, a: -float(b.capacity_kw)}))  # x ≤ cap·a
            # e = ⌊annual·x / cap⌋: 0 ≤ annual·x − cap·e ≤ cap − 1
            terms = {x: float(b.annual_kwh), e: -float(b.capacity_kw)}
            self.rows.append((0.0, float(b.capacity_kw - 1), terms))
            self.kw_terms[b.bid_id] = {x: 1}
            self.energy_terms[b.bid_id] = {e: 1}

    def _sum(self, ids: list[str], terms: dict[str, dict[int, int]]) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for bid_id in ids:
            for col, coef in terms[bid_id].items():
                out[col] += coef
        return out

    def _limits(self) -> None:
        inst, bids = self.stage.inst, self.stage.bids
        groups: dict[str, list[str]] = defaultdict(list)
        caps: dict[tuple[str, str], list[str]] = defaultdict(list)
        for b in bids:
            if b.bid.alternative_group:
                groups[b.bid.alternative_group].append(b.bid_id)
            caps["bidder", b.bid.bidder].append(b.bid_id)
            caps["tech", b.technology].append(b.bid_id)
            caps["total", ""].append(b.bid_id)
            if b.bid.grid_node:
                caps["node", b.bid.grid_node].append(b.bid_id)
        for ids in groups.values():
            self.rows.append((-INF, 1.0, {self.accept[i]: 1.0 for i in ids}))
        limits: dict[tuple[str, str], int | None] = {("total", ""): inst.total_kw}
        limits.update({("tech", t): v for t, v in inst.tech_max_kw.items()})
        limits.update({("node", n): v for n, v in inst.grid_kw.items()})
        for key, ids in sorted(caps.items()):
            limit = inst.bidder_cap_kw if key[0] == "bidder" else limits.get(key)
            if limit is not None:
                self.rows.append((-INF, float(limit), _float(self._sum(ids, self.kw_terms))))
        if self.stage.minimums:
            for tech, minimum in inst.tech_min_kw.items():
                if minimum > 0:
                    terms = _float(self._sum(caps.get(("tech", tech), []), self.kw_terms))
                    self.rows.append((float(minimum), INF, terms))

    def _cost(self) -> dict[int, int]:
        inst = self.stage.inst
        rule = inst.spec.pricing.rule
        cost: dict[int, int] = defaultdict(int)
        if rule == "pay_as_bid":
            for b in self.stage.bids:
                for col, coef in self.energy_terms[b.bid_id].items():
                    cost[col] += inst.valuation(b.price_cents) * coef
            return cost
        units: dict[str, list[ScaledBid]] = defaultdict(list)
        for b in self.stage.bids:
            units[_unit(inst, b)].append(b)
        for unit, window in sorted((self.stage.clearing or {}).items()):
            # A window without "no winner": some bid priced in it wins (the median is a bid's).
            if not window.none:
                inside = [b for b in units.get(unit, []) if window.allows(b.price_cents)]
                self.rows.append((1.0, INF, {self._accept(b): 1.0 for b in inside}))
        for unit in sorted(units):
            if rule == "pay_as_clear":
                self._uniform(units[unit], cost)
            else:
                self._median(units[unit], cost)
        return cost

    def _price_choice(self, members: list[ScaledBid]) -> tuple[list[int], list[int]]:
        """(candidate prices, one binary each): the unit's bid prices, those its `clearing`
        window allows if the stage sets one; at most one is chosen (exactly one when the
        window leaves out "no winner")."""
        window = (self.stage.clearing or {}).get(_unit(self.stage.inst, members[0]))
        prices = sorted({b.price_cents for b in members})
        prices = [p for p in prices if window is None or window.allows(p)]
        chosen = [self.column(0.0, 1.0) for _ in prices]
        least = 0.0 if window is None or window.none else 1.0
        self.rows.append((least, 1.0, dict.fromkeys(chosen, 1.0)))
        return prices, chosen

    def _accept(self, b: ScaledBid) -> int:
        return self.accept[b.bid_id]

    def _uniform(self, members: list[ScaledBid], cost: dict[int, int]) -> None:
        """Pay-as-clear: a bid wins only under a chosen price at or above its own; the energy
        of each technology is counted at the chosen price."""
        inst = self.stage.inst
        prices, chosen = self._price_choice(members)
        for b in members:
            above = {chosen[k]: -1.0 for k, p in enumerate(prices) if p >= b.price_cents}
            self.rows.append((-INF, 0.0, {self._accept(b): 1.0, **above}))
        for tech in sorted({b.technology for b in members}):
            of_tech = [b for b in members if b.technology == tech]
            balance = _float(self._sum([b.bid_id for b in of_tech], self.energy_terms))
            for k, price in enumerate(prices):
                reach = sum(b.annual_kwh for b in of_tech if b.price_cents <= price)
                if not reach:
                    continue
                part = self.column(0.0, float(reach))
                self.rows.append((-INF, 0.0, {part: 1.0, chosen[k]: -float(reach)}))
                balance[part] = balance.get(part, 0.0) - 1.0
                cost[part] += inst.valuation(inst.paid_cents(tech, price))
            self.rows.append((0.0, 0.0, balance))

    def _median(self, members: list[ScaledBid], cost: dict[int, int]) -> None:
        """Median: under chosen price c_k, 2·#(bids ≤ c_k) ≥ n and 2·#(bids < c_k) ≤ n − 1,
        and the technology's use is at least V(c_k)·E (big-M rows, exact in integers). With
        the candidates in [lo, hi], the same rows hold at lo and hi without big M: these
        implied rows tighten the LP (a price window is a box of `uniform.py`)."""
        inst = self.stage.inst
        tech = members[0].technology
        prices, chosen = self._price_choice(members)
        count = len(members)
        accept = {b.bid_id: self._accept(b) for b in members}
        anything = {accept[b.bid_id]: 1.0 for b in members}
        if not prices:  # no candidate price: nothing of this technology is accepted
            self.rows.append((-INF, 0.0, anything))
            return
        # nothing accepted unless a price is chosen: n ≤ count·Σ chosen
        self.rows.append((-INF, 0.0, {**anything, **dict.fromkeys(chosen, -float(count))}))
        top = sum(b.annual_kwh for b in members)
        values = [inst.valuation(inst.paid_cents(tech, p)) for p in prices]
        floor = min(0, *values) * top
        use = self.column(float(floor), float(max(0, *values) * top))
        energy = _float(self._sum([b.bid_id for b in members], self.energy_terms))
        # Without a chosen price nothing is accepted and the use is at least 0.
        self.rows.append((0.0, INF, {use: 1.0, **dict.fromkeys(chosen, -float(floor))}))

        def count_terms(price: int, strict: bool) -> dict[int, float]:
            """2·#(accepted bids priced below `price`, or at most it) − n (integer cents)."""
            limit = price - 1 if strict else price
            return {accept[b.bid_id]: 2.0 * (b.price_cents <= limit) - 1.0 for b in members}

        def use_terms(value: int) -> dict[int, float]:  # U − V·E
            return {use: 1.0, **{c: -value * v for c, v in energy.items()}}

        for k, price in enumerate(prices):
            # 2·cnt_k − n ≥ −count·(1 − z_k)
            row = count_terms(price, strict=False)
            self.rows.append((-float(count), INF, {**row, chosen[k]: -float(count)}))
            # 2·cnt_{k−1} − n ≤ −1 + count·(1 − z_k)
            row = count_terms(price, strict=True)
            self.rows.append((-INF, float(count - 1), {**row, chosen[k]: float(count)}))
            # use ≥ V_k·E − M·(1 − z_k)
            big = max(values[k] * top, 0) - floor
            self.rows.append((-float(big), INF, {**use_terms(values[k]), chosen[k]: -float(big)}))
        # Implied: U ≥ V(lo)·E (V never decreases; E = 0 with no price chosen);
        # 2·#(≤ hi) − n ≥ 0; 2·#(< lo) − n + Σ z ≤ 0.
        self.rows.append((0.0, INF, use_terms(values[0])))
        self.rows.append((0.0, INF, count_terms(prices[-1], strict=False)))
        row = count_terms(prices[0], strict=True)
        self.rows.append((-INF, 0.0, {**row, **dict.fromkeys(chosen, 1.0)}))
        cost[use] += 1

    # -- objectives -----------------------------------------------------------------------
    def weighted_energy(self) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for b in self.stage.bids:
            for col, coef in self.energy_terms[b.bid_id].items():
                out[col] += b.weight * coef
        return out

    def lot_sum(self) -> dict[int, int]:
        position = self.stage.lot_position()
        return {self._accept(b): position[b.bid_id] for b in self.stage.bids}

    def start(self, awarded_kw: Mapping[str, int]) -> tuple[list[int], list[float]]:
        """The award's accept flags and partial kW/kWh, a starting point HiGHS completes
        (price choices): only a start, every HiGHS answer is checked exactly."""
        index: list[int] = []
        value: list[float] = []
        for b in self.stage.bids:
            kw = awarded_kw.get(b.bid_id, 0)
            index.append(self.accept[b.bid_id])
            value.append(1.0 if kw > 0 else 0.0)
            if b.min_kw < b.capacity_kw:
                index += [
                    next(iter(self.kw_terms[b.bid_id])),
                    next(iter(self.energy_terms[b.bid_id])),
                ]
                value += [float(kw), float(b.energy(kw))]
        return index, value

    def awarded_kw(self, values: list[float]) -> dict[str, int]:
        out = {}
        for b in self.stage.bids:
            col, coef = next(iter(self.kw_terms[b.bid_id].items()))
            kw = round(values[col]) * coef
            if kw > 0:
                out[b.bid_id] = kw
        return out


INF = float("inf")


def _at_least(terms: Mapping[int, int], value: int) -> tuple[float, float, dict[int, float]]:
    """Σ terms ≥ value as a HiGHS row, exactly: the integer row is divided by the gcd of its
    coefficients (and the bound rounded up), which keeps HiGHS's numbers small, and is held
    with half a unit to spare: on integer awards the row is an integer, so it is the same set,
    and HiGHS's presolve no longer meets a row it must hold with equality (seen to make it
    report a feasible model infeasible)."""
    divisor = math.gcd(*terms.values()) or 1
    scaled = {c: float(v // divisor) for c, v in terms.items() if v}
    return -(-value // divisor) - 0.5, INF, scaled


def _at_most(terms: Mapping[int, int], value: int) -> tuple[float, float, dict[int, float]]:
    """Σ terms ≤ value, the same way (the bound rounded down)."""
    divisor = math.gcd(*terms.values()) or 1
    scaled = {c: float(v // divisor) for c, v in terms.items() if v}
    return -INF, value // divisor + 0.5, scaled


def _float(terms: Mapping[int, int]) -> dict[int, float]:
    return {c: float(v) for c, v in terms.items() if v}


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS's constructor prints its banner on file descriptor 1 before any option can be
    set; a clearing's output is its own."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _solve(
    model: _HighsModel,
    objective: Mapping[int, int],
    maximise: bool,
    start: Mapping[str, int],
    presolve: str = "choose",
) -> tuple[str, Any]:
    import highspy
    import numpy as np

    if any(not terms and not low <= 0 <= high for low, high, terms in model.rows):
        # A row of no columns that 0 does not meet (a minimum with no bid): no award, exactly;
        # HiGHS would call a model of no columns "Empty".
        return "Infeasible", None
    with _quiet_stdout():
        h = highspy.Highs()
    # HiGHS's own feasibility tolerances: tightened to 1e-9, HiGHS 1.16 was seen to call a
    # feasible model (an award checked exactly) infeasible, and to stop at its node limit on
    # one it proves in 271 nodes at its defaults. Every award it returns is re-checked exactly.
    for name, setting in (
        ("output_flag", False),
        ("threads", 1),
        ("random_seed", 0),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 0.0),
        ("mip_max_nodes", NODE_LIMIT),
        ("mip_max_leaves", NODE_LIMIT),
        ("mip_heuristic_effort", 0.0),
        ("mip_allow_restart", False),
        ("mip_detect_symmetry", False),
        ("mip_heuristic_run_rens", False),
        ("mip_heuristic_run_rins", False),
        ("mip_heuristic_run_root_reduced_cost", False),
        (
            "mip_heuristic_run_feasibility_jump",
            False,
        ),  # the start is CP-SAT's award: only the proof is needed
        ("presolve", presolve),
    ):
        h.setOptionValue(name, setting)
    lp = highspy.HighsLp()
    n = len(model.lower)
    lp.num_col_ = n
    lp.col_lower_ = model.lower
    lp.col_upper_ = model.upper
    cost = [0.0] * n
    for col, coef in objective.items():
        cost[col] = float(coef)
    lp.col_cost_ = cost
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
        for i in model.integer
    ]
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    for low, high, terms in model.rows:
        # HiGHS refuses coefficients from 1e15 (budget use per bid: milli-cents per kWh ×
        # kWh); such a row is divided by a power of two, which changes no bit of its
        # coefficients' mantissas and only relaxes its tolerance (every award HiGHS returns
        # is re-checked exactly).
        largest = max((abs(v) for v in terms.values()), default=0.0)
        shift = max(0, math.frexp(largest)[1] - ROW_EXPONENT)
        starts.append(len(index))
        for col in sorted(terms):
            index.append(col)
            value.append(math.ldexp(terms[col], -shift))
        lower.append(math.ldexp(low, -shift))
        upper.append(math.ldexp(high, -shift))
    lp.num_row_ = len(model.rows)
    lp.row_lower_ = lower
    lp.row_upper_ = upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = [*starts, len(index)]
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    h.passModel(lp)
    start_index, start_value = model.start(start)
    h.setSolution(len(start_index), np.array(start_index, dtype=np.int32), np.array(start_value))
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    return status, h


def _better(found: tuple[int, int, int], value: tuple[int, int, int]) -> bool:
    """Lexicographically better: more weighted energy, then less budget use, then lot sum."""
    return (-found[0], found[1], found[2]) < (-value[0], value[1], value[2])


def certify(
    stage: StageProblem,
    awarded_kw: Mapping[str, int],
    weighted_energy: int,
    levels: int = len(LEVELS),
    bound: LagrangianBound | None = None,
) -> Certificate:
    """Re-prove with HiGHS that CP-SAT's `awarded_kw` (reported weighted energy
    `weighted_energy`) is the stage's lexicographic optimum, over the first `levels` levels;
    see the module docstring. `bound`: an exact Lagrangian bound valid for every award of the
    stage (a median price vector's, `uniform.py`), to reduce the instance HiGHS solves."""
    cert = Certificate(certified=False, highs_version=version("highspy"))
    problems, value = exact_value(stage, awarded_kw)
    if problems:
        cert.disagreement = True
        cert.reason = "CP-SAT's award breaks a limit: " + "; ".join(problems[:5])
        return cert
    if value[0] != weighted_energy:
        cert.disagreement = True
        cert.reason = f"CP-SAT reported {weighted_energy}, its award recomputes to {value[0]}"
        return cert
    if not stage.pool:  # no bid to award: the empty award, checked above, is the only one
        cert.certified = True
        return cert
    reduction = bound or _reduction(stage)
    cert.reduced = reduction is not None
    model = _HighsModel(stage, reduction.restrict(value[0]) if reduction else None)
    for level, name in enumerate(LEVELS[:levels]):
        if level == 1 and reduction is not None:  # awards as good and no dearer: fewer still
            model = _HighsModel(stage, reduction.restrict(value[0], budget_mc=value[1]))
        objectives = (model.weighted_energy(), model.cost_terms, model.lot_sum())
        # A level's optimum is held (see `_at_least`).
        if level == 1:
            model.rows.append(_at_least(objectives[0], value[0]))
        if level == 2:
            model.rows.append(_at_most(objectives[1], value[1]))
        record: dict[str, Any] = {"level": name, "bids_open": model.open_bids}
        cert.levels.append(record)
        # HiGHS's presolve has been seen to end below an exactly feasible start (a wrong
        # optimum): such an answer is asked again without presolve.
        for presolve in ("choose", "off"):
            started = time.process_time()
            status, h = _solve(model, objectives[level], level == 0, awarded_kw, presolve)
            record["cpu_s"] = round(time.process_time() - started, 3)
            record["status"] = status
            if status != "Optimal":
                cert.reason = f"HiGHS did not prove the {name} level ({status})"
                return cert
            record["nodes"] = h.getInfo().mip_node_count
            found = model.awarded_kw(list(h.getSolution().col_value))
            found_problems, found_value = exact_value(stage, found)
            record["objective"] = found_value[level]
            worse = found_value[: level + 1] != value[: level + 1] and not _better(
                found_value, value
            )
            if presolve == "choose" and not found_problems and worse:
                record["presolve_off"] = True
                continue
            break
        if found_problems:
            cert.reason = f"HiGHS's {name} optimum breaks a limit in exact arithmetic"
            return cert
        if found_value[: level + 1] != value[: level + 1]:
            # Lexicographically better, exactly: CP-SAT's award is not the optimum.
            cert.disagreement = _better(found_value, value)
            cert.reason = (
                f"CP-SAT and HiGHS disagree at the {name} level: CP-SAT {value[: level + 1]}, "
                f"HiGHS {found_value[: level + 1]} "
                + (
                    "(HiGHS better: CP-SAT's award is not the optimum)"
                    if cert.disagreement
                    else "(HiGHS's claimed optimum is worse than CP-SAT's award, checked "
                    "exactly, with and without its presolve)"
                )
            )
            return cert
    cert.certified = True
    return cert


def certify_infeasible(
    stage: StageProblem, target: int | None = None, restriction: Restriction | None = None
) -> Certificate:
    """HiGHS confirms, on its own model, that a stage CP-SAT found infeasible has no award (no
    award of weighted energy ≥ `target`, if given, within an exact `restriction`)."""
    cert = Certificate(certified=False, highs_version=version("highspy"))
    model = _HighsModel(stage, restriction)
    if target is not None:
        model.rows.append(_at_least(model.weighted_energy(), target))
    # Without presolve as well when it fails: on median price windows HiGHS's presolve was
    # seen to lose the bound the implied rows give (a root LP within 0.001 % of the target,
    # then 10,000 nodes).
    for presolve in ("choose", "off"):
        started = time.process_time()
        status, _ = _solve(model, model.weighted_energy(), True, {}, presolve)
        cpu_s = round(time.process_time() - started, 3)
        cert.levels.append(
            {"level": "feasibility", "status": status, "presolve": presolve, "cpu_s": cpu_s}
        )
        if status == "Infeasible":
            break
    cert.certified = status == "Infeasible"
    if not cert.certified:
        cert.reason = f"CP-SAT found no award; HiGHS did not confirm it ({status})"
    return cert
