"""The exact reduction of pay-as-bid rounds and the tie-break levels built on it, against
enumeration of every award.

`lagrangian_bound` must bound every award's weighted energy, and a restriction at a target
must admit every award that reaches it (also under a lowered budget). The whole optimiser
must return the enumerated lexicographic optimum, lot order included, also when its first
target is deliberately too ambitious (so the widening steps run)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import pytest
from auction_cases import _options, evaluate, exact_weighted_kwh, random_case

from auction import Bid, RoundSpec, clear, validate_result
from auction.instance import build_instance
from auction.reduction import Multipliers, Restriction, assemble, lagrangian_bound, limit_rows
from auction.validate import lot_key

MILLI_CENTS = Decimal(100_000)


def awards(
    spec: RoundSpec, bids: list[Bid], fixed: dict[str, int] | None = None
) -> Iterator[tuple[dict[str, int], int, Decimal]]:
    """Every award meeting every limit except the budget: (kW by bid, weighted, budget use)."""
    fixed = fixed or {}
    choices = [[fixed[b.bid_id]] if b.bid_id in fixed else _options(spec, b) for b in bids]

    def walk(i: int, award: dict[str, int]) -> Iterator[tuple[dict[str, int], int, Decimal]]:
        if i == len(bids):
            got = evaluate(spec, bids, award)
            if got is not None:
                yield dict(award), got[0], got[1]
            return
        for kw in choices[i]:
            award[bids[i].bid_id] = kw
            yield from walk(i + 1, award)

    yield from walk(0, {})


def admits(restriction: Restriction, award: dict[str, int]) -> bool:
    won = {k for k, v in award.items() if v > 0}
    if won & restriction.excluded:
        return False
    if any(not won.intersection(block) for block in restriction.required):
        return False
    return all(
        low <= award[k] <= high for k, (low, high) in restriction.kw_range.items() if k in won
    )


def pay_as_bid_case(seed: int, n: int) -> tuple[RoundSpec, list[Bid]]:
    spec, bids = random_case(random.Random(seed), n, pricing="pay_as_bid")
    return spec, bids


@pytest.mark.parametrize("seed", range(40))
def test_bound_and_restrictions_keep_every_award_reaching_the_target(seed: int) -> None:
    spec, bids = pay_as_bid_case(seed, random.Random(seed).randint(1, 7))
    assert spec.budget is not None
    inst = build_instance(spec, bids)
    assert inst.budget_mc is not None
    relaxed = lagrangian_bound(inst, inst.admissible, {}, inst.budget_mc, True)
    within = [
        (award, w, use)
        for award, w, use in awards(spec, bids)
        if use * MILLI_CENTS <= inst.budget_mc
    ]
    if relaxed is None:  # no LP solution: no award at all, or only the empty one
        assert all(w == 0 for _, w, _ in within)
        return
    best = max((w for _, w, _ in within), default=-1)
    assert relaxed.bound() >= best
    rng = random.Random(seed + 7)
    targets = {best, max(best - 1, 0), rng.randint(0, max(relaxed.bound(), 1))}
    for target in targets:
        restriction = relaxed.restrict(target)
        kept = [a for a, w, _ in within if w >= target]
        assert all(admits(restriction, a) for a in kept), target
        assert restriction.empty is False or not kept
    # A lowered budget (as the least-cost level uses): awards within it are still admitted.
    for award, w, use in within:
        limit = int(use * MILLI_CENTS)
        restriction = relaxed.restrict(w, budget_mc=limit)
        assert admits(restriction, award)
        assert relaxed.bound(limit) >= w


@pytest.mark.parametrize("seed", range(40))
def test_two_restrictions_met_keep_every_award_reaching_the_target(seed: int) -> None:
    """`Restriction.meet` of the LP's reduction and one from random multipliers (any are
    valid): every award reaching the target is still admitted; a bid whose two kW ranges do
    not meet is excluded, never the whole round."""
    spec, bids = pay_as_bid_case(seed, random.Random(seed).randint(2, 7))
    inst = build_instance(spec, bids)
    assert inst.budget_mc is not None
    pool = sorted(inst.admissible, key=lambda b: b.bid_id)
    relaxed = lagrangian_bound(inst, pool, {}, inst.budget_mc, True)
    rows = limit_rows(inst, pool, True)
    if relaxed is None or rows is None:
        return
    rng = random.Random(seed + 11)
    within = [(a, w) for a, w, use in awards(spec, bids) if use * MILLI_CENTS <= inst.budget_mc]
    best = max((w for _, w in within), default=0)
    for _ in range(5):
        multipliers = Multipliers(
            rng.randint(0, 2**20), tuple(rng.choice([0, rng.randint(0, 2**40)]) for _ in rows)
        )
        other = assemble(inst, pool, {}, inst.budget_mc, rows, multipliers)
        for target in {best, max(best - rng.randint(0, 10**6), 0)}:
            both = relaxed.restrict(target).meet(other.restrict(target))
            kept = [a for a, w in within if w >= target]
            assert all(admits(both, a) for a in kept), target
            assert both.empty is False or not kept


def lexicographic_best(
    spec: RoundSpec, bids: list[Bid], fixed: dict[str, int]
) -> tuple[Fraction, Decimal, int] | None:
    """(weighted energy, budget use, lot sum) of the enumerated lexicographic optimum."""
    assert spec.budget is not None
    budget = spec.budget.amount
    admissible = sorted(
        (b for b in bids if _options(spec, b) != [0]),
        key=lambda b: lot_key(spec.round_id, b.bid_id),
    )
    position = {b.bid_id: i + 1 for i, b in enumerate(admissible)}
    best = None
    for award, w, use in awards(spec, bids, fixed):
        if use > budget:
            continue
        key = (-w, use, sum(position[k] for k, v in award.items() if v > 0))
        best = key if best is None or key < best else best
    return None if best is None else (-best[0], best[1], best[2])


def check_against_enumeration(spec: RoundSpec, bids: list[Bid]) -> list[dict[str, object]]:
    result = clear(spec, bids)
    assert validate_result(spec, bids, result) == []
    if result.status == "INFEASIBLE":
        assert lexicographic_best(spec, bids, {}) is None
        return []
    assert result.proven_optimal, result.summary()
    fixed = {
        a.bid_id: int(a.awarded_capacity_mw * 1000)
        for a in result.accepted
        if a.stage == "ring_fence"
    }
    best = lexicographic_best(spec, bids, fixed)
    assert best is not None
    inst = build_instance(spec, bids)
    awarded = {a.bid_id: int(a.awarded_capacity_mw * 1000) for a in result.accepted}
    weighted = exact_weighted_kwh(spec, bids, awarded)
    positions = {
        b.bid_id: i + 1 for i, b in enumerate(sorted(inst.admissible, key=lambda b: b.lot))
    }
    lot = sum(positions[a.bid_id] for a in result.accepted)
    assert (weighted, result.budget_used, lot) == best
    return list(result.solver["levels"])


@pytest.mark.parametrize("seed", range(2000, 2030))
def test_pay_as_bid_optimum_with_lot_equals_enumeration(seed: int) -> None:
    spec, bids = pay_as_bid_case(seed, random.Random(seed).randint(2, 8))
    check_against_enumeration(spec, bids)


def test_too_ambitious_first_target_still_finds_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the first target at the bound less the smallest block gap, most rounds need the
    widening steps (no award, or one short of the target); the answer must not change."""
    monkeypatch.setattr("auction.staged.FREE_BLOCKS", 1)
    widened = 0
    for seed in range(3000, 3025):
        spec, bids = pay_as_bid_case(seed, random.Random(seed).randint(4, 8))
        levels = check_against_enumeration(spec, bids)
        widened += sum(lv["level"] == "weighted_energy" for lv in levels) > 1
    assert widened >= 5


