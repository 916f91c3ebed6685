"""Lexicographic solve of a whole model: most preference-weighted energy, then least budget
use, then lot order (pay-as-bid stages are reduced first: see `staged.py`).

Each level is a CP-SAT solve on one worker with a fixed seed (single-thread search is
deterministic), hinted with the previous level's solution. Every limit is CP-SAT's
deterministic work, never wall-clock time, so the same round gives the same award on any
machine. Every answer is checked for consistency (`checked_status`) before it is used.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from ortools.sat.python import cp_model

from mzekari.errors import MzekariError

from .model import AuctionModel

RANDOM_SEED = 20231
# Level 2 adds the full LP relaxation of every linear constraint: on these knapsack-like
# models it closes the bound where the default search stalls (measured in benchmarks/).
LINEARIZATION_LEVEL = 2
# OR-Tools 9.15's inclusion presolve can certify a wrong optimum on linear models
# (google/or-tools#5293); with its work limit at 0 that presolve step does not run.
PRESOLVE_INCLUSION_WORK_LIMIT = 0


class SolverInconsistency(MzekariError):
    """The solver's answer contradicts itself (e.g. an objective beyond its own bound)."""

    kind = "solver_inconsistency"


@dataclass
class WorkBudget:
    """CP-SAT deterministic work left for a clearing (CP-SAT's units, roughly a second of one
    core each). Deterministic work, unlike seconds, is the same on every machine."""

    left: float

    def cap(self, limit: float | None = None) -> float:
        return max(min(self.left, limit) if limit is not None else self.left, 1e-12)

    def spend(self, solver: cp_model.CpSolver) -> None:
        self.left -= solver.deterministic_time

    @property
    def exhausted(self) -> bool:
        return self.left <= 0.001


@dataclass
class SolveReport:
    status: str
    proven_optimal: bool
    awarded_kw: dict[str, int] = field(default_factory=dict)
    weighted_energy: int | None = None  # kWh × weight
    bound: int | None = None
    objective_proven: bool = False  # level 1 (weighted energy) proven, whatever the tie-breaks
    levels: list[dict[str, Any]] = field(default_factory=list)
    rounding_unproven: bool = False  # optimal for the rounded scores, not shown for the exact


def solver_parameters(work_limit: float) -> dict[str, Any]:
    return {
        "num_workers": 1,
        "random_seed": RANDOM_SEED,
        "linearization_level": LINEARIZATION_LEVEL,
        "presolve_inclusion_work_limit": PRESOLVE_INCLUSION_WORK_LIMIT,
        "max_deterministic_time": round(work_limit, 3),
        "ortools_version": version("ortools"),
    }


def checked_status(solver: cp_model.CpSolver, status: Any, maximise: bool) -> Any:
    """The status, once the answer is shown consistent: a found objective never beyond the
    bound, and OPTIMAL only with the objective at the bound. Raises SolverInconsistency."""
    if status == cp_model.MODEL_INVALID:
        raise MzekariError(
            "the round cannot be modelled exactly in 64-bit integers (budget, energy or prices "
            "too large); split the round or use coarser units"
        )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return status
    objective, bound = solver.objective_value, solver.best_objective_bound
    beyond = objective > bound if maximise else objective < bound
    if beyond or (status == cp_model.OPTIMAL and objective != bound):
        raise SolverInconsistency(
            f"CP-SAT returned {solver.status_name(status)} with objective {objective} and bound "
            f"{bound} ({'above' if beyond else 'not at'} its bound): the answer is not published"
        )
    return status


def run_cp_sat(
    model: cp_model.CpModel, work: WorkBudget, cap: float | None = None
) -> tuple[cp_model.CpSolver, Any]:
    """One solve within the work budget (and `cap`, if given); the work is spent."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = RANDOM_SEED
    solver.parameters.linearization_level = LINEARIZATION_LEVEL
    solver.parameters.presolve_inclusion_work_limit = PRESOLVE_INCLUSION_WORK_LIMIT
    solver.parameters.max_deterministic_time = work.cap(cap)
    status = solver.solve(model)
    work.spend(solver)
    maximise = model.proto.objective.scaling_factor < 0 if model.has_objective() else True
    return solver, checked_status(solver, status, maximise)


def level_record(
    solver: cp_model.CpSolver, status: Any, name: str, started: float
) -> dict[str, Any]:
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {
        "level": name,
        "status": solver.status_name(status),
        "objective": solver.objective_value if found else None,
        "bound": solver.best_objective_bound if found else None,
        "wall_time_s": round(time.monotonic() - started, 3),
    }


def solution_kw(am: AuctionModel, solver: cp_model.CpSolver) -> dict[str, int]:
    return {b.bid_id: int(solver.value(am.kw[b.bid_id])) for b in am.pool}


def _tie_breaks(
    am: AuctionModel, work: WorkBudget, hint: Mapping[str, int], report: SolveReport
) -> None:
    """Levels 2 and 3 with the weighted energy already held at its optimum in `am.model`."""
    model = am.model
    for name, expression in (("cost", am.cost()), ("lot", am.lot_order())):
        model.minimize(expression)
        am.hint(hint)
        started = time.monotonic()
        solver, status = run_cp_sat(model, work)
        report.levels.append(level_record(solver, status, name, started))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            report.proven_optimal = False
            return  # keep the previous level's solution
        hint = solution_kw(am, solver)
        report.awarded_kw = {k: v for k, v in hint.items() if v > 0}
        report.proven_optimal &= status == cp_model.OPTIMAL
        model.add(expression <= int(solver.value(expression)))


def solve_lexicographic(
    am: AuctionModel,
    work: WorkBudget,
    hint: Mapping[str, int] | None = None,
    upper_bound: int | None = None,
) -> SolveReport:
    model = am.model
    energy = am.weighted_energy()
    report = SolveReport(status="UNKNOWN", proven_optimal=True)
    if upper_bound is not None:
        model.add(energy <= upper_bound)  # a proven bound from a relaxation
    model.maximize(energy)
    if hint is not None:
        am.hint(hint)
    started = time.monotonic()
    solver, status = run_cp_sat(model, work)
    report.levels.append(level_record(solver, status, "weighted_energy", started))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        report.status, report.proven_optimal = solver.status_name(status), False
        return report
    awarded = solution_kw(am, solver)
    report.awarded_kw = {k: v for k, v in awarded.items() if v > 0}
    report.status = solver.status_name(status)
    report.weighted_energy = int(solver.value(energy))
    proven = status == cp_model.OPTIMAL  # (checked: the objective is at the bound)
    report.bound = report.weighted_energy if proven else upper_bound_of(solver)
    report.objective_proven = report.proven_optimal = status == cp_model.OPTIMAL
    # Keep this level's optimum while optimising the next ones.
    model.add(energy >= report.weighted_energy)
    _tie_breaks(am, work, awarded, report)
    if not report.proven_optimal and report.status == "OPTIMAL":
        report.status = "FEASIBLE"
    return report


def upper_bound_of(solver: cp_model.CpSolver) -> int:
    """CP-SAT's bound of a maximised integer objective, as an integer never below it: the
    bound is reported as a double, which is exact only up to 2**53 (values here go beyond);
    the objective itself is always read back exactly, from the solution."""
    bound = solver.best_objective_bound
    return math.ceil(bound) + math.ceil(abs(bound) * 2**-50) + 1
