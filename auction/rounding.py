"""Proof that rounding the scores did not change a stage's award (rounds with a score weight).

A score is a ratio of prices; the model counts bid i's weight as r_i, its exact weight x_i
(score × weight_scale, a fraction) rounded once, so |x_i − r_i| ≤ 1/2. For the award S* the
solvers proved optimal under r, any award S, and d_i = e_i(S) − e_i(S*) (bid i's energy):

    X(S) − X(S*) = r(S) − r(S*) + Σ_i (x_i − r_i)·d_i ≤ r(S) − r(S*) + Σ_i (c_i / K)·|d_i|

with X the exact weighted energy, K a power of two (up to 1024, as large as int64 allows for
the stage) and c_i = ⌈K·|x_i − r_i|⌉ (integers, so the row is exact in CP-SAT). Every award
at least as good as S* under the exact weights therefore meets
K·(r(S) − r(S*)) + Σ_i c_i·|d_i| ≥ 0: a narrow window around S*, in which only awards that
change little energy at a rounded weight can lie. CP-SAT lists every award in that window (each
one found is then excluded), and the awards are compared in exact fractions: most exact
weighted energy, then least budget use, then least lot sum. When the list is complete, its best
is the stage's exact optimum, whatever the rounding; when it is not (too many awards, or
CP-SAT's work ran out), the award is not proven. The rounded instance itself stays certified by
HiGHS (`certify.py`); the window's completeness rests on CP-SAT.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ortools.sat.python import cp_model

from .certify import StageProblem, exact_value
from .model import AuctionModel
from .reduction import lagrangian_bound
from .solve import WorkBudget, run_cp_sat, solution_kw

MAX_AWARDS = 25  # awards listed in the window before the check gives up
MAX_K = 1024  # the window's finest resolution
ROW_LIMIT = 2**60  # K × the stage's whole rounded weighted energy stays below this (int64)


@dataclass
class RoundingCheck:
    proven: bool
    awarded_kw: dict[str, int]  # the exact optimum when proven (may differ from the input)
    awards_in_window: int = 1
    reason: str = ""
    changed: bool = False  # the exact optimum is not the rounded one

    def record(self, stage: str) -> dict[str, Any]:
        return {
            "stage": stage,
            "awards_in_window": self.awards_in_window,
            "proven": self.proven,
            "changed": self.changed,
            "reason": self.reason,
        }


def exact_weighted(stage: StageProblem, awarded_kw: Mapping[str, int]) -> Fraction:
    exact = stage.inst.exact_weight
    pool = {b.bid_id: b for b in stage.pool}
    return sum(
        (exact[k] * pool[k].energy(kw) for k, kw in awarded_kw.items() if kw > 0),
        Fraction(0),
    )


def window(stage: StageProblem, awarded_kw: Mapping[str, int]) -> Fraction:
    """Σ_i |x_i − r_i|·max|d_i|: no award in the window is further below r(S*) than this."""
    exact = stage.inst.exact_weight
    total = Fraction(0)
    for b in stage.pool:
        error = abs(exact[b.bid_id] - b.weight)
        if error:
            held = b.energy(awarded_kw.get(b.bid_id, 0))
            total += error * max(held, b.annual_kwh - held)
    return total


def _exclude(am: AuctionModel, awarded_kw: Mapping[str, int], tag: int) -> None:
    """No later solution is this award: some bid is accepted or not where it was not, or
    yields other energy. (Awards alike in both have the same weighted energy, budget use and
    lot sum: a partial bid's kW that round to the same kWh are one award here.)"""
    m, differs = am.model, []
    for b in am.pool:
        kw = awarded_kw.get(b.bid_id, 0)
        accepted = m.new_bool_var(f"accept_differs[{tag},{b.bid_id}]")
        m.add(am.accept[b.bid_id] == int(kw == 0)).only_enforce_if(accepted)
        differs.append(accepted)
        if b.bid_id in am.partial and kw > 0:
            energy = m.new_bool_var(f"energy_differs[{tag},{b.bid_id}]")
            m.add(am.partial[b.bid_id][1] != b.energy(kw)).only_enforce_if(energy)
            differs.append(energy)
    m.add_bool_or(differs)


def _window_row(am: AuctionModel, awarded_kw: Mapping[str, int], rounded: int) -> None:
    """K·(r(S) − r(S*)) + Σ_i c_i·|d_i| ≥ 0 (module docstring)."""
    m, exact = am.model, am.inst.exact_weight
    whole = sum(b.weight * b.annual_kwh for b in am.pool) + 1
    k = max(1, min(MAX_K, 2 ** ((ROW_LIMIT // whole).bit_length() - 1)))  # a power of two
    terms: list[Any] = []
    for b in am.pool:
        held = b.energy(awarded_kw.get(b.bid_id, 0))
        c = math.ceil(k * abs(exact[b.bid_id] - b.weight))
        if not c:
            continue
        if held == 0:  # |d| is the energy awarded
            terms.append(c * am.kwh[b.bid_id])
        elif b.bid_id not in am.partial:  # |d| is the energy given up, or nothing
            terms.append(c * held * (1 - am.accept[b.bid_id]))
        else:
            change = m.new_int_var(0, max(held, b.annual_kwh - held), f"change[{b.bid_id}]")
            m.add_abs_equality(change, am.kwh[b.bid_id] - held)
            terms.append(c * change)
    m.add(k * (am.weighted_energy() - rounded) + sum(terms) >= 0)


def check_rounding(
    stage: StageProblem, awarded_kw: Mapping[str, int], work: WorkBudget
) -> RoundingCheck:
    """Whether the stage's exact optimum is `awarded_kw` (or another award the window shows
    is exactly better); see the module docstring."""
    awarded = {k: v for k, v in awarded_kw.items() if v > 0}
    t = window(stage, awarded)
    check = RoundingCheck(proven=False, awarded_kw=awarded)
    if t == 0:
        check.proven = True
        return check
    problems, value = exact_value(stage, awarded)
    if problems:
        check.reason = "the award breaks a limit: " + "; ".join(problems[:3])
        return check
    floor = value[0] - math.floor(t)  # every award in the window has r(S) ≥ this
    inst = stage.inst
    restriction = None
    if inst.spec.pricing.rule == "pay_as_bid":  # keep only choices an award in the window makes
        relaxed = lagrangian_bound(
            inst, stage.pool, stage.fixed_kw, stage.budget_mc, stage.minimums
        )
        restriction = None if relaxed is None else relaxed.restrict(floor)
    am = AuctionModel(
        inst,
        stage.pool,
        stage.fixed_kw,
        stage.budget_mc,
        stage.minimums,
        restriction=restriction,
        lot_pool=stage.lot_pool,
    )
    _window_row(am, awarded, value[0])
    found = [awarded]
    _exclude(am, awarded, 0)
    while True:
        solver, status = run_cp_sat(am.model, work) if not work.exhausted else (None, None)
        if status == cp_model.INFEASIBLE:
            break
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or len(found) >= MAX_AWARDS:
            check.awards_in_window = len(found)
            check.reason = (
                f"more than {MAX_AWARDS} awards within the rounding window"
                if len(found) >= MAX_AWARDS
                else "CP-SAT's work ran out listing the awards within the rounding window"
            )
            return check
        assert solver is not None
        other = {k: v for k, v in solution_kw(am, solver).items() if v > 0}
        found.append(other)
        _exclude(am, other, len(found))
    check.awards_in_window = len(found)

    def key(award: dict[str, int]) -> tuple[Fraction, int, int]:
        _, (_, cost, lot_sum) = exact_value(stage, award)
        return (-exact_weighted(stage, award), cost, lot_sum)

    best = min(found, key=key)
    check.proven = True
    if key(best) < key(awarded):
        check.changed, check.awarded_kw = True, best
    return check