def test_least_cost_by_either_formulation_equals_enumeration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Work so small that the direct least-cost solve often stops short: the proof by
    maximising the energy under a lowered budget then decides, with the same answer."""
    monkeypatch.setattr("auction.staged.FIRST_WORK", 1e-12)
    by_energy = 0
    for seed in range(5000, 5025):
        spec, bids = pay_as_bid_case(seed, random.Random(seed).randint(4, 8))
        levels = check_against_enumeration(spec, bids)
        by_energy += any(lv["level"] == "cost_by_energy" for lv in levels)
    assert by_energy >= 5


@pytest.mark.parametrize("seed", range(4000, 4012))
@pytest.mark.parametrize("pricing", ["pay_as_clear", "median"])
def test_uniform_pricing_optimum_with_lot_equals_enumeration(seed: int, pricing: str) -> None:
    spec, bids = random_case(random.Random(seed), random.Random(seed).randint(2, 7), pricing)
    check_against_enumeration(spec, bids)


@pytest.mark.parametrize("seed", range(4100, 4112))
def test_pay_as_clear_without_the_energy_split_equals_enumeration(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The formulation for groups too large to split their energy by price (int64) gives
    the same optimum: forced here on small rounds."""
    monkeypatch.setattr("auction.model.INT_LIMIT", 0)
    spec, bids = random_case(random.Random(seed), random.Random(seed).randint(2, 7), "pay_as_clear")
    check_against_enumeration(spec, bids)


