"""Solver-independent check of a clearing result.

Recomputes everything from the bids and the round in `Decimal` (not from the integer instance
the engine solves): admissibility, awarded energy, every limit, the prices under the pricing
rule actually applied, each line's budget use, the budget, the ring-fence and the objective.
Returns the violations found; an empty list means the result is valid.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from .bids import Bid
from .result import REJECTION_REASONS, Award, ClearingResult
from .round import RoundSpec

KWH = Decimal("0.001")


def support_value(spec: RoundSpec, paid: Decimal) -> Decimal:
    """Budget valuation per MWh of annual energy, in currency, rounded to the cent."""
    budget = spec.budget
    if budget is None:
        return paid
    path = budget.reference_prices or [budget.reference_price or Decimal(0)] * budget.years
    with localcontext() as ctx:
        ctx.prec = 40
        factor, value = Decimal(1), Decimal(0)
        for year in range(budget.years):
            factor /= 1 + budget.discount_rate
            margin = paid - path[year]
            value += factor * (margin if margin > 0 or budget.below_reference == "negative" else 0)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_exclusion(spec: RoundSpec, bid: Bid) -> str | None:
    tech = spec.technology(bid.technology)
    limit = tech.max_capacity_factor
    if limit is not None and bid.annual_mwh / (bid.capacity_mw * 8760) > limit:
        return "inadmissible"
    small = spec.small_plant_threshold_mw
    if small is not None and not bid.capacity_mw < small:
        return "not_small_plant"
    if tech.ceiling_price is not None and bid.price > tech.ceiling_price:
        return "above_ceiling"
    return None


def preference_weight(
    spec: RoundSpec, bids: Sequence[Bid], bid: Bid, scale: int = 10_000
) -> Decimal:
    """The bid's score × (1 + bonus if innovative), rounded half-up to 1/scale."""
    inn = spec.innovation
    with localcontext() as ctx:
        ctx.prec = 40
        weight = Decimal(1)
        if inn.score_weight:
            lowest = min(b.price for b in bids if expected_exclusion(spec, b) is None)
            weight = (1 - inn.score_weight) * (lowest / bid.price)
            weight += inn.score_weight if bid.innovative else 0
        if bid.innovative:
            weight *= 1 + inn.bonus
        return (weight * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP) / scale


