"""Entry point: clear a round with the optimiser or with a merit-order rule."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal

from mzekari.errors import InputError, MzekariError, Problem

from .bids import Bid
from .instance import (
    TIE_BREAK,
    WEIGHT_SCALE,
    Instance,
    ScaledBid,
    build_instance,
    scale_problem,
)
from .ledger import Ledger
from .merit import RULES, MeritOutcome, merit_clear
from .model import AuctionModel
from .result import REJECTION_REASONS, Award, ClearingResult
from .round import RoundSpec
from .solve import SolveReport, maximise_energy, solver_parameters
from .staged import solve_stage

__all__ = ["RULES", "clear"]

THOUSAND = Decimal(1000)


def _mwh(kwh: int) -> Decimal:
    return Decimal(kwh).scaleb(-3)


def _money_mc(milli_cents: int) -> Decimal:
    """Milli-cents as currency: exact, shown to the cent when it is whole cents."""
    value = Decimal(milli_cents).scaleb(-5)
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value


def _objective(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value) / (THOUSAND * WEIGHT_SCALE)


def _explain(ledger: Ledger, inst: Instance, b: ScaledBid) -> str:
    """Why the optimiser left a bid out: the first limit it would break if added."""
    if b.bid.alternative_group in ledger.groups:
        return "alternative_chosen"
    room = b.capacity_kw
    for limit_reason, limit_room in ledger.rooms(b):
        if limit_room < b.min_kw:
            return "below_minimum" if limit_room > 0 and b.min_kw < b.capacity_kw else limit_reason
        room = min(room, limit_room)
    if ledger.largest_fit(b, room, inst.budget_mc) == 0:
        return "budget"
    return "not_selected"


def _awards(
    inst: Instance, ledger: Ledger, reasons: Mapping[str, str], stages: Mapping[str, str]
) -> list[Award]:
    awards = []
    for b in inst.bids:
        bid = b.bid
        if b.bid_id in ledger.awarded:
            awarded_kw = ledger.awarded[b.bid_id]
            energy = b.energy(awarded_kw)
            paid = ledger.paid_cents(b)
            use_mc = inst.valuation(paid) * energy
            awards.append(
                Award(
                    bid.bid_id,
                    bid.bidder,
                    bid.technology,
                    True,
                    Decimal(awarded_kw).scaleb(-3),
                    _mwh(energy),
                    Decimal(paid).scaleb(-2),
                    _money_mc(use_mc),
                    "accepted",
                    f"awarded {Decimal(awarded_kw).scaleb(-3)} MW "
                    f"at {Decimal(paid).scaleb(-2)}/MWh",
                    stages.get(b.bid_id, ""),
                )
            )
        else:
            reason = b.excluded or reasons.get(b.bid_id, "not_selected")
            awards.append(
                Award(
                    bid.bid_id,
                    bid.bidder,
                    bid.technology,
                    False,
                    Decimal(0),
                    Decimal(0),
                    None,
                    Decimal(0),
                    reason,
                    REJECTION_REASONS[reason],
                )
            )
    return awards


def _ledger(inst: Instance, awarded_kw: Mapping[str, int]) -> Ledger:
    ledger = Ledger(inst)
    for b in inst.bids:
        if awarded_kw.get(b.bid_id, 0) > 0:
            ledger.add(b, awarded_kw[b.bid_id])
    return ledger


def _weighted(inst: Instance, awarded_kw: Mapping[str, int]) -> int:
    return sum(
        b.weight * b.energy(awarded_kw[b.bid_id]) for b in inst.bids if b.bid_id in awarded_kw
    )


def _fallback(inst: Instance, report: SolveReport, skip: MeritOutcome) -> bool:
    """Report the uk_skip award instead when the solver ran out of time with less (or nothing).

    The skip rule's award satisfies every limit when it meets the technology minimums and
    there is no ring-fence stage, so it is a feasible award the optimiser must not fall below.
    """
    if report.proven_optimal or inst.fence_mc > 0 or report.status == "INFEASIBLE":
        return False
    awarded = skip.ledger.awarded
    if any(skip.ledger.by_tech[t] < v for t, v in inst.tech_min_kw.items()):
        return False
    if report.status == "FEASIBLE" and _weighted(inst, awarded) <= _weighted(
        inst, report.awarded_kw
    ):
        return False
    report.awarded_kw, report.status = dict(awarded), "FEASIBLE"
    return True


def _relaxation(
    inst: Instance, fixed: Mapping[str, int], hint: dict[str, int], seconds: float
) -> tuple[int | None, dict[str, int]]:
    """An upper bound on the weighted energy from a relaxation with linear pay-as-bid costs.

    Pay-as-clear: every winner is paid at least its own bid (the clearing price is at least
    its bid, which is within its ceiling), so an award uses at least its pay-as-bid budget and
    the pay-as-bid optimum bounds the pay-as-clear one. Median: a winner may be paid less than
    its bid, so only the round without its budget bounds it. The relaxation's award is also
    the better hint when it fits the budget at the round's own prices."""
    budget = inst.budget_mc if inst.spec.pricing.rule == "pay_as_clear" else None
    relaxed = AuctionModel(inst, inst.admissible, fixed, budget, pricing="pay_as_bid")
    bound, awarded = maximise_energy(relaxed, max(seconds, 0.05), hint)
    if awarded and _weighted(inst, awarded) > _weighted(inst, hint):
        ledger = _ledger(inst, awarded)
        if inst.budget_mc is None or ledger.budget_use_mc() <= inst.budget_mc:
            return bound, awarded
    return bound, hint