def _tied_round(round_id: str) -> tuple[RoundSpec, list[Bid]]:
    """X (2 MW) buys exactly what Y1 + Y2 (1 MW each) buy, for the same budget use; the
    budget fits one of the two; the dearer D bids can never win. Only the lot decides, over
    positions among all admissible bids (D included)."""
    from auction import parse_round

    def bid(bid_id: str, mw: str, mwh: str, price: str) -> Bid:
        return Bid(bid_id, f"o-{bid_id}", "solar", Decimal(mw), Decimal(mwh), Decimal(price), False)

    spec = parse_round(
        {
            "round_id": round_id,
            "name": "tie",
            "currency": "USD",
            "technologies": [{"name": "solar"}],
            "budget": {"amount": "100000", "reference_price": "0", "years": 1},
        }
    )
    bids = [bid("X", "2", "2000", "50"), bid("Y1", "1", "1000", "50"), bid("Y2", "1", "1000", "50")]
    bids += [bid(f"D{i}", "1", "1000", "90") for i in range(5)]
    return spec, bids


@pytest.mark.parametrize("round_id", [f"T{i}" for i in range(12)])
def test_lot_positions_count_every_admissible_bid(round_id: str) -> None:
    spec, bids = _tied_round(round_id)
    check_against_enumeration(spec, bids)


@pytest.mark.parametrize("split", [True, False])
def test_hints_give_every_price_variable_a_consistent_value(
    split: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An award's hint gives every variable of the uniform and median models a value, and
    with all of them fixed it is a solution (a large round starts from a complete award)."""
    from ortools.sat.python import cp_model

    from auction.model import AuctionModel

    if not split:
        monkeypatch.setattr("auction.model.INT_LIMIT", 0)
    checked = 0
    for seed in range(60):
        for pricing in ("pay_as_clear", "median"):
            spec, bids = random_case(
                random.Random(seed), random.Random(seed).randint(2, 8), pricing
            )
            result = clear(spec, bids)
            if spec.innovation.ring_fence_share or not result.accepted:
                continue
            awarded = {a.bid_id: int(a.awarded_capacity_mw * 1000) for a in result.accepted}
            inst = build_instance(spec, bids)
            am = AuctionModel(inst, inst.admissible, {}, inst.budget_mc)
            am.hint(awarded)
            hinted = set(am.model.proto.solution_hint.vars)
            assert hinted == set(range(len(am.model.proto.variables))), (seed, pricing)
            solver = cp_model.CpSolver()
            solver.parameters.fix_variables_to_their_hinted_value = True
            solver.parameters.num_workers = 1
            assert solver.solve(am.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE), (seed, pricing)
            checked += 1
    assert checked >= 40
