"""Pay-as-clear and median by branch and bound over clearing prices (`auction/uniform.py`).

Checked against a different formulation: the whole model (`model.py`, one Boolean per candidate
clearing price: pay-as-clear with the energy split by price, median with its count rows), which
CP-SAT proves on rounds of a few dozen bids. Both must reach the same weighted energy, budget
use and lot sum. The
brute force (test_auction_bruteforce.py) covers small rounds of every rule the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

import auction.uniform as uniform
from auction import clear, load_round, read_bids, validate_result
from auction.certify import StageProblem, exact_value
from auction.instance import build_instance
from auction.model import AuctionModel
from auction.round import RoundSpec
from auction.solve import WorkBudget, solve_lexicographic
from scenarios.generate_round import write_round


def _round(
    tmp_path: Path, size: int, seed: int, ring_fence: bool = False, pricing: str = "pay_as_clear"
) -> tuple:
    round_path, bids_path = write_round(tmp_path, size, seed, pricing, ring_fence)
    spec: RoundSpec = load_round(round_path)
    if pricing == "pay_as_clear":
        grouped = spec.pricing.model_copy(update={"groups": {"pot": ["solar", "wind"]}})
        spec = spec.model_copy(update={"pricing": grouped})
    return spec, read_bids(bids_path, spec)


@pytest.mark.parametrize("pricing", ["pay_as_clear", "median"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_price_search_equals_the_whole_model(tmp_path: Path, seed: int, pricing: str) -> None:
    spec, bids = _round(tmp_path, 36, seed, pricing=pricing)
    result = clear(spec, bids)
    assert validate_result(spec, bids, result) == []
    assert result.status == "OPTIMAL" and result.solver["certified_by"] == ["cp-sat", "highs"]
    inst = build_instance(spec, bids)
    whole = AuctionModel(inst, inst.admissible, {}, inst.budget_mc)
    report = solve_lexicographic(whole, WorkBudget(300))
    assert report.proven_optimal
    stage = StageProblem(inst, inst.admissible, {}, inst.budget_mc, True)
    awarded = {a.bid_id: int(a.awarded_capacity_mw * 1000) for a in result.accepted}
    problems, found = exact_value(stage, awarded)
    assert problems == []
    assert found == exact_value(stage, report.awarded_kw)[1]


def test_a_stopped_search_says_so_and_keeps_a_proven_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, bids = _round(tmp_path, 200, 7)
    proven = clear(spec, bids)
    assert proven.status == "OPTIMAL"
    monkeypatch.setattr(uniform, "BOXES_PER_WORK_UNIT", 0.05)  # three boxes at 60 units
    stopped = clear(spec, bids)
    assert stopped.status == "FEASIBLE" and not stopped.proven_optimal
    assert stopped.solver["certified_by"] == []
    assert any("stopped after" in note for note in stopped.notes)
    assert validate_result(spec, bids, stopped) == []
    assert stopped.objective is not None and stopped.bound is not None
    assert proven.objective is not None
    # The bound is a bound: never below the true optimum, and the award never above it.
    assert stopped.objective <= proven.objective <= stopped.bound


@pytest.mark.parametrize(("pricing", "size"), [("pay_as_clear", 120), ("median", 30)])
def test_ring_fenced_round_is_proven_in_both_stages(
    tmp_path: Path, pricing: str, size: int
) -> None:
    spec, bids = _round(tmp_path, size, 3, ring_fence=True, pricing=pricing)
    result = clear(spec, bids)
    assert validate_result(spec, bids, result) == []
    assert result.status == "OPTIMAL"
    stages = {c["stage"]: c["certified"] for c in result.solver["certificates"]}
    assert stages == {"ring_fence": True, "round": True}


@pytest.mark.parametrize("seed", [1, 2])
def test_array_bound_equals_the_block_bound_for_any_multipliers(tmp_path: Path, seed: int) -> None:
    """`PoolArrays.bound` (the price search's fast path) is `assemble(...).bound()`, exactly,
    for arbitrary multipliers, boxes and fixed awards (partial bids and alternatives too)."""
    import random

    import numpy as np

    from auction.reduction import Multipliers, assemble

    spec, bids = _round(tmp_path, 150, seed)
    inst = build_instance(spec, bids)
    rng = random.Random(seed)
    partial = [b for b in inst.admissible if b.min_kw < b.capacity_kw]
    fixed = {
        partial[0].bid_id: partial[0].min_kw,
        inst.admissible[3].bid_id: inst.admissible[3].capacity_kw,
    }
    stage = uniform.UniformStage(inst, inst.admissible, fixed, inst.budget_mc, True)
    assert stage.rows is not None and stage.arrays is not None
    root = stage.root()
    for _ in range(25):
        low = tuple(rng.randint(0, h) for h in root.high)
        box = uniform.Box(
            low, tuple(rng.randint(lo, h) for lo, h in zip(low, root.high, strict=True))
        )
        fixed_price = stage.fixed_price_stage(box)
        multipliers = Multipliers(
            rng.randint(0, 2**45), tuple(rng.choice([0, rng.randint(0, 2**60)]) for _ in stage.rows)
        )
        accept = {b.bid_id: rng.randint(-(2**50), 2**50) for b in stage.pool}  # count rows
        expected = assemble(
            fixed_price.inst,
            fixed_price.pool,
            fixed,
            inst.budget_mc,
            stage.rows,
            multipliers,
            accept,
        ).bound()
        ids = {b.bid_id for b in fixed_price.pool}
        eligible = np.array([b.bid_id in ids for b in stage.pool])
        by_id = {b.bid_id: fixed_price.inst.valuation(b.price_cents) for b in fixed_price.pool}
        valuation = np.array([by_id.get(b.bid_id, 0) for b in stage.pool], dtype=object)
        accept_y = np.array([accept[b.bid_id] for b in stage.pool], dtype=object)
        found = stage.arrays.bound(eligible, valuation, inst.budget_mc, multipliers, accept_y)
        assert found == expected


@pytest.mark.parametrize("seed", range(40))
def test_a_median_price_window_admits_exactly_the_awards_whose_median_is_in_it(seed: int) -> None:
    """A box of the search is tested whole: the median stage with each technology's price in
    a window [low, high] (and "no winner", when the box holds it). Enumerating every award,
    its exact value (`exact_value`) and its lower medians (computed here) gives the best
    weighted energy inside random windows; CP-SAT's model and HiGHS's must both find it."""
    import itertools
    import random
    from collections import defaultdict

    from auction_cases import random_case

    from auction.certify import certify_infeasible
    from auction.instance import PriceWindow

    rng = random.Random(seed)
    spec, bids = random_case(rng, 6, pricing="median")
    inst = build_instance(spec, bids)
    pool = inst.admissible
    prices = defaultdict(list)
    for b in pool:
        prices[b.technology].append(b.price_cents)
    for _ in range(4):
        windows = {}
        for tech, ps in sorted(prices.items()):
            low, high = sorted(rng.choice(ps) for _ in range(2))
            windows[tech] = PriceWindow(low, high, none=rng.random() < 0.5)
        stage = StageProblem(inst, pool, {}, inst.budget_mc, True, clearing=windows)
        plain = StageProblem(inst, pool, {}, inst.budget_mc, True)
        options = [[0, *range(b.min_kw, b.capacity_kw + 1)] for b in pool]
        best = None
        for sizes in itertools.product(*options):
            award = {b.bid_id: kw for b, kw in zip(pool, sizes, strict=True) if kw}
            problems, value = exact_value(plain, award)
            if problems:
                continue
            won = defaultdict(list)
            for b in pool:
                if award.get(b.bid_id):
                    won[b.technology].append(b.price_cents)
            inside = all(
                (not won[t] and w.none)
                or (won[t] and w.low <= sorted(won[t])[(len(won[t]) - 1) // 2] <= w.high)
                for t, w in windows.items()
            )
            if inside and (best is None or value[0] > best):
                best = value[0]
        model = AuctionModel(inst, pool, {}, inst.budget_mc, clearing=windows)
        report = solve_lexicographic(model, WorkBudget(60))
        if best is None:
            assert report.status == "INFEASIBLE"
            assert certify_infeasible(stage).certified
            continue
        assert report.proven_optimal and report.weighted_energy == best
        assert certify_infeasible(stage, best + 1).certified
        assert not certify_infeasible(stage, best).certified