def unit_prices(spec: RoundSpec, accepted: Sequence[tuple[Bid, Award]]) -> dict[str, Decimal]:
    """Clearing price per pricing unit under the round's rule (empty for pay-as-bid)."""
    rule = spec.pricing.rule
    if rule == "pay_as_bid":
        return {}
    group = {t: g for g, ts in spec.price_groups().items() for t in ts}
    prices: dict[str, list[Decimal]] = defaultdict(list)
    for bid, _ in accepted:
        prices[group[bid.technology] if rule == "pay_as_clear" else bid.technology].append(
            bid.price
        )
    if rule == "pay_as_clear":
        return {u: max(p) for u, p in prices.items()}
    return {u: sorted(p)[(len(p) + 1) // 2 - 1] for u, p in prices.items()}  # lower median


def price_paid(spec: RoundSpec, bid: Bid, prices: dict[str, Decimal]) -> Decimal:
    rule = spec.pricing.rule
    if rule == "pay_as_bid":
        return bid.price
    group = {t: g for g, ts in spec.price_groups().items() for t in ts}
    clearing = prices[group[bid.technology] if rule == "pay_as_clear" else bid.technology]
    ceiling = spec.technology(bid.technology).ceiling_price
    return clearing if ceiling is None else min(clearing, ceiling)


def budget_of(spec: RoundSpec, accepted: Sequence[tuple[Bid, Award]]) -> Decimal:
    prices = unit_prices(spec, accepted)
    return sum(
        (
            support_value(spec, price_paid(spec, b, prices)) * a.awarded_annual_mwh
            for b, a in accepted
        ),
        Decimal(0),
    )


def _limit(
    problems: list[str],
    label: str,
    used: dict[str, Decimal],
    limits: dict[str, Decimal],
    largest: dict[str, Decimal] | None = None,
) -> None:
    for key, total in sorted(used.items()):
        limit = limits.get(key)
        if limit is None:
            continue
        overshoot_ok = largest is not None and total - largest[key] < limit
        if total > limit and not overshoot_ok:
            problems.append(f"{label} {key!r}: {total} MW awarded, limit {limit} MW")


def validate_result(
    round_spec: RoundSpec, bids: Sequence[Bid], result: ClearingResult
) -> list[str]:
    spec, problems = round_spec, []
    by_id = {b.bid_id: b for b in bids}
    awards = {a.bid_id: a for a in result.awards}
    if sorted(awards) != sorted(by_id) or len(result.awards) != len(bids):
        problems.append("the result does not have exactly one line per bid")
        return problems
    accepted = [(by_id[k], a) for k, a in sorted(awards.items()) if a.accepted]
    germany = result.rule == "germany"
    used: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    largest: dict[str, Decimal] = defaultdict(Decimal)
    groups: dict[str, int] = defaultdict(int)
    for bid_id, a in sorted(awards.items()):
        bid = by_id[bid_id]
        excluded = expected_exclusion(spec, bid)
        if not a.accepted:
            if a.reason not in REJECTION_REASONS:
                problems.append(f"{bid_id}: unknown rejection reason {a.reason!r}")
            if excluded is not None and a.reason != excluded:
                problems.append(f"{bid_id}: rejected as {a.reason!r}, expected {excluded!r}")
            if a.awarded_capacity_mw or a.budget_used or a.awarded_annual_mwh:
                problems.append(f"{bid_id}: rejected but has an award")
            continue
        if excluded is not None:
            problems.append(f"{bid_id}: accepted although {excluded}")
        cap, lowest = bid.capacity_mw, bid.min_capacity_mw or bid.capacity_mw
        if not lowest <= a.awarded_capacity_mw <= cap or a.awarded_capacity_mw % KWH:
            problems.append(
                f"{bid_id}: awarded {a.awarded_capacity_mw} MW outside [{lowest}, {cap}]"
            )
        energy = (bid.annual_mwh * a.awarded_capacity_mw / cap).quantize(KWH, rounding=ROUND_DOWN)
        if a.awarded_annual_mwh != energy:
            problems.append(f"{bid_id}: energy {a.awarded_annual_mwh} MWh, expected {energy}")
        for label, key in (
            ("bidder", bid.bidder),
            ("grid node", bid.grid_node or ""),
            ("technology", bid.technology),
            ("round", "total"),
        ):
            used[label][key] += a.awarded_capacity_mw
        largest[bid.technology] = max(largest[bid.technology], a.awarded_capacity_mw)
        largest["total"] = max(largest["total"], a.awarded_capacity_mw)
        if bid.alternative_group:
            groups[bid.alternative_group] += 1
    problems += [f"alternative group {g!r}: {n} bids accepted" for g, n in groups.items() if n > 1]
    if spec.bidder_cap_mw is not None:
        _limit(
            problems, "bidder", used["bidder"], dict.fromkeys(used["bidder"], spec.bidder_cap_mw)
        )
    _limit(problems, "grid node", used["grid node"], dict(spec.grid_nodes))
    maxima = {t.name: t.max_mw for t in spec.technologies if t.max_mw is not None}
    _limit(problems, "technology", used["technology"], maxima, largest if germany else None)
    if spec.max_total_mw is not None:
        _limit(
            problems,
            "round",
            used["round"],
            {"total": spec.max_total_mw},
            largest if germany else None,
        )
    if result.rule == "optimiser" and result.status in ("OPTIMAL", "FEASIBLE"):
        for tech in spec.technologies:
            if used["technology"].get(tech.name, Decimal(0)) < tech.min_mw:
                problems.append(f"technology {tech.name!r}: minimum {tech.min_mw} MW not met")
    prices = unit_prices(spec, accepted)
    for bid, a in accepted:
        paid = price_paid(spec, bid, prices)
        if a.price_paid != paid:
            problems.append(
                f"{bid.bid_id}: paid {a.price_paid}, the {spec.pricing.rule} price is {paid}"
            )
        use = support_value(spec, paid) * a.awarded_annual_mwh
        if a.budget_used != use:
            problems.append(f"{bid.bid_id}: budget use {a.budget_used}, expected {use}")
    total_use = budget_of(spec, accepted)
    if spec.budget is not None and total_use > spec.budget.amount:
        problems.append(f"budget: {total_use} used, budget {spec.budget.amount}")
    if result.budget_used != total_use:
        problems.append(f"budget used reported {result.budget_used}, recomputed {total_use}")
    fenced = [(b, a) for b, a in accepted if a.stage == "ring_fence"]
    if fenced and spec.budget is not None:
        if any(not b.innovative for b, _ in fenced):
            problems.append("a non-innovative bid was awarded from the ring-fence")
        fence = spec.budget.amount * spec.innovation.ring_fence_share
        if budget_of(spec, fenced) > fence:
            problems.append(f"ring-fence: {budget_of(spec, fenced)} used, fence {fence}")
    objective = sum(
        (
            preference_weight(spec, bids, b, result.weight_scale) * a.awarded_annual_mwh
            for b, a in accepted
        ),
        Decimal(0),
    )
    if result.objective is not None and result.objective != objective:
        problems.append(f"objective reported {result.objective}, recomputed {objective}")
    return problems


def lot_key(round_id: str, bid_id: str) -> str:
    return hashlib.sha256(f"{round_id}:{bid_id}".encode()).hexdigest()
