"""Small rounds worked by hand, one per option and rule; the arithmetic is in each docstring."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import pytest

from auction import Bid, ClearingResult, clear, parse_round, validate_result


def make_round(**options: Any) -> Any:
    data: dict[str, Any] = {
        "round_id": "H",
        "name": "hand-worked",
        "currency": "USD",
        "time_limit_s": "10",
        "technologies": [{"name": "solar"}, {"name": "wind"}],
    }
    data.update(options)
    return parse_round(data)


def bid(
    bid_id: str,
    mwh: str,
    price: str,
    cap: str = "10",
    tech: str = "solar",
    bidder: str | None = None,
    **extra: Any,
) -> Bid:
    return Bid(
        bid_id=bid_id,
        bidder=bidder or f"owner-{bid_id}",
        technology=tech,
        capacity_mw=Decimal(cap),
        annual_mwh=Decimal(mwh),
        price=Decimal(price),
        innovative=extra.pop("innovative", False),
        **extra,
    )


def run(spec: Any, bids: list[Bid], rule: str | None = None) -> ClearingResult:
    result = clear(spec, bids, rule)
    assert validate_result(spec, bids, result) == []
    if rule is None:
        assert result.proven_optimal and result.status == "OPTIMAL"
    return result


def winners(result: ClearingResult) -> set[str]:
    return {a.bid_id for a in result.accepted}


def reason(result: ClearingResult, bid_id: str) -> str:
    return next(a.reason for a in result.awards if a.bid_id == bid_id)


PLAIN_BUDGET = {"reference_price": "0", "years": 1}  # budget use = price × annual MWh


def test_valuation_discounted_over_years() -> None:
    """(50 − 40) × (1/1.1 + 1/1.21 + 1/1.331) = 24.8685… → 24.87 per MWh; × 1000 MWh."""
    spec = make_round(
        budget={"amount": "1000000", "reference_price": "40", "years": 3, "discount_rate": "0.10"}
    )
    result = run(spec, [bid("A", "1000", "50.00")])
    assert result.budget_used == Decimal("24870.00")


@pytest.mark.parametrize(("below", "expected"), [("zero", "2000.00"), ("negative", "-1000.00")])
def test_valuation_price_path_below_reference(below: str, expected: str) -> None:
    """Path 40, 45; price 42: year 1 +2, year 2 −3 (counted as 0 or −3); × 1000 MWh."""
    spec = make_round(
        budget={
            "amount": "1000000",
            "reference_prices": ["40", "45"],
            "years": 2,
            "below_reference": below,
        }
    )
    assert run(spec, [bid("A", "1000", "42.00")]).budget_used == Decimal(expected)


def test_budget_optimiser_beats_merit_order() -> None:
    """A 1000 MWh @50 (50k), B 1500 @51 (76.5k), C 1400 @52 (72.8k); budget 150k.
    Merit order takes A, B (126.5k); C would breach. Best: B + C = 149.3k, 2900 MWh."""
    spec = make_round(budget={"amount": "150000", **PLAIN_BUDGET})
    bids = [bid("A", "1000", "50.00"), bid("B", "1500", "51.00"), bid("C", "1400", "52.00")]
    best = run(spec, bids)
    assert winners(best) == {"B", "C"} and best.energy_mwh == 2900
    assert best.budget_used == Decimal("149300.00")
    assert reason(best, "A") == "budget"
    for rule in ("germany", "uk_skip", "stop_at_breach"):
        merit = run(spec, bids, rule)
        assert winners(merit) == {"A", "B"}
        assert reason(merit, "C") == "budget"


def test_uk_skip_tries_later_bids_but_stop_at_breach_does_not() -> None:
    """Budget 100k: A @50×1000 (50k); B @51×1500 (76.5k) breaches; C @52×900 (46.8k) fits."""
    spec = make_round(budget={"amount": "100000", **PLAIN_BUDGET})
    bids = [bid("A", "1000", "50.00"), bid("B", "1500", "51.00"), bid("C", "900", "52.00")]
    assert winners(run(spec, bids, "uk_skip")) == {"A", "C"}
    stopped = run(spec, bids, "stop_at_breach")
    assert winners(stopped) == {"A"}
    assert reason(stopped, "C") == "not_reached"


def test_partial_award_down_to_minimum() -> None:
    """10 MW, 10000 MWh @50, min 4 MW. Budget 300k buys 6000 MWh → 6 MW. Budget 150k buys
    3000 MWh → 3 MW, below the 4 MW minimum → rejected."""
    bids = [bid("P", "10000", "50.00", min_capacity_mw=Decimal("4"))]
    result = run(make_round(budget={"amount": "300000", **PLAIN_BUDGET}), bids)
    award = result.accepted[0]
    assert (award.awarded_capacity_mw, award.awarded_annual_mwh) == (Decimal("6"), Decimal("6000"))
    assert (
        reason(run(make_round(budget={"amount": "150000", **PLAIN_BUDGET}), bids), "P") == "budget"
    )


def test_volume_limit_germany_overshoots_uk_skips() -> None:
    """Solar max 15 MW; S1 10 MW 20000 MWh @50, S2 10 MW 15000 MWh @45 (all-or-nothing)."""
    spec = make_round(technologies=[{"name": "solar", "max_mw": "15"}])
    bids = [bid("S1", "20000", "50.00"), bid("S2", "15000", "45.00")]
    best = run(spec, bids)
    assert winners(best) == {"S1"} and reason(best, "S2") == "target_met"
    assert winners(run(spec, bids, "germany")) == {"S1", "S2"}  # marginal bid in full: 20 MW
    uk = run(spec, bids, "uk_skip")
    assert winners(uk) == {"S2"} and reason(uk, "S1") == "target_met"


def test_technology_minimum_and_infeasible_minimum() -> None:
    """Budget 1.6M; S1 solar 30000 MWh @50 (1.5M); W1 wind 10000 @80 (0.8M). A 5 MW wind
    minimum forces W1, after which S1 no longer fits. A 20 MW minimum cannot be met."""
    budget = {"amount": "1600000", **PLAIN_BUDGET}
    bids = [bid("S1", "30000", "50.00"), bid("W1", "10000", "80.00", cap="5", tech="wind")]
    assert winners(run(make_round(budget=budget), bids)) == {"S1"}
    techs = [{"name": "solar"}, {"name": "wind", "min_mw": "5"}]
    assert winners(run(make_round(budget=budget, technologies=techs), bids)) == {"W1"}
    techs[1]["min_mw"] = "20"
    spec = make_round(budget=budget, technologies=techs)
    result = clear(spec, bids)
    assert result.status == "INFEASIBLE" and not result.proven_optimal
    assert {a.reason for a in result.awards} == {"infeasible"}


def test_ceiling_price_is_inclusive() -> None:
    spec = make_round(technologies=[{"name": "solar", "ceiling_price": "55.00"}])
    result = run(spec, [bid("at", "1000", "55.00"), bid("above", "1000", "55.01")])
    assert winners(result) == {"at"} and reason(result, "above") == "above_ceiling"


def test_pay_as_clear_group_price_capped_by_ceiling() -> None:
    """Pot {solar, wind}; S1 solar @50, W1 wind @60, 1000 MWh each; solar ceiling 55.
    Clearing price 60: solar paid min(60, 55) = 55, wind 60: 115k. A 110k budget fits both
    under pay-as-bid (110k) but only one under pay-as-clear: the cheaper S1 (equal energy)."""
    techs = [{"name": "solar", "ceiling_price": "55"}, {"name": "wind", "ceiling_price": "70"}]
    bids = [bid("S1", "1000", "50.00"), bid("W1", "1000", "60.00", tech="wind")]
    clearing = {"rule": "pay_as_clear", "groups": {"pot": ["solar", "wind"]}}
    free = run(make_round(technologies=techs, pricing=clearing), bids)
    assert {a.bid_id: a.price_paid for a in free.accepted} == {
        "S1": Decimal("55.00"),
        "W1": Decimal("60.00"),
    }
    assert free.budget_used == Decimal("115000.00")
    budget = {"amount": "110000", **PLAIN_BUDGET}
    assert winners(run(make_round(technologies=techs, budget=budget), bids)) == {"S1", "W1"}
    tight = run(make_round(technologies=techs, budget=budget, pricing=clearing), bids)
    assert winners(tight) == {"S1"} and tight.budget_used == Decimal("50000.00")


def test_median_pricing_pays_the_lower_median() -> None:
    """Solar bids @50, 52, 58, 60 (1000 MWh each): lower median 52, paid to all: 208k."""
    bids = [bid(f"S{p}", "1000", f"{p}.00") for p in (50, 52, 58, 60)]
    spec = make_round(pricing={"rule": "median"}, budget={"amount": "208000", **PLAIN_BUDGET})
    result = run(spec, bids)
    assert len(result.accepted) == 4
    assert {a.price_paid for a in result.accepted} == {Decimal("52.00")}
    assert result.budget_used == Decimal("208000.00")


def test_innovation_bonus_changes_the_winner() -> None:
    """Solar max 10 MW. N 20000 MWh @50; I innovative 19000 MWh @52. Bonus 0.10 weighs I's
    energy 20900 > 20000; merit order ranks I at 52 / 1.1 = 47.27 < 50."""
    techs = [{"name": "solar", "max_mw": "10"}]
    bids = [bid("N", "20000", "50.00"), bid("I", "19000", "52.00", innovative=True)]
    assert winners(run(make_round(technologies=techs), bids)) == {"N"}
    with_bonus = make_round(technologies=techs, innovation={"bonus": "0.10"})
    result = run(with_bonus, bids)
    assert winners(result) == {"I"} and result.objective == Decimal("20900")
    assert winners(run(with_bonus, bids, "uk_skip")) == {"I"}


@pytest.mark.parametrize(("weight", "winner"), [("0.3", "I"), ("0.1", "N")])
def test_weighted_score(weight: str, winner: str) -> None:
    """Solar max 10 MW; N @50, I innovative @60, 1000 MWh each; lowest price 50.
    w=0.3: N 0.7, I 0.7·50/60 + 0.3 = 0.8833 → I.  w=0.1: N 0.9, I 0.75 + 0.1 = 0.85 → N."""
    spec = make_round(
        technologies=[{"name": "solar", "max_mw": "10"}], innovation={"score_weight": weight}
    )
    bids = [bid("N", "1000", "50.00"), bid("I", "1000", "60.00", innovative=True)]
    assert winners(run(spec, bids)) == {winner}
    assert winners(run(spec, bids, "uk_skip")) == {winner}


def test_ring_fence_first_and_rolls_back() -> None:
    """Budget 100k, fence 30 %: I innovative 600 MWh @50 (30k) is cleared first from the
    fence; N 2000 MWh @50 (100k) no longer fits. Without innovative bids N gets it all."""
    spec = make_round(
        budget={"amount": "100000", **PLAIN_BUDGET}, innovation={"ring_fence_share": "0.3"}
    )
    fenced = run(spec, [bid("I", "600", "50.00", innovative=True), bid("N", "2000", "50.00")])
    assert winners(fenced) == {"I"} and fenced.accepted[0].stage == "ring_fence"
    assert winners(
        run(
            make_round(budget={"amount": "100000", **PLAIN_BUDGET}),
            [bid("I", "600", "50.00", innovative=True), bid("N", "2000", "50.00")],
        )
    ) == {"N"}
    assert winners(run(spec, [bid("N", "2000", "50.00")])) == {"N"}  # unused fence rolls back


def test_grid_node_bidder_cap_and_alternatives() -> None:
    """Node X takes 12 MW; bidder Q may win 12 MW; A1/A2 are alternatives of one project."""
    spec = make_round(grid_nodes={"X": "12"}, bidder_cap_mw="12")
    bids = [
        bid("X1", "20000", "50.00", grid_node="X"),
        bid("X2", "19000", "49.00", grid_node="X"),
        bid("Q1", "20000", "50.00", bidder="Q"),
        bid("Q2", "19000", "49.00", bidder="Q"),
        bid("A1", "20000", "50.00", bidder="R", alternative_group="g"),
        bid("A2", "15000", "48.00", cap="7", bidder="R", alternative_group="g"),
    ]
    result = run(spec, bids)
    assert winners(result) == {"X1", "Q1", "A1"}
    assert [reason(result, b) for b in ("X2", "Q2", "A2")] == [
        "grid_node_full",
        "bidder_cap",
        "alternative_chosen",
    ]


def test_small_plant_round_and_inadmissible_energy_claim() -> None:
    """Threshold 5 MW admits only plants below it; a 0.25 capacity-factor limit rejects a
    10 MW bid claiming 30000 MWh (0.342)."""
    spec = make_round(
        small_plant_threshold_mw="5",
        technologies=[{"name": "solar", "max_capacity_factor": "0.25"}],
    )
    bids = [
        bid("small", "8000", "50.00", cap="4.999"),
        bid("five", "8000", "50.00", cap="5"),
        bid("claim", "30000", "50.00", cap="4"),
    ]
    result = run(spec, bids)
    assert winners(result) == {"small"}
    assert reason(result, "five") == "not_small_plant" and reason(result, "claim") == "inadmissible"


def test_tie_break_by_published_lot() -> None:
    """Two identical bids, room for one: the lower sha256('H:bid_id') wins."""
    spec = make_round(technologies=[{"name": "solar", "max_mw": "10"}])
    bids = [bid("X", "1000", "50.00"), bid("Y", "1000", "50.00")]
    lots = {b: hashlib.sha256(f"H:{b}".encode()).hexdigest() for b in ("X", "Y")}
    expected = min(lots, key=lots.__getitem__)
    assert winners(run(spec, bids)) == {expected}
    assert winners(run(spec, bids, "uk_skip")) == {expected}
    assert "sha256" in run(spec, bids).summary()["tie_break"]


def test_round_total_and_below_minimum() -> None:
    """Round total 15 MW: solar S 10 MW 20000 MWh, wind W 10 MW 25000 MWh → W alone (more
    energy); S is `target_met`. Then P (partial, min 6 MW) finds 5 MW of room: `below_minimum`."""
    spec = make_round(max_total_mw="15")
    bids = [bid("S", "20000", "50.00"), bid("W", "25000", "50.00", tech="wind")]
    result = run(spec, bids)
    assert winners(result) == {"W"} and reason(result, "S") == "target_met"
    with_partial = [*bids[1:], bid("P", "10", "50.00", min_capacity_mw=Decimal("6"))]
    result = run(make_round(max_total_mw="15"), with_partial)
    assert winners(result) == {"W"} and reason(result, "P") == "below_minimum"
