"""Pay-as-clear and median stages, proven by branch and bound over the clearing prices.

Pay-as-clear: with every pricing unit's clearing price fixed at c_u, the stage is a pay-as-bid
stage in which only bids priced at most c_u may win, each paid min(c_u, its ceiling). An award
whose own clearing prices are c(S) is an award at every c ≥ c(S) that its budget still allows,
never cheaper there (V never decreases with the price); an award with no bid in a unit is one
at every price of that unit. Median: with every technology's price fixed at m_t, the awards are
those whose lower median is m_t (or with no bid of t), each paid min(m_t, ceiling): per
technology, #(below m) ≤ #(at or above m) − 1 and #(at or below m) ≥ #(above m). Under either
rule an award is an award at its own prices with its true budget use, so the stage's optimum
(weighted energy, budget use, lot sum) is the best of the optima at each price vector.

For a box of prices [lo_u, hi_u] per unit, every award with prices in the box is an award of a
pay-as-bid stage that pays each bid at its unit's lo_u (capped at its ceiling), no more than
it costs: pay-as-clear, with only bids priced at most hi_u; median, with every bid and two
count rows per technology that its median in [lo, hi] implies (#(below lo) − #(at or above
lo) ≤ 0 and #(above hi) − #(at or below hi) ≤ 0). That stage's exact Lagrangian bound
(`reduction.py`: integers, valid for any multipliers, computed over arrays by `PoolArrays`; the
multipliers come from one HiGHS LP kept warm from box to box) bounds the weighted energy of
every award in the box. Boxes are searched best bound first and halved along the unit whose
price range loosens the bound most; a box whose bound is below the best weighted energy found
is discarded (never one equal to it: its awards may win on budget use or lot). A single price
vector is first tested against the best award (the exact reduction at that target, then CP-SAT,
with HiGHS confirming that no award reaches it); otherwise its optimum is solved exactly
(pay-as-clear by `staged.py`, median by the whole model with the prices fixed) and certified
by HiGHS (`certify.py`). A median box of at most `BOX_TEST_VECTORS` price vectors is tested
the same way whole, before it is split: the median stage with each technology's price in its
window of the box (`PriceWindow`), reduced by the box's own bound (count and winner rows
included), when that leaves at most `BOX_TEST_OPEN` bids open; many vectors close to the best
award are so ruled out at once. A box is discarded as infeasible only on an exact argument (a
technology minimum beyond its bids' capacity) or on CP-SAT and HiGHS both finding no award.

The proof rests on the integer bounds and on the certified answers at the price vectors solved;
the search is limited by a count of boxes (deterministic), and if it stops first the award is
published not proven, with the largest bound of the boxes left open as its bound.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from .certify import (
    Certificate,
    StageProblem,
    _quiet_stdout,
    certify,
    certify_infeasible,
    exact_value,
)
from .instance import Instance, PriceWindow, ScaledBid
from .model import AuctionModel
from .reduction import (
    DENOMINATOR,
    LagrangianBound,
    LimitRow,
    Multipliers,
    PoolArrays,
    Restriction,
    alternatives,
    assemble,
    integer_multipliers,
    lagrangian_bound,
    limit_rows,
)
from .solve import SolveReport, WorkBudget, run_cp_sat, solve_lexicographic
from .staged import solve_stage

NONE = -1  # a unit's candidate "no bid wins" (below every price)
BOX_TEST_VECTORS = 4096  # median boxes of at most this many price vectors are first tested
BOX_TEST_WORK = 2.0  # whole, with this much CP-SAT work, before they are split, when the
BOX_TEST_OPEN = 600  # exact reduction leaves at most this many bids open
BOXES_PER_WORK_UNIT = 100  # price boxes bounded per unit of `time_limit_s` (about 25 ms each
# at 10,000 bids: the box count, not the clock, ends a search, so it ends alike everywhere)


@dataclass(frozen=True)
class Box:
    """Candidate-price indices [low, high] per pricing unit (in the decomposition's order)."""

    low: tuple[int, ...]
    high: tuple[int, ...]

    @property
    def point(self) -> bool:
        return self.low == self.high


@dataclass
class PriceVector:
    """The exact optimum at one clearing-price vector, and its certificate."""

    prices: dict[str, int]
    report: SolveReport
    value: tuple[int, int, int] | None  # (weighted energy, budget use, lot sum)
    certificate: Certificate | None = None

    @property
    def ruled_out(self) -> bool:
        """Proven to hold no award (INFEASIBLE) or none reaching the best award (BELOW)."""
        cert = self.certificate
        return self.report.status in ("INFEASIBLE", "BELOW") and cert is not None and cert.certified

    @property
    def key(self) -> tuple[int, int, int] | None:
        """Lexicographic order, smallest best: most weighted energy, least use, least lot."""
        return None if self.value is None else (-self.value[0], self.value[1], self.value[2])


@dataclass
class Decomposition:
    """Counts and records of the search, for the result's levels and certificate."""

    boxes: int = 0
    discarded: int = 0
    infeasible: int = 0
    ruled_out: int = 0  # price vectors with no award, or none reaching the best
    boxes_ruled_out: list[dict[str, Any]] = field(default_factory=list)  # whole, with proof
    solved: list[PriceVector] = field(default_factory=list)
    open_bound: int | None = None  # the largest bound of boxes left open (search stopped)


class UniformStage:
    """One pay-as-clear or median stage and the pay-as-bid stages that bound it at fixed
    prices."""

    def __init__(
        self,
        inst: Instance,
        pool: list[ScaledBid],
        fixed_kw: Mapping[str, int],
        budget_mc: int | None,
        minimums: bool,
    ):
        self.inst = inst
        self.pool = sorted(pool, key=lambda b: b.bid_id)
        self.fixed_kw = fixed_kw
        self.budget_mc = budget_mc
        self.minimums = minimums
        self.stage = StageProblem(inst, self.pool, fixed_kw, budget_mc, minimums)
        self.median = inst.spec.pricing.rule == "median"  # a price per technology, not group
        self.unit_of_tech = {
            t: t if self.median else inst.group_of[t] for t in {b.technology for b in self.pool}
        }
        members: dict[str, list[ScaledBid]] = defaultdict(list)
        for b in self.pool:
            members[self.unit_of_tech[b.technology]].append(b)
        self.units = sorted(members)
        # A fixed award's price is a floor of its unit's uniform clearing price (a median may
        # lie below it).
        floor = {
            u: max(
                (b.price_cents for b in ms if b.bid_id in fixed_kw and not self.median), default=0
            )
            for u, ms in members.items()
        }
        # Candidate prices per unit, NONE first: no bid of the unit wins (impossible once a
        # fixed award is in it). A box that leaves NONE out has a winner priced inside it.
        self.prices = {
            u: ([] if any(b.bid_id in fixed_kw for b in ms) else [NONE])
            + sorted({b.price_cents for b in ms if b.price_cents >= floor[u]})
            for u, ms in members.items()
        }
        pricing = inst.spec.pricing.model_copy(update={"rule": "pay_as_bid", "groups": {}})
        self.fixed_spec = inst.spec.model_copy(update={"pricing": pricing})
        self._paid: dict[tuple[str, int], ScaledBid] = {}  # a bid paid a given price
        self.techs = sorted({b.technology for b in self.pool})
        self.price_cents = np.array([b.price_cents for b in self.pool], dtype=np.int64)
        self.unit_of = np.array(
            [self.units.index(self.unit_of_tech[b.technology]) for b in self.pool], dtype=np.int64
        )
        self.energy_kwh = np.array([b.annual_kwh for b in self.pool], dtype=np.int64)
        self.tech_of = np.array([self.techs.index(b.technology) for b in self.pool], dtype=np.int64)
        self.rows = limit_rows(inst, self.pool, minimums) if self.pool else None
        self.lp = None if self.rows is None else BoxLP(self, self.rows)
        self.arrays = None if self.rows is None else PoolArrays(self.pool, fixed_kw, self.rows)

    def root(self) -> Box:
        return Box(tuple(0 for _ in self.units), tuple(len(self.prices[u]) - 1 for u in self.units))

    def _at(self, index: tuple[int, ...]) -> dict[str, int]:
        return {u: self.prices[u][i] for u, i in zip(self.units, index, strict=True)}

    def _range(self, box: Box) -> tuple[dict[str, int], dict[str, int]]:
        """Each unit's lowest and highest real price in the box (NONE aside); a unit whose
        box holds NONE alone gets high NONE (no bid of it may win) and low 0."""
        low, high = {}, {}
        for u, first, last in zip(self.units, box.low, box.high, strict=True):
            prices = self.prices[u]
            first += prices[first] == NONE and first < last
            low[u] = 0 if prices[first] == NONE else prices[first]
            high[u] = prices[last]
        return low, high

    def _inside(self, box: Box) -> list[bool]:
        """Per unit: the box leaves NONE out, so a bid priced inside it wins."""
        return [self.prices[u][first] != NONE for u, first in zip(self.units, box.low, strict=True)]

    def fixed_price_stage(self, box: Box) -> StageProblem:
        """The pay-as-bid stage bounding the box: bids priced ≤ the box's high price of their
        unit (every bid, under median pricing), each paid its unit's low price (capped at its
        ceiling)."""
        low, high = self._range(box)
        inst = self.inst
        pool = []
        for b in self.pool:
            unit = self.unit_of_tech[b.technology]
            if high[unit] != NONE and (self.median or b.price_cents <= high[unit]):
                paid = inst.paid_cents(b.technology, low[unit])
                key = (b.bid_id, paid)
                if key not in self._paid:
                    self._paid[key] = dataclasses.replace(b, price_cents=paid)
                pool.append(self._paid[key])
        fixed = dataclasses.replace(inst, spec=self.fixed_spec, bids=pool, _valuations={})
        return StageProblem(fixed, pool, self.fixed_kw, self.budget_mc, self.minimums, self.pool)

    def infeasible(self, stage: StageProblem) -> bool:
        """An exact argument that no award of the fixed-price stage exists: a technology minimum
        beyond its bids' capacity. (Nothing about the budget: energy rounded down to the kWh
        and negative valuations make per-kW estimates of use unsafe.)"""
        if not self.minimums:
            return False
        return any(
            sum(b.capacity_kw for b in stage.pool if b.technology == tech) < minimum
            for tech, minimum in sorted(stage.inst.tech_min_kw.items())
            if minimum > 0
        )

    def _lagrangian(self, box: Box) -> tuple[Any, ...] | None:
        """The inputs of the box's exact Lagrangian bound (module docstring): the eligible
        bids, each bid's budget use per MWh, the multipliers of the limits, each bid's price of
        acceptance (count and winner rows) and the rows' constant; None when the LP has none."""
        if self.lp is None:
            return None
        inst = self.inst
        low, high = self._range(box)
        low_of = np.array([low[u] for u in self.units])[self.unit_of]
        high_of = np.array([high[u] for u in self.units])[self.unit_of]
        signs = None
        if self.median:  # every bid may win; the count rows of the box (module docstring)
            eligible = high_of != NONE
            signs = (
                np.where(self.price_cents < low_of, 1, -1),
                np.where(self.price_cents > high_of, 1, -1),
            )
        else:
            eligible = self.price_cents <= high_of
        inside = np.array(self._inside(box), dtype=bool)
        # A unit whose box leaves NONE out has a winner priced in [low, high]: a row ≥ 1.
        winner = inside[self.unit_of] & (self.price_cents >= low_of) & (self.price_cents <= high_of)
        use = {
            t: inst.valuation(inst.paid_cents(t, low[self.unit_of_tech[t]]))
            if high[self.unit_of_tech[t]] != NONE
            else 0
            for t in self.techs
        }
        found = self.lp.multipliers(eligible, use, signs, winner, inside)
        if found is None:
            return None
        multipliers, count_y, winner_y = found
        valuation = np.array([use[t] for t in self.techs], dtype=object)[self.tech_of]
        # Accepting a bid costs Σ ν·sign over its count rows, less its unit's winner row.
        accept_y = -np.array(winner_y, dtype=object)[self.unit_of] * winner.astype(object)
        if signs is not None:
            below_y = np.array([y for y, _ in count_y], dtype=object)[self.tech_of]
            above_y = np.array([y for _, y in count_y], dtype=object)[self.tech_of]
            accept_y += below_y * signs[0].astype(object) + above_y * signs[1].astype(object)
        return eligible, valuation, multipliers, accept_y, -sum(winner_y)

    def bound(self, box: Box) -> int | None:
        """A proven upper bound on the weighted energy of any award clearing in the box; None
        when the box provably has no award."""
        found = self._lagrangian(box)
        if found is not None and self.arrays is not None:
            eligible, valuation, multipliers, accept_y, constant = found
            return self.arrays.bound(
                eligible, valuation, self.budget_mc, multipliers, accept_y, constant
            )
        # No multipliers (the LP, whose energy is pro rata, may refuse a box whose awards,
        # rounded down to the kWh, are feasible): only the exact argument, else every bid
        # at its best.
        stage = self.fixed_price_stage(box)
        if self.infeasible(stage):
            return None
        return sum(b.weight * b.annual_kwh for b in stage.pool)

    def reduction(self, box: Box, relaxed: StageProblem) -> LagrangianBound | None:
        """The box's own exact Lagrangian bound as a reduction (`reduction.assemble`, with
        the count and winner rows' prices of acceptance), valid for every award in the box."""
        found = self._lagrangian(box)
        if found is None or self.rows is None:
            return None
        _, _, multipliers, accept_y, constant = found
        prices = {b.bid_id: y for b, y in zip(self.pool, accept_y, strict=True)}
        return assemble(
            relaxed.inst,
            relaxed.pool,
            self.fixed_kw,
            self.budget_mc,
            self.rows,
            multipliers,
            {b.bid_id: prices[b.bid_id] for b in relaxed.pool},
            constant,
        )

    def split(self, box: Box) -> tuple[Box, Box]:
        """Halves along the unit whose price range loosens the bound most: the widest spread
        of budget use per MWh between its low and high price, times the energy that may win
        in the box (then the most prices left). Integers only, so the search is the same on
        every machine."""
        inst = self.inst
        low, high = self._range(box)
        scores = []
        for k, unit in enumerate(self.units):
            if box.low[k] == box.high[k]:
                scores.append((-1, 0))
                continue
            winnable = (self.unit_of == k) & (self.price_cents <= high[unit])
            energy = int(self.energy_kwh[winnable].sum())
            spread = max(
                inst.valuation(inst.paid_cents(t, high[unit]))
                - inst.valuation(inst.paid_cents(t, low[unit]))
                for t in self.techs
                if self.unit_of_tech[t] == unit
            )
            scores.append((spread * energy, box.high[k] - box.low[k]))
        k = scores.index(max(scores))
        middle = (box.low[k] + box.high[k]) // 2
        left = Box(box.low, (*box.high[:k], middle, *box.high[k + 1 :]))
        right = Box((*box.low[:k], middle + 1, *box.low[k + 1 :]), box.high)
        return left, right

    def window_stage(self, box: Box) -> StageProblem:
        """The median stage with each technology's price in its window of the box (and "no
        winner" when the box holds it), for CP-SAT and HiGHS: exactly the awards whose lower
        medians lie in the box."""
        windows = {}
        for u, first, last in zip(self.units, box.low, box.high, strict=True):
            prices = self.prices[u]
            if prices[last] != NONE:
                real = prices[first + (prices[first] == NONE)]
                windows[u] = PriceWindow(real, prices[last], none=prices[first] == NONE)
        pool = [b for b in self.pool if b.technology in windows]
        return dataclasses.replace(self.stage, pool=pool, lot_pool=self.pool, clearing=windows)

    def exact_stage(self, box: Box, relaxed: StageProblem) -> StageProblem:
        """The stage at one price vector, for CP-SAT and HiGHS: pay-as-clear, the pay-as-bid
        stage of its prices (`relaxed` itself); median, the median stage with each
        technology's price fixed."""
        return self.window_stage(box) if self.median else relaxed

    def _below(
        self,
        box_bound: LagrangianBound | None,
        relaxed: StageProblem,
        exact: StageProblem,
        work: WorkBudget,
        best: int,
        cap: float | None = None,
        open_limit: int | None = None,
    ) -> tuple[Certificate | None, Restriction | None]:
        """The proof that no award of `exact` (a price vector, or a median box) reaches
        `best`, if there is one: the exact reduction alone, or CP-SAT on `exact` so reduced
        (within `cap` work, and only if at most `open_limit` bids stay open), with HiGHS
        confirming it. Also the reduction, which keeps every award of `exact` reaching `best`.

        The reduction meets the box's own bound (`box_bound`, count and winner rows included)
        and, when `open_limit` is None, that of the pay-as-bid stage `relaxed` (which admits
        every award of `exact` at no more use; its LP has no count rows): each keeps every
        award reaching `best`, and so do both at once."""
        bounds = [box_bound]
        if open_limit is None:
            bounds.append(
                lagrangian_bound(
                    relaxed.inst, relaxed.pool, self.fixed_kw, self.budget_mc, self.minimums
                )
            )
        restrictions = [bound.restrict(best) for bound in bounds if bound is not None]
        if not restrictions:
            return None, None
        restriction = restrictions[0]
        for other in restrictions[1:]:
            restriction = restriction.meet(other)
        if restriction.empty:
            proof = Certificate(certified=True, reason="the exact reduction leaves no award")
            return proof, restriction
        if open_limit is not None and len(exact.pool) - len(restriction.excluded) > open_limit:
            return None, restriction  # too many choices left to try here
        am = self.model(exact, restriction)
        am.model.add(am.weighted_energy() >= best)
        _, status = run_cp_sat(am.model, work, cap)
        if status != cp_model.INFEASIBLE:
            return None, restriction
        proof = certify_infeasible(exact, best, restriction)
        return (proof if proof.certified else None), restriction

    def vectors(self, box: Box) -> int:
        """How many price vectors the box holds."""
        return math.prod(hi - lo + 1 for lo, hi in zip(box.low, box.high, strict=True))

    def rule_out(self, box: Box, work: WorkBudget, best: int) -> Certificate | None:
        """A proof that no award with its medians in the box reaches `best`, if one is found
        within `BOX_TEST_WORK`: the median stage with each price in its window of the box, as
        at a single price vector (`_below`)."""
        relaxed = self.fixed_price_stage(box)
        if self.infeasible(relaxed):
            return Certificate(certified=True, reason="a technology minimum beyond its bids")
        exact = self.window_stage(box)
        bound = self.reduction(box, relaxed)
        proof, _ = self._below(bound, relaxed, exact, work, best, BOX_TEST_WORK, BOX_TEST_OPEN)
        return proof

    def model(self, exact: StageProblem, restriction: Restriction | None) -> AuctionModel:
        return AuctionModel(
            exact.inst,
            exact.pool,
            self.fixed_kw,
            self.budget_mc,
            self.minimums,
            restriction=restriction,
            lot_pool=self.pool,
            clearing=exact.clearing,
        )

    def solve_point(
        self, box: Box, work: WorkBudget, hint: Mapping[str, int], best: int | None
    ) -> PriceVector:
        """The exact optimum at one price vector, certified by HiGHS: all three levels when it
        may be the stage's optimum, the weighted energy alone when it falls short of `best`."""
        relaxed = self.fixed_price_stage(box)
        exact = self.exact_stage(box, relaxed)
        prices = self._at(box.low)
        if self.infeasible(relaxed):
            proof = Certificate(certified=True, reason="a technology minimum beyond its bids")
            return PriceVector(prices, SolveReport("INFEASIBLE", True), None, proof)
        # The box's own bound reduces the test against `best` and, for median, the certificate.
        needed = best is not None or self.median
        box_bound = self.reduction(box, relaxed) if needed else None
        below, restriction = (
            (None, None) if best is None else self._below(box_bound, relaxed, exact, work, best)
        )
        if below is not None:
            return PriceVector(prices, SolveReport("BELOW", True), None, below)
        ids = {b.bid_id for b in exact.pool}
        start = {k: v for k, v in hint.items() if k in ids}
        if self.median:  # the whole model, prices fixed (reduced at `best`, if known)
            report = solve_lexicographic(self.model(exact, restriction), work, start)
        else:
            report = solve_stage(
                exact.inst,
                exact.pool,
                self.fixed_kw,
                self.budget_mc,
                work,
                start,
                self.minimums,
                lot_pool=self.pool,
            )
        point = PriceVector(prices, report, None)
        if report.status == "INFEASIBLE":
            point.certificate = certify_infeasible(exact, best, restriction)
            return point
        if report.status not in ("OPTIMAL", "FEASIBLE") or report.weighted_energy is None:
            return point
        problems, value = exact_value(exact, report.awarded_kw)
        if problems:
            return point  # (CP-SAT's award breaks a limit: never published; see certify)
        if best is not None and value[0] < best and report.objective_proven:
            # Short of the best award on the model reduced at `best`: that optimum need not
            # be this price vector's (the reduction keeps only awards reaching `best`), but it
            # proves that none reaches it, which HiGHS confirms.
            proof = certify_infeasible(exact, best, restriction)
            if proof.certified:
                return PriceVector(prices, SolveReport("BELOW", True), None, proof)
        point.value = value
        if report.proven_optimal:
            short = best is not None and value[0] < best
            levels = 1 if short else 3
            # (Pay-as-clear's relaxed stage is pay-as-bid: `certify` reduces it itself.)
            reduction = box_bound if self.median else None
            point.certificate = certify(exact, report.awarded_kw, value[0], levels, reduction)
        return point


class BoxLP:
    """The LP relaxation of a box's fixed-price stage, kept in one HiGHS model and re-solved
    from the previous basis: a box changes only which bids may win (column bounds) and the
    few budget coefficients of its technologies' energy. It supplies multipliers only; the
    bound itself is exact integers (`reduction.PoolArrays`, the value of `assemble`)."""

    def __init__(self, stage: UniformStage, rows: list[LimitRow]):
        import highspy

        self.stage, self.rows = stage, rows
        pool, inst = stage.pool, stage.inst
        self.techs = sorted({b.technology for b in pool})
        per_kw = [b.annual_kwh / b.capacity_kw for b in pool]
        self.obj_scale = max(b.weight * e for b, e in zip(pool, per_kw, strict=True)) or 1.0
        top = max(abs(inst.valuation(b.price_cents)) for b in pool) or 1
        self.cost_scale = (top * max(per_kw)) or 1.0  # (bids of no energy: nothing to scale)
        n = len(pool)
        self.capacity = np.array([float(b.capacity_kw) for b in pool])
        self.lower = np.array([float(stage.fixed_kw.get(b.bid_id, 0)) for b in pool])
        self.index = {b.bid_id: i for i, b in enumerate(pool)}
        with _quiet_stdout():
            h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        lp = highspy.HighsLp()
        lp.num_col_ = n + len(self.techs)
        lp.col_lower_ = np.concatenate([self.lower, np.zeros(len(self.techs))])
        lp.col_upper_ = np.concatenate([self.capacity, np.full(len(self.techs), highspy.kHighsInf)])
        lp.col_cost_ = np.concatenate(
            [
                np.array(
                    [b.weight * e / self.obj_scale for b, e in zip(pool, per_kw, strict=True)]
                ),
                np.zeros(len(self.techs)),
            ]
        )
        lp.sense_ = highspy.ObjSense.kMaximize
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        lower: list[float] = []
        upper: list[float] = []

        def row(terms: dict[int, float], low: float, high: float) -> int:
            starts.append(len(index))
            for col in sorted(terms):
                index.append(col)
                value.append(terms[col])
            lower.append(low)
            upper.append(high)
            return len(starts) - 1

        inf = highspy.kHighsInf
        for sense, members, rhs in rows:
            terms = {self.index[b.bid_id]: 1.0 for b in members}
            row(terms, -inf if sense < 0 else rhs, rhs if sense < 0 else inf)
        for members in alternatives(pool).values():
            row({self.index[b.bid_id]: 1 / b.capacity_kw for b in members}, -inf, 1.0)
        for t, tech in enumerate(self.techs):  # E_t = the technology's energy (kWh)
            terms = {
                self.index[b.bid_id]: -e
                for b, e in zip(pool, per_kw, strict=True)
                if b.technology == tech
            }
            row({**terms, n + t: 1.0}, 0.0, 0.0)
        # Median: per technology, Σ sign·accepted ≤ 0 twice (`UniformStage.bound`), accepted
        # counted as kW ÷ capacity; the signs change from box to box.
        self.tech_of = stage.tech_of
        self.signs = (np.full(n, -1), np.full(n, -1))
        self.count_rows: list[tuple[int, int]] = []
        if stage.median:
            for tech in self.techs:
                terms = {
                    self.index[b.bid_id]: -1.0 / b.capacity_kw for b in pool if b.technology == tech
                }
                self.count_rows.append((row(terms, -inf, 0.0), row(dict(terms), -inf, 0.0)))
        # Per unit, −Σ accepted ≤ −1 over the bids priced inside the box when it leaves NONE
        # out (a winner inside), free otherwise; its bids change from box to box.
        self.winner_rows = [row({}, -inf, inf) for _ in stage.units]
        self.unit_of = stage.unit_of
        self.winner = np.zeros(n, dtype=bool)
        budget = stage.budget_mc
        self.budget_row = None
        if budget is not None:
            self.budget_row = row(
                {n + t: 1.0 for t in range(len(self.techs))}, -inf, budget / self.cost_scale
            )
        lp.num_row_ = len(starts)
        lp.row_lower_ = np.array(lower)
        lp.row_upper_ = np.array(upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array([*starts, len(index)], dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value)
        h.passModel(lp)
        self.h, self.n, self.inf = h, n, inf
        self.optimal = highspy.HighsModelStatus.kOptimal

    def multipliers(
        self,
        eligible: Any,
        use_per_kwh: Mapping[str, int],
        signs: Any,
        winner: Any,
        inside: Any,
    ) -> tuple[Multipliers, list[tuple[int, int]], list[int]] | None:
        """Multipliers of a box's relaxed stage: the `eligible` bids (a mask), each
        technology's budget use per MWh of annual energy, under median pricing the signs of
        the two count rows, and the bids of the winner rows (`winner`, for units `inside`);
        also each technology's count-row multipliers and each unit's winner-row multiplier
        (× DENOMINATOR). None: the LP found none."""
        h = self.h
        for i in np.flatnonzero(winner != self.winner):
            coefficient = -1.0 / self.capacity[i] if winner[i] else 0.0
            h.changeCoeff(self.winner_rows[self.unit_of[i]], int(i), coefficient)
        self.winner[:] = winner
        for k, row in enumerate(self.winner_rows):
            h.changeRowBounds(row, -self.inf, -1.0 if inside[k] else self.inf)
        for k, new in enumerate(signs or ()):
            for i in np.flatnonzero(new != self.signs[k]):
                row = self.count_rows[self.tech_of[i]][k]
                h.changeCoeff(row, int(i), float(new[i]) / self.capacity[i])
            self.signs[k][:] = new
        upper = np.where(eligible, self.capacity, 0.0)
        if np.any(self.lower > upper):
            return None
        cols = np.arange(self.n, dtype=np.int32)
        h.changeColsBounds(self.n, cols, self.lower, upper)
        if self.budget_row is not None:
            for t, tech in enumerate(self.techs):
                h.changeCoeff(self.budget_row, self.n + t, use_per_kwh[tech] / self.cost_scale)
        h.run()
        if h.getModelStatus() != self.optimal:
            return None
        duals = list(h.getSolution().row_dual)
        budget_dual = 0.0 if self.budget_row is None else duals[self.budget_row]
        multipliers = integer_multipliers(
            budget_dual * self.obj_scale,
            [d * self.obj_scale for d in duals[: len(self.rows)]],
            self.rows,
            1 / self.cost_scale,
        )

        def scaled(row: int) -> int:
            return int(max(duals[row], 0.0) * self.obj_scale * DENOMINATOR)

        counts = [(scaled(a), scaled(b)) for a, b in self.count_rows]
        winners = [scaled(r) if inside[k] else 0 for k, r in enumerate(self.winner_rows)]
        return multipliers, counts, winners


def _record(point: PriceVector) -> dict[str, Any]:
    cert = point.certificate
    return {
        "prices": {u: None if p == NONE else p for u, p in point.prices.items()},
        "status": point.report.status,
        "weighted_energy": None if point.value is None else point.value[0],
        "certified": bool(cert and cert.certified),
        "levels": [] if cert is None else cert.levels,
        "solver_levels": [
            (lv["level"], lv["status"], lv.get("wall_time_s")) for lv in point.report.levels
        ],
    }


def _box_record(stage: UniformStage, box: Box, proof: Certificate) -> dict[str, Any]:
    windows = {}
    for u, first, last in zip(stage.units, box.low, box.high, strict=True):
        low, high = stage.prices[u][first], stage.prices[u][last]
        windows[u] = [None if low == NONE else low, None if high == NONE else high]
    return {
        "prices": windows,  # [low, high] per unit; a low of None: no winner is allowed too
        "price_vectors": stage.vectors(box),
        "status": "BELOW",
        "certified": proof.certified,
        "reason": proof.reason,
        "levels": proof.levels,
    }


def solve_uniform(
    inst: Instance,
    pool: list[ScaledBid],
    fixed_kw: Mapping[str, int],
    budget_mc: int | None,
    work: WorkBudget,
    hint: Mapping[str, int],
    minimums: bool = True,
) -> tuple[SolveReport, Certificate]:
    """The lexicographic optimum of a pay-as-clear stage (see the module docstring) and the
    certificate of the whole search."""
    started = time.monotonic()
    stage = UniformStage(inst, pool, fixed_kw, budget_mc, minimums)
    search = Decomposition()
    incumbent: PriceVector | None = None  # the lexicographically best optimum at a price
    best: int | None = None  # its weighted energy, or the hint's
    ids = {b.bid_id for b in stage.pool}
    hint = {k: v for k, v in hint.items() if v > 0 and k in ids}  # its awards in this stage
    hint_problems, hint_value = exact_value(stage.stage, hint)
    if not hint_problems:
        best = hint_value[0]
    limit = max(int(work.left * BOXES_PER_WORK_UNIT), 1)
    heap: list[tuple[int, int, Box]] = []
    root = stage.root()
    bound = stage.bound(root) if stage.pool else 0
    search.boxes = 1
    if bound is not None:
        heap.append((-bound, 0, root))
    while heap:
        top, _, box = heapq.heappop(heap)
        if best is not None and -top < best:
            search.discarded += 1 + len(heap)
            heap.clear()
            break
        if search.boxes >= limit or work.exhausted:
            heapq.heappush(heap, (top, 0, box))
            break
        if (
            stage.median  # (pay-as-clear boxes were never ruled out so: their bound decides)
            and best is not None
            and not box.point
            and stage.vectors(box) <= BOX_TEST_VECTORS
        ):
            proof = stage.rule_out(box, work, best)
            if proof is not None:
                search.boxes_ruled_out.append(_box_record(stage, box, proof))
                continue
        if box.point:
            point = stage.solve_point(box, work, hint, best)
            search.solved.append(point)
            if point.ruled_out:
                search.ruled_out += 1
                continue
            if point.key is None or point.value is None or not point.report.proven_optimal:
                if point.report.bound is not None:  # its own bound stays open
                    heapq.heappush(heap, (-point.report.bound, search.boxes, box))
                    break
                continue
            if best is None or point.value[0] > best:
                best = point.value[0]
            if incumbent is None or incumbent.key is None or point.key < incumbent.key:
                incumbent = point
            hint = point.report.awarded_kw
            continue
        for child in stage.split(box):
            search.boxes += 1
            child_bound = stage.bound(child)
            if child_bound is None:
                search.infeasible += 1
            elif best is not None and child_bound < best:
                search.discarded += 1
            else:
                heapq.heappush(heap, (-child_bound, search.boxes, child))
    if heap:
        search.open_bound = max(-top for top, _, _ in heap)
    fallback = None if hint_problems else (hint, hint_value)
    return _report(stage, search, incumbent, best, started, fallback)


def _report(
    stage: UniformStage,
    search: Decomposition,
    incumbent: PriceVector | None,
    best: int | None,
    started: float,
    fallback: tuple[Mapping[str, int], tuple[int, int, int]] | None,
) -> tuple[SolveReport, Certificate]:
    level = {
        "level": "clearing_prices",
        "boxes": search.boxes,
        "discarded": search.discarded,
        "infeasible": search.infeasible,
        "price_vectors_ruled_out": search.ruled_out,
        "boxes_ruled_out": len(search.boxes_ruled_out),
        "price_vectors_solved": len(search.solved),
        "wall_time_s": round(time.monotonic() - started, 3),
    }
    cert = Certificate(
        certified=False, levels=[_record(p) for p in search.solved] + search.boxes_ruled_out
    )
    holes = [
        p
        for p in search.solved
        if not p.ruled_out and not (p.certificate and p.certificate.certified)
    ]
    if incumbent is None and fallback is not None:
        # No price vector settled (the search stopped, or one could not be solved): the
        # starting award (checked exactly above), published not proven.
        awarded, value = fallback
        stopped = search.open_bound is not None
        report = SolveReport(
            status="FEASIBLE",
            proven_optimal=False,
            awarded_kw=dict(awarded),
            weighted_energy=value[0],
            bound=max(search.open_bound or 0, value[0]) if stopped and not holes else None,
        )
        cert.reason = (
            f"the search over clearing prices stopped after {search.boxes} boxes"
            if stopped
            else f"the search over clearing prices left {len(holes)} price vector(s) unsettled"
        )
        level.update(status="FEASIBLE", objective=value[0], bound=report.bound)
        report.levels = [level]
        return report, cert
    if incumbent is None or incumbent.value is None:
        proven = search.open_bound is None and not holes
        status = "INFEASIBLE" if proven else "UNKNOWN"
        level["status"] = status
        cert.certified = proven  # every box and price vector ruled out, each with its proof
        cert.reason = "no award at any clearing price" if proven else "the search stopped"
        return SolveReport(status=status, proven_optimal=False, levels=[level]), cert
    value = incumbent.value
    report = SolveReport(
        status="OPTIMAL",
        proven_optimal=True,
        awarded_kw=dict(incumbent.report.awarded_kw),
        weighted_energy=value[0],
        bound=value[0],
        objective_proven=True,
    )
    problems, true_value = exact_value(stage.stage, report.awarded_kw)
    disagreement = [
        (p.prices, p.certificate.reason)
        for p in search.solved
        if p.certificate and p.certificate.disagreement
    ]
    if problems or true_value != value:
        cert.disagreement = True
        cert.reason = (
            f"the award at its clearing prices recomputes to {true_value} "
            f"(problems: {'; '.join(problems[:3]) or 'none'}), the search found {value}"
        )
    elif disagreement:
        cert.disagreement = True
        cert.reason = "at prices {}: {}".format(*disagreement[0])
    elif search.open_bound is not None or holes:
        # A bound only when every open box and unsettled price vector has one.
        bounds = [p.report.bound for p in holes] + [search.open_bound, value[0]]
        known = all(p.report.bound is not None for p in holes)
        report.bound = max(x for x in bounds if x is not None) if known else None
        if search.open_bound is not None:
            cert.reason = f"the search over clearing prices stopped after {search.boxes} boxes"
        else:
            first = holes[0]
            reason = first.certificate.reason if first.certificate else "CP-SAT did not prove it"
            cert.reason = f"the optimum at prices {first.prices} is not certified: {reason}"
    else:
        cert.certified = True
    if not cert.certified:
        report.status, report.proven_optimal = "FEASIBLE", False
        report.objective_proven = False  # the energy is not certified either
    level.update(status=report.status, objective=value[0], bound=report.bound)
    report.levels = [level]
    return report, cert
