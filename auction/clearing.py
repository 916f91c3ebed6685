"""Entry point: clear a round with the optimiser or with a merit-order rule."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal

from mzekari.errors import InputError, MzekariError, Problem

from .bids import Bid
from .certify import Certificate, StageProblem, certify, exact_value
from .instance import (
    TIE_BREAK,
    Instance,
    ScaledBid,
    build_instance,
    scale_problem,
)
from .ledger import Ledger
from .merit import RULES, merit_clear
from .result import REJECTION_REASONS, Award, ClearingResult
from .round import RoundSpec
from .rounding import check_rounding
from .solve import SolveReport, WorkBudget, solver_parameters
from .staged import solve_stage
from .uniform import solve_uniform

__all__ = ["RULES", "clear"]

THOUSAND = Decimal(1000)
FITS = "it fits every limit: the award could take it"  # never said of a proven optimum


def _mwh(kwh: int) -> Decimal:
    return Decimal(kwh).scaleb(-3)


def _money_mc(milli_cents: int) -> Decimal:
    """Milli-cents as currency: exact, shown to the cent when it is whole cents."""
    value = Decimal(milli_cents).scaleb(-5)
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value


def _objective(value: int | None, scale: int) -> Decimal | None:
    return None if value is None else Decimal(value) / (THOUSAND * scale)


def _mw(kw: int) -> str:
    return f"{Decimal(kw).scaleb(-3)} MW"


def _explain(ledger: Ledger, inst: Instance, b: ScaledBid) -> tuple[str, str]:
    """Why a bid is not in the award: the first limit, in the published order, that adding it
    would break, with the numbers (reason, explanation)."""
    group = b.bid.alternative_group
    if group in ledger.groups:
        chosen = sorted(k for k, s in ledger.alternatives.items() if s == group)
        return "alternative_chosen", f"{', '.join(chosen)} of alternative group {group} won"
    room = b.capacity_kw
    for reason, limit_room, name, limit in ledger.limits(b):
        if limit_room < b.min_kw:
            left = f"{name} {_mw(limit)}: {_mw(max(limit_room, 0))} left"
            if limit_room > 0 and b.min_kw < b.capacity_kw:
                return "below_minimum", f"{left}, below the bid's minimum {_mw(b.min_kw)}"
            return reason, f"{left}, the bid needs {_mw(b.min_kw)}"
        room = min(room, limit_room)
    fit = ledger.largest_fit(b, room, inst.budget_mc)
    if fit == 0:
        assert inst.budget_mc is not None  # without a budget, a bid that fits always fits
        remaining = inst.budget_mc - ledger.budget_use_mc()
        needs = ledger.budget_use_with(b, b.min_kw) - ledger.budget_use_mc()
        return "budget", (
            f"budget {_money_mc(inst.budget_mc)}: {_money_mc(remaining)} left, its smallest award "
            f"({_mw(b.min_kw)}) would add {_money_mc(needs)} (prices of its unit included)"
        )
    if b.energy(fit) == 0:  # energy is rounded down to the kWh: nothing to gain
        return "not_selected", (
            f"it fits, but its largest award that fits ({_mw(fit)}) adds no energy "
            "(rounded down to the kWh)"
        )
    return "not_selected", FITS


def _exclusion_detail(inst: Instance, b: ScaledBid) -> str:
    """The numbers behind a rejection known before clearing."""
    bid, tech = b.bid, inst.spec.technology(b.technology)
    if b.excluded == "above_ceiling":
        return f"price {bid.price} above the {bid.technology} ceiling {tech.ceiling_price}"
    if b.excluded == "not_small_plant":
        threshold = inst.spec.small_plant_threshold_mw
        return f"{bid.capacity_mw} MW is not below the small-plant threshold {threshold} MW"
    if b.excluded == "inadmissible":
        factor = bid.annual_mwh / (bid.capacity_mw * 8760)
        return (
            f"capacity factor {factor:.4f} above the {bid.technology} limit "
            f"{tech.max_capacity_factor}"
        )
    return ""


def _fill(inst: Instance, ledger: Ledger) -> list[str]:
    """Add, in merit order, every bid that still fits every limit of an award not proven
    optimal (each addition buys more weighted energy); returns the bids added."""
    added = []
    for b in sorted(inst.admissible, key=inst.rank_key):
        if b.bid_id in ledger.awarded or b.bid.alternative_group in ledger.groups:
            continue
        room = min([b.capacity_kw, *(r for _, r in ledger.rooms(b))])
        awarded = ledger.largest_fit(b, room, inst.budget_mc) if room >= b.min_kw else 0
        if b.energy(awarded) > 0:
            ledger.add(b, awarded)
            added.append(b.bid_id)
    return added


def _awards(
    inst: Instance,
    ledger: Ledger,
    reasons: Mapping[str, tuple[str, str]],
    stages: Mapping[str, str],
) -> list[Award]:
    setters = ledger.clearing_prices()  # unit → the price an accepted bid set
    awards = []
    for b in inst.bids:
        bid = b.bid
        bid_price = Decimal(b.price_cents).scaleb(-2)
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
                    bid_price,
                    b.price_cents == setters.get(ledger.unit(b.technology)),
                )
            )
        else:
            reason = b.excluded or reasons.get(b.bid_id, ("not_selected", ""))[0]
            detail = _exclusion_detail(inst, b) or reasons.get(b.bid_id, ("", ""))[1]
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
                    f"{REJECTION_REASONS[reason]}: {detail}"
                    if detail
                    else REJECTION_REASONS[reason],
                    "",
                    bid_price,
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


def _not_proven(report: SolveReport, gap: Decimal | None, work_limit: float) -> str:
    """Why an award is not proven optimal, and how far it may be from the optimum."""
    shown = "unknown" if gap is None else f"{gap:.6f}"
    if report.rounding_unproven:
        return (
            "NOT PROVEN OPTIMAL under the exact scores: the award is optimal for the scores as "
            "rounded (1/weight_scale), and certified so, but it is not shown that the rounding "
            "cannot change it (see notes)"
        )
    if report.objective_proven:
        return (
            "NOT PROVEN OPTIMAL as a whole: the weighted energy is proven optimal (gap 0), but "
            "a tie-break level (least cost, lot) is not proven"
        )
    return (
        f"NOT PROVEN OPTIMAL: the weighted energy may be up to {shown} (relative gap) below "
        f"the best bound; CP-SAT's deterministic work limit ({work_limit:g}, `time_limit_s`) "
        "ended the search, or the independent certificate did not confirm it (see notes)"
    )


class CertificationError(MzekariError):
    """CP-SAT and the independent check disagree: the award is not published."""

    kind = "certification_failed"


def _certify(
    stage: StageProblem,
    report: SolveReport,
    name: str,
    notes: list[str],
    decomposed: Certificate | None = None,
) -> dict[str, object]:
    """HiGHS re-proves a stage CP-SAT proved (a pay-as-clear stage brings the certificate of
    its search over clearing prices, `decomposed`); a disagreement refuses the whole clearing,
    an unfinished proof leaves the stage not proven (with a note saying why)."""
    if decomposed is None and (not report.proven_optimal or report.weighted_energy is None):
        return {"stage": name, "certified": False, "reason": "CP-SAT did not prove it"}
    if decomposed is not None:
        cert = decomposed
    else:
        assert report.weighted_energy is not None
        cert = certify(stage, report.awarded_kw, report.weighted_energy)
    record = {"stage": name, "certified": cert.certified, "levels": cert.levels}
    if decomposed is not None:
        record["method"] = "clearing-price decomposition, each price vector certified by HiGHS"
    if cert.disagreement:
        raise CertificationError(f"{name} stage: not published: {cert.reason}")
    if not cert.certified:
        report.proven_optimal = False
        if report.status == "OPTIMAL":
            report.status = "FEASIBLE"
        if decomposed is None and (
            not cert.levels or cert.levels[-1]["level"] == "weighted_energy"
        ):
            report.objective_proven = False  # not even the energy is certified
        notes.append(f"{name} stage: the optimum is not certified: {cert.reason}")
        record["reason"] = cert.reason
    return record


def _rounding(
    stage: StageProblem,
    report: SolveReport,
    record: dict[str, object],
    notes: list[str],
    work: WorkBudget,
    final: bool,
) -> dict[str, object]:
    """A proven stage whose weights were rounded (scores) is checked against its exact weights
    (`rounding.py`). The last stage publishes the exact optimum when the check finds it; an
    earlier stage (the ring-fence) that the rounding changed, or an unfinished check, leaves
    the award not proven."""
    inst = stage.inst
    if not report.proven_optimal or all(
        inst.exact_weight[b.bid_id] == b.weight for b in stage.pool
    ):
        return record
    name = str(record["stage"])
    check = check_rounding(stage, report.awarded_kw, work)
    record["score_rounding"] = check.record(name)
    if check.proven and not check.changed:
        return record
    if check.proven and final:
        report.awarded_kw = check.awarded_kw
        report.weighted_energy = report.bound = exact_value(stage, check.awarded_kw)[1][0]
        notes.append(
            f"{name} stage: rounding the scores changed the optimum; the exact optimum of the "
            f"{check.awards_in_window} awards within the rounding window is published"
        )
        return record
    report.proven_optimal = report.objective_proven = False
    report.rounding_unproven = True
    if report.status == "OPTIMAL":
        report.status = "FEASIBLE"
    reason = check.reason or "the exact optimum of this stage differs from the rounded one"
    notes.append(f"{name} stage: not shown that rounding the scores leaves the award: {reason}")
    return record


def _solve(
    inst: Instance,
    pool: list[ScaledBid],
    fixed: Mapping[str, int],
    budget_mc: int | None,
    work: WorkBudget,
    hint: Mapping[str, int],
    minimums: bool,
) -> tuple[SolveReport, Certificate | None]:
    """One stage: pay-as-clear and median by the search over clearing prices (`uniform.py`,
    which brings its own certificate), pay-as-bid by `staged.py`."""
    if inst.spec.pricing.rule in ("pay_as_clear", "median"):
        return solve_uniform(inst, pool, fixed, budget_mc, work, hint, minimums)
    return solve_stage(inst, pool, fixed, budget_mc, work, hint, minimums), None


def _optimise(
    inst: Instance, work: WorkBudget
) -> tuple[SolveReport, dict[str, str], list[str], list[dict[str, object]]]:
    """Ring-fence stage (innovative bids within the fence) if any, then the whole round;
    each stage CP-SAT proves is then certified independently (`certify.py`)."""
    skip = merit_clear(inst, "uk_skip")
    hint = skip.ledger.awarded
    stages: dict[str, str] = {}
    fixed: dict[str, int] = {}
    notes: list[str] = []
    levels = []
    certificates = []
    fence_proven = fence_whole = True
    fence_rounding = False  # the fence's rounding of scores not shown harmless
    if inst.fence_mc > 0:
        fenced = [b for b in inst.admissible if b.bid.innovative]
        fence_work = WorkBudget(work.left / 2)
        first, decomposed = _solve(inst, fenced, {}, inst.fence_mc, fence_work, hint, False)
        work.left -= work.left / 2 - fence_work.left
        stage = StageProblem(inst, fenced, {}, inst.fence_mc, False)
        record = _certify(stage, first, "ring_fence", notes, decomposed)
        certificates.append(_rounding(stage, first, record, notes, work, final=False))
        fence_proven, fence_whole = first.objective_proven, first.proven_optimal
        fence_rounding = first.rounding_unproven
        levels += [{"stage": "ring_fence", **lv} for lv in first.levels]
        if first.status in ("OPTIMAL", "FEASIBLE"):
            fixed = first.awarded_kw
            stages = dict.fromkeys(fixed, "ring_fence")
        else:
            notes.append(f"ring-fence stage: {first.status}; no fenced awards")
        if not first.proven_optimal:
            notes.append("ring-fence stage not proven optimal")
    hint = {**hint, **fixed}
    report, decomposed = _solve(inst, inst.admissible, fixed, inst.budget_mc, work, hint, True)
    stage = StageProblem(inst, inst.admissible, fixed, inst.budget_mc, True)
    record = _certify(stage, report, "round", notes, decomposed)
    certificates.append(_rounding(stage, report, record, notes, work, final=True))
    report.levels = levels + [{"stage": "round", **lv} for lv in report.levels]
    if not fence_whole:  # (a level record may be an inconclusive step of a proven level)
        report.proven_optimal = False
        if report.status == "OPTIMAL":
            report.status = "FEASIBLE"
    report.objective_proven &= fence_proven
    report.rounding_unproven |= fence_rounding
    return report, stages, notes, certificates


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
        ledger, stages = outcome.ledger, outcome.stage
        reasons = {k: (v, "") for k, v in outcome.reasons.items()}
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
        work_limit = float(round_spec.time_limit_s)
        report, stages, notes, certificates = _optimise(inst, WorkBudget(work_limit))
        status, proven = report.status, report.proven_optimal
        solver = {**solver_parameters(work_limit), "levels": report.levels}
        solver["certificates"] = certificates
        solver["certified_by"] = ["cp-sat", "highs"] if proven else []
        if status not in ("OPTIMAL", "FEASIBLE"):
            proven_infeasible = status == "INFEASIBLE"
            fenced = sorted(stages)  # the ring-fence stage's awards, fixed before the round
            detail = (
                f"once the ring-fence stage's awards ({', '.join(fenced)}) are fixed, as the "
                "rules clear the fence first"
                if fenced
                else ""
            )
            notes.append(
                " ".join(["no award: no award satisfies every limit of the round", detail]).strip()
                if proven_infeasible
                else f"no award: none was found within the work limit ({status})"
            )
            ledger = Ledger(inst)
            reason = "infeasible" if proven_infeasible else "not_selected"
            reasons = {
                b.bid_id: (reason, detail if proven_infeasible else "") for b in inst.admissible
            }
            bound = None
        else:
            ledger = _ledger(inst, report.awarded_kw)
            added = [] if proven else _fill(inst, ledger)
            if added:
                notes.append(
                    f"{len(added)} bid(s) added after the search, in merit order, each fitting "
                    f"every limit: {', '.join(added[:20])}{' …' if len(added) > 20 else ''}"
                )
            reasons = {
                b.bid_id: _explain(ledger, inst, b)
                for b in inst.admissible
                if b.bid_id not in ledger.awarded
            }
            fits = sorted(k for k, (_, explanation) in reasons.items() if explanation == FITS)
            if fits:  # an optimum leaves no bid that fits: the proof contradicts the award
                raise CertificationError(
                    f"not published: the award proven optimal leaves {', '.join(fits[:5])} "
                    "out although it fits every limit"
                )
            bound = report.bound
        solver["objective_proven"] = report.objective_proven
    solver["runtime_s"] = round(time.monotonic() - started, 3)
    weighted: int | None = _weighted(inst, ledger.awarded)
    if status not in ("OPTIMAL", "FEASIBLE", "RULE"):
        weighted = None
    objective = _objective(weighted, inst.weight_scale)
    bound_value = _objective(bound, inst.weight_scale)
    gap = None
    if bound_value is not None and objective is not None:
        gap = (bound_value - objective) / max(bound_value, Decimal(1))
    if rule is None and status == "FEASIBLE":
        notes.append(_not_proven(report, gap, float(round_spec.time_limit_s)))
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
        weight_scale=inst.weight_scale,
    )
