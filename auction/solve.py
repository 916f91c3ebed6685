"""Lexicographic solve: most preference-weighted energy, then least budget use, then lot order.

Each level is a CP-SAT solve on one worker with a fixed seed (single-thread search is
deterministic), hinted with the previous level's solution, under the round's time limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from ortools.sat.python import cp_model

from .instance import Instance, ScaledBid
from .model import AuctionModel
from .reduction import lagrangian_bound

RANDOM_SEED = 20231
# Level 2 adds the full LP relaxation of every linear constraint: on these knapsack-like
# models it closes the bound where the default search stalls (measured in benchmarks/).
LINEARIZATION_LEVEL = 2
FREE_BLOCKS = 100  # the first reduction's target leaves about this many bids undecided


@dataclass
class SolveReport:
    status: str
    proven_optimal: bool
    awarded_kw: dict[str, int] = field(default_factory=dict)
    weighted_energy: int | None = None  # kWh × weight
    bound: int | None = None
    objective_proven: bool = False  # level 1 (weighted energy) proven, whatever the tie-breaks
    levels: list[dict[str, Any]] = field(default_factory=list)


def solver_parameters(time_limit_s: float) -> dict[str, Any]:
    return {
        "num_workers": 1,
        "random_seed": RANDOM_SEED,
        "linearization_level": LINEARIZATION_LEVEL,
        "max_time_in_seconds": round(time_limit_s, 3),
        "ortools_version": version("ortools"),
    }


def _solve(model: cp_model.CpModel, seconds: float) -> tuple[cp_model.CpSolver, Any]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = RANDOM_SEED
    solver.parameters.linearization_level = LINEARIZATION_LEVEL
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    return solver, solver.solve(model)


def _record(solver: cp_model.CpSolver, status: Any, name: str, started: float) -> dict[str, Any]:
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {
        "level": name,
        "status": solver.status_name(status),
        "objective": solver.objective_value if found else None,
        "bound": solver.best_objective_bound if found else None,
        "wall_time_s": round(time.monotonic() - started, 3),
    }


def _awarded(am: AuctionModel, solver: cp_model.CpSolver) -> dict[str, int]:
    return {b.bid_id: int(solver.value(am.kw[b.bid_id])) for b in am.pool}


def _tie_breaks(
    am: AuctionModel, deadline: float, hint: Mapping[str, int], report: SolveReport
) -> None:
    """Levels 2 and 3 with the weighted energy already held at its optimum in `am.model`."""
    model = am.model
    for name, expression in (("cost", am.cost()), ("lot", am.lot_order())):
        model.minimize(expression)
        am.hint(hint)
        started = time.monotonic()
        solver, status = _solve(model, deadline - time.monotonic())
        report.levels.append(_record(solver, status, name, started))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            report.proven_optimal = False
            return  # keep the previous level's solution
        hint = _awarded(am, solver)
        report.awarded_kw = {k: v for k, v in hint.items() if v > 0}
        report.proven_optimal &= status == cp_model.OPTIMAL
        model.add(expression <= round(solver.objective_value))


def solve_lexicographic(
    am: AuctionModel,
    time_limit_s: float,
    hint: Mapping[str, int] | None = None,
    upper_bound: int | None = None,
) -> SolveReport:
    deadline = time.monotonic() + time_limit_s
    model = am.model
    energy = am.weighted_energy()
    report = SolveReport(status="UNKNOWN", proven_optimal=True)
    if upper_bound is not None:
        model.add(energy <= upper_bound)  # a proven bound from a relaxation
    model.maximize(energy)
    if hint is not None:
        am.hint(hint)
    started = time.monotonic()
    solver, status = _solve(model, deadline - time.monotonic())
    report.levels.append(_record(solver, status, "weighted_energy", started))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        report.status, report.proven_optimal = solver.status_name(status), False
        return report
    awarded = _awarded(am, solver)
    report.awarded_kw = {k: v for k, v in awarded.items() if v > 0}
    report.status = solver.status_name(status)
    report.weighted_energy = round(solver.objective_value)
    report.bound = round(solver.best_objective_bound)
    report.objective_proven = report.proven_optimal = status == cp_model.OPTIMAL
    # Keep this level's optimum while optimising the next ones.
    model.add(energy >= report.weighted_energy)
    _tie_breaks(am, deadline, awarded, report)
    if not report.proven_optimal and report.status == "OPTIMAL":
        report.status = "FEASIBLE"
    return report


def solve_stage(
    inst: Instance,
    pool: list[ScaledBid],
    fixed_kw: Mapping[str, int],
    budget_mc: int | None,
    time_limit_s: float,
    hint: Mapping[str, int],
    minimums: bool = True,
    upper_bound: int | None = None,
) -> SolveReport:
    """The lexicographic optimum of one stage; pay-as-bid stages are first reduced exactly.

    The reduction (`reduction.py`) keeps every award whose weighted energy reaches a target.
    A first target a little below the Lagrangian bound leaves a small model; if that model's
    optimum reaches the target it is the optimum of the round (every better award was kept).
    If it falls short (or has no award), the target is lowered eightfold further below the
    bound; once it is at or below an award already found, the reduced model is exact. The
    tie-break levels then run on the model reduced at the optimal weighted energy itself.
    """
    deadline = time.monotonic() + time_limit_s

    def full() -> SolveReport:
        am = AuctionModel(inst, pool, fixed_kw, budget_mc, minimums)
        return solve_lexicographic(am, deadline - time.monotonic(), hint, upper_bound)

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
        am = AuctionModel(inst, pool, fixed_kw, budget_mc, minimums, restriction=restriction)
        am.model.maximize(am.weighted_energy())
        am.hint(hint)
        started = time.monotonic()
        solver, status = _solve(am.model, deadline - time.monotonic())
        levels.append(_record(solver, status, "weighted_energy", started))
        levels[-1]["bids_open"] = len(am.pool) - len(restriction.required)
        if status == cp_model.OPTIMAL and solver.objective_value >= target:
            best = round(solver.objective_value)
            break
        if status == cp_model.OPTIMAL:
            found = round(solver.objective_value)
            incumbent = found if incumbent is None else max(incumbent, found)
            hint = _awarded(am, solver)
        elif status != cp_model.INFEASIBLE or exact:  # out of time
            report = full()
            report.levels = levels + report.levels
            return report
        gap *= 8
    report = SolveReport(status="OPTIMAL", proven_optimal=True, levels=levels)
    report.weighted_energy = report.bound = best
    report.objective_proven = True
    awarded = _awarded(am, solver)
    cost = round(solver.value(am.cost()))

    def cheaper(limit: int) -> AuctionModel | None:
        restriction = relaxed.restrict(best, budget_mc=limit)
        return (
            None
            if restriction.empty
            else AuctionModel(inst, pool, fixed_kw, limit, minimums, restriction=restriction)
        )

    cost, awarded = _lower(
        cheaper, AuctionModel.cost, best, cost, awarded, deadline, report, "cost"
    )
    # The lot: least lot sum among awards with the optimal energy and least cost, directly
    # (the lot row does not weaken the energy bound the way a budget row does).
    last = cheaper(cost)
    if last is not None:
        last.model.add(last.weighted_energy() >= best)
        last.model.minimize(last.lot_order())
        last.hint(awarded)
        started = time.monotonic()
        solver, status = _solve(last.model, deadline - time.monotonic())
        report.levels.append(_record(solver, status, "lot", started))
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            awarded = _awarded(last, solver)
        report.proven_optimal &= status == cp_model.OPTIMAL
    report.awarded_kw = {k: v for k, v in awarded.items() if v > 0}
    if not report.proven_optimal:
        report.status = "FEASIBLE"
    return report


def _lower(
    below: Callable[[int], AuctionModel | None],
    measure: Callable[[AuctionModel], cp_model.LinearExprT],
    best: int,
    value: int,
    awarded: dict[str, int],
    deadline: float,
    report: SolveReport,
    name: str,
) -> tuple[int, dict[str, int]]:
    """A tie-break level proved by maximising the weighted energy: `value` (budget use or lot
    sum of an award with the optimal weighted energy `best`) is least once no award measuring
    at most value − 1 reaches `best`. That is a round with a tighter limit, where the
    Lagrangian bound is as strong as at level 1; each award found measures less."""
    while True:
        am = below(value - 1)
        if am is None:  # the bound alone rules out any award measuring less
            report.levels.append(
                {
                    "level": name,
                    "status": "OPTIMAL",
                    "objective": value,
                    "bound": value,
                    "wall_time_s": 0.0,
                }
            )
            return value, awarded
        am.model.maximize(am.weighted_energy())
        am.hint(awarded)
        started = time.monotonic()
        solver, status = _solve(am.model, deadline - time.monotonic())
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and solver.objective_value >= best
        proven = status == cp_model.INFEASIBLE or (status == cp_model.OPTIMAL and not found)
        report.levels.append(
            {
                "level": name,
                "status": "OPTIMAL"
                if proven
                else "IMPROVED"
                if found
                else solver.status_name(status),
                "objective": value,
                "bound": value if proven else None,
                "wall_time_s": round(time.monotonic() - started, 3),
            }
        )
        if proven:
            return value, awarded
        if not found:  # out of time: the level is not proven
            report.proven_optimal = False
            return value, awarded
        awarded = _awarded(am, solver)
        value = round(solver.value(measure(am)))


def maximise_energy(
    am: AuctionModel, seconds: float, hint: Mapping[str, int]
) -> tuple[int | None, dict[str, int]]:
    """One solve of the weighted energy: (proven upper bound or None, best award found)."""
    am.model.maximize(am.weighted_energy())
    am.hint(hint)
    solver, status = _solve(am.model, seconds)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, {}
    awarded = {b.bid_id: int(solver.value(am.kw[b.bid_id])) for b in am.pool}
    return round(solver.best_objective_bound), {k: v for k, v in awarded.items() if v > 0}