def _optimise(inst: Instance) -> tuple[SolveReport, dict[str, str], list[str]]:
    """Ring-fence stage (innovative bids within the fence) if any, then the whole round."""
    time_limit = float(inst.spec.time_limit_s)
    deadline = time.monotonic() + time_limit
    skip = merit_clear(inst, "uk_skip")
    hint = skip.ledger.awarded
    stages: dict[str, str] = {}
    fixed: dict[str, int] = {}
    notes: list[str] = []
    levels = []
    fence_proven = fence_whole = True
    if inst.fence_mc > 0:
        fenced = [b for b in inst.admissible if b.bid.innovative]
        first = solve_stage(inst, fenced, {}, inst.fence_mc, time_limit / 2, hint, minimums=False)
        fence_proven, fence_whole = first.objective_proven, first.proven_optimal
        levels += [{"stage": "ring_fence", **lv} for lv in first.levels]
        if first.status in ("OPTIMAL", "FEASIBLE"):
            fixed = first.awarded_kw
            stages = dict.fromkeys(fixed, "ring_fence")
        else:
            notes.append(f"ring-fence stage: {first.status}; no fenced awards")
        if not first.proven_optimal:
            notes.append("ring-fence stage not proven optimal")
    hint = {**hint, **fixed}
    bound = None
    if inst.spec.pricing.rule != "pay_as_bid":
        bound, hint = _relaxation(inst, fixed, hint, (deadline - time.monotonic()) / 3)
    remaining = max(deadline - time.monotonic(), 0.05)
    report = solve_stage(inst, inst.admissible, fixed, inst.budget_mc, remaining, hint, True, bound)
    report.levels = levels + [{"stage": "round", **lv} for lv in report.levels]
    if not fence_whole:  # (a level record may be an inconclusive step of a proven level)
        report.proven_optimal = False
    report.objective_proven &= fence_proven
    if _fallback(inst, report, skip):
        notes.append(
            "the solver's best award within the time limit bought less preference-weighted "
            "energy than the uk_skip rule; the uk_skip award (which meets every limit) is reported"
        )
    return report, stages, notes


def clear(round_spec: RoundSpec, bids: Sequence[Bid], rule: str | None = None) -> ClearingResult:
    """Clear a round: `rule=None` runs the exact optimiser, otherwise a rule from RULES."""
    if rule is not None and rule not in RULES:
        raise InputError(
            Problem("rule", None, "rule", f"unknown rule {rule!r}; known: {', '.join(RULES)}")
        )
    inst = build_instance(round_spec, list(bids))
    notes: list[str] = []
    started = time.monotonic()
    if rule is not None:
        outcome = merit_clear(inst, rule)
        ledger, reasons, stages = outcome.ledger, outcome.reasons, outcome.stage
        status, proven, bound = "RULE", False, None
        solver: dict[str, object] = {"rule": rule}
        notes.append(f"merit-order rule {rule!r}: not an optimisation, no bound")
        for tech, minimum in sorted(inst.tech_min_kw.items()):
            if ledger.by_tech[tech] < minimum:
                notes.append(f"{tech}: minimum volume {Decimal(minimum).scaleb(-3)} MW not met")
    else:
        oversized = scale_problem(inst)
        if oversized:
            raise InputError(
                Problem(
                    round_spec.round_id,
                    None,
                    None,
                    f"too large to clear exactly in 64-bit integers ({oversized}); "
                    "split the round or state smaller amounts",
                )
            )
        report, stages, notes = _optimise(inst)
        status, proven = report.status, report.proven_optimal
        solver = {**solver_parameters(float(round_spec.time_limit_s)), "levels": report.levels}
        if status == "MODEL_INVALID":
            raise MzekariError(
                "the round cannot be modelled exactly in 64-bit integers (budget, energy or "
                "prices too large); split the round or use coarser units"
            )
        if status not in ("OPTIMAL", "FEASIBLE"):
            proven_infeasible = status == "INFEASIBLE"
            notes.append(
                "no award: no award satisfies every limit of the round"
                if proven_infeasible
                else f"no award: the solver found none within the time limit ({status})"
            )
            ledger = Ledger(inst)
            reason = "infeasible" if proven_infeasible else "not_selected"
            reasons = {b.bid_id: reason for b in inst.admissible}
            bound = None
        else:
            ledger = _ledger(inst, report.awarded_kw)
            reasons = {
                b.bid_id: _explain(ledger, inst, b)
                for b in inst.admissible
                if b.bid_id not in ledger.awarded
            }
            bound = report.bound
        solver["objective_proven"] = report.objective_proven
        if not proven and report.objective_proven:
            notes.append(
                "NOT PROVEN OPTIMAL as a whole: the weighted energy is proven optimal, but a "
                "tie-break level (least cost, lot) was not proven within the time limit"
            )
        elif not proven:
            notes.append("NOT PROVEN OPTIMAL: the time limit ended the search before a proof")
    solver["runtime_s"] = round(time.monotonic() - started, 3)
    weighted: int | None = _weighted(inst, ledger.awarded)
    if status not in ("OPTIMAL", "FEASIBLE", "RULE"):
        weighted = None
    objective = _objective(weighted)
    bound_value = _objective(bound)
    gap = None
    if bound_value is not None and objective is not None:
        gap = (bound_value - objective) / max(bound_value, Decimal(1))
    return ClearingResult(
        round_id=round_spec.round_id,
        rule=rule or "optimiser",
        pricing_rule=round_spec.pricing.rule,
        currency=round_spec.currency,
        status=status,
        proven_optimal=proven,
        objective=objective,
        bound=bound_value,
        gap=gap,
        awards=_awards(inst, ledger, reasons, stages),
        budget=None if round_spec.budget is None else round_spec.budget.amount,
        clearing_prices={u: Decimal(p).scaleb(-2) for u, p in ledger.clearing_prices().items()},
        solver=solver,
        tie_break=TIE_BREAK,
        notes=notes,
    )
