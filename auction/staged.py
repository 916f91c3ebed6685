"""One clearing stage: pay-as-bid stages solved on exactly reduced models (`reduction.py`),
other stages as whole models (`solve.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from ortools.sat.python import cp_model

from .instance import Instance, ScaledBid
from .model import AuctionModel
from .reduction import LagrangianBound, lagrangian_bound
from .solve import (
    SolveReport,
    WorkBudget,
    level_record,
    run_cp_sat,
    solution_kw,
    solve_lexicographic,
)

FOUND = (cp_model.OPTIMAL, cp_model.FEASIBLE)
FREE_BLOCKS = 100  # the first reduction's target leaves about this many bids undecided
ATTEMPT_WORK = 2.0  # deterministic work (CP-SAT units) of a reduced attempt short of exact
FIRST_WORK = 0.1  # deterministic work of the direct least-cost solve (CP-SAT units)


def solve_stage(
    inst: Instance,
    pool: list[ScaledBid],
    fixed_kw: Mapping[str, int],
    budget_mc: int | None,
    work: WorkBudget,
    hint: Mapping[str, int],
    minimums: bool = True,
    lot_pool: list[ScaledBid] | None = None,
) -> SolveReport:
    """The lexicographic optimum of one stage; pay-as-bid stages are first reduced exactly.

    The reduction (`reduction.py`) keeps every award whose weighted energy reaches a target.
    A first target a little below the Lagrangian bound leaves a small model; if that model's
    optimum reaches the target it is the optimum of the round (every better award was kept).
    If it falls short (or has no award), the target is lowered eightfold further below the
    bound; once it is at or below an award already found, the reduced model is exact. The
    tie-break levels then run on the model reduced at the optimal weighted energy itself.
    """
    relaxed: LagrangianBound | None = None

    def full() -> SolveReport:
        am = AuctionModel(inst, pool, fixed_kw, budget_mc, minimums, lot_pool=lot_pool)
        # A proven bound, when the reduced attempts ran out of work.
        bound = relaxed.bound() if relaxed is not None else None
        return solve_lexicographic(am, work, hint, bound)

    if inst.spec.pricing.rule != "pay_as_bid":
        return full()
    started = time.monotonic()
    relaxed = lagrangian_bound(inst, pool, fixed_kw, budget_mc, minimums)
    if relaxed is None:
        return full()
    levels = [
        {
            "level": "lagrangian_bound",
            "status": "OPTIMAL",
            "objective": None,
            "bound": relaxed.bound(),
            "wall_time_s": round(time.monotonic() - started, 3),
        }
    ]
    gap = max(relaxed.slack_for(FREE_BLOCKS), 1)
    incumbent: int | None = None  # the best award of the round found so far
    while True:
        target = relaxed.bound() - gap
        exact = incumbent is not None and incumbent >= target
        if incumbent is not None and exact:
            target = incumbent
        elif target <= 0:  # every award is kept anyway
            report = full()
            report.levels = levels + report.levels
            return report
        restriction = relaxed.restrict(target)
        am = AuctionModel(
            inst, pool, fixed_kw, budget_mc, minimums, restriction=restriction, lot_pool=lot_pool
        )
        am.model.maximize(am.weighted_energy())
        am.hint(hint)
        started = time.monotonic()
        # Short of the exact target, work is capped: an attempt that stalls widens the gap.
        # The exact attempt may use half the work left: the whole model, hinted with the
        # best award found, then has the rest to find a better one and a bound.
        solver, status = run_cp_sat(am.model, work, work.left / 2 if exact else ATTEMPT_WORK)
        levels.append(level_record(solver, status, "weighted_energy", started))
        levels[-1]["bids_open"] = len(am.pool) - len(restriction.required)
        value = int(solver.value(am.weighted_energy())) if status in FOUND else None
        if status == cp_model.OPTIMAL and value is not None and value >= target:
            best = value
            break
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):  # an award of the round
            found = int(solver.value(am.weighted_energy()))
            incumbent = found if incumbent is None else max(incumbent, found)
            hint = solution_kw(am, solver)
        if exact or work.exhausted:  # out of work: the whole model decides
            report = full()
            report.levels = levels + report.levels
            return report
        gap *= 8
    report = SolveReport(status="OPTIMAL", proven_optimal=True, levels=levels)
    report.weighted_energy = report.bound = best
    report.objective_proven = True
    awarded = solution_kw(am, solver)
    cost = round(solver.value(am.cost()))

    def cheaper(limit: int) -> AuctionModel | None:
        restriction = relaxed.restrict(best, budget_mc=limit)
        return (
            None
            if restriction.empty
            else AuctionModel(
                inst, pool, fixed_kw, limit, minimums, restriction=restriction, lot_pool=lot_pool
            )
        )

    cost, awarded = _least_cost(cheaper, best, cost, awarded, work, report)
    # The lot: least lot sum among awards with the optimal energy and least cost, directly
    # (the lot row does not weaken the energy bound the way a budget row does).
    last = cheaper(cost)
    if last is not None:
        last.model.add(last.weighted_energy() >= best)
        last.model.minimize(last.lot_order())
        last.hint(awarded)
        started = time.monotonic()
        solver, status = run_cp_sat(last.model, work)
        report.levels.append(level_record(solver, status, "lot", started))
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            awarded = solution_kw(last, solver)
        report.proven_optimal &= status == cp_model.OPTIMAL
    report.awarded_kw = {k: v for k, v in awarded.items() if v > 0}
    if not report.proven_optimal:
        report.status = "FEASIBLE"
    return report


def _least_cost(
    cheaper: Callable[[int], AuctionModel | None],
    best: int,
    cost: int,
    awarded: dict[str, int],
    work: WorkBudget,
    report: SolveReport,
) -> tuple[int, dict[str, int]]:
    """The least budget use among awards with the optimal weighted energy `best`.

    First a short direct solve (cost minimised with the energy held at `best`, capped in
    CP-SAT's deterministic work so the path is reproducible), which often settles it at once.
    Otherwise: no award within cost − 1 reaching `best` proves the cost least; that is shown by
    maximising the energy under the lowered budget, where the Lagrangian bound is as strong as
    at level 1. An award that does reach `best` is cheaper and becomes the new best."""
    am = cheaper(cost)
    assert am is not None  # the best award so far satisfies its own restriction
    am.model.add(am.weighted_energy() >= best)
    am.model.minimize(am.cost())
    am.hint(awarded)
    started = time.monotonic()
    solver, status = run_cp_sat(am.model, work, FIRST_WORK)
    report.levels.append(level_record(solver, status, "cost", started))
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        awarded, cost = solution_kw(am, solver), int(solver.value(am.cost()))
    if status == cp_model.OPTIMAL:
        return cost, awarded
    while not work.exhausted:
        lower = cheaper(cost - 1)
        if lower is None:  # the bound alone rules out a cheaper award
            report.levels.append({"level": "cost_by_energy", "status": "OPTIMAL", "bound": cost})
            return cost, awarded
        lower.model.maximize(lower.weighted_energy())
        lower.hint(awarded)
        started = time.monotonic()
        solver, status = run_cp_sat(lower.model, work)
        found = status in FOUND and int(solver.value(lower.weighted_energy())) >= best
        record = {**level_record(solver, status, "cost_by_energy", started), "objective": cost}
        report.levels.append(record)
        if status == cp_model.INFEASIBLE or (status == cp_model.OPTIMAL and not found):
            record.update(status="OPTIMAL", bound=cost)
            return cost, awarded
        if not found:  # out of work
            break
        awarded = solution_kw(lower, solver)
        cost = round(solver.value(lower.cost()))
        record.update(status="IMPROVED", objective=cost, bound=None)
    report.proven_optimal = False
    return cost, awarded
