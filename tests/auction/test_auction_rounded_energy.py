"""Energy is rounded down to the kWh: rounds where that decides, worked by hand.

A partial bid of 3 kW and 2,000 kWh awarded 1 kW yields ⌊2,000 × 1 / 3⌋ = 666 kWh, less than the
pro-rata 666.67 an LP counts, so the LP overstates what 1 kW uses. The price search must not
take that for infeasibility, under any pricing rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auction_cases import brute_force

from auction import clear, parse_round, read_bids_text, validate_result

RULES = ["pay_as_bid", "pay_as_clear", "median"]


def _round(rule: str, bids_csv: str, **options: object) -> tuple:
    data: dict[str, object] = {
        "round_id": "E",
        "name": "rounded energy",
        "currency": "USD",
        "technologies": [{"name": "solar", "min_mw": "0.001"}],
        "pricing": {"rule": rule},
        "budget": {"amount": "33.31", "years": 1},
    }
    data.update(options)
    spec = parse_round(data)
    return spec, read_bids_text(bids_csv, "bids.csv", spec)


@pytest.mark.parametrize("rule", RULES)
def test_one_kw_of_a_partial_bid_fits_the_budget_only_rounded_down(rule: str) -> None:
    """b00 at 1 kW: 666 kWh × 1.5 (innovative) = 999 weighted kWh for 50.00 × 0.666 = 33.30
    ≤ 33.31; b01 alone buys 700 kWh (weighted 700). b00 wins."""
    spec, bids = _round(
        rule,
        "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative,min_capacity_mw\n"
        "b00,B0,solar,0.003,2.000,50.00,true,0.001\n"
        "b01,B1,solar,0.001,0.700,30.00,false,\n",
        innovation={"bonus": "0.5"},
    )
    result = clear(spec, bids)
    assert result.status == "OPTIMAL" and validate_result(spec, bids, result) == []
    assert [(a.bid_id, a.awarded_capacity_mw) for a in result.accepted] == [
        ("b00", Decimal("0.001"))
    ]
    assert result.budget_used == Decimal("33.30")
    assert spec.budget is not None
    assert brute_force(spec, bids, spec.budget.amount) == (999, Decimal("33.30000"))


@pytest.mark.parametrize("rule", RULES)
def test_a_bid_whose_every_award_rounds_to_no_energy_is_left_out_and_said_so(rule: str) -> None:
    """1 kW of 3 kW and 2 kWh yields ⌊2 / 3⌋ = 0 kWh; the node takes only 1 kW."""
    spec, bids = _round(
        rule,
        "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative,grid_node,"
        "min_capacity_mw\nb00,B0,solar,0.003,0.002,40.00,false,N1,0.001\n",
        grid_nodes={"N1": "0.001"},
        technologies=[{"name": "solar"}],
    )
    result = clear(spec, bids)
    assert result.status == "OPTIMAL" and result.accepted == []
    (award,) = result.awards
    assert award.reason == "not_selected" and "adds no energy" in award.explanation


def test_highs_presolve_that_ends_below_a_feasible_start_is_asked_again() -> None:
    """At prices (solar 31.19, wind 61.30) HiGHS's presolve reduced this stage to nothing and
    called 342,280,000 optimal, below CP-SAT's exactly feasible 372,150,000; without presolve
    it confirms CP-SAT. The round is then certified, and equals the enumeration."""
    spec = parse_round(
        {
            "round_id": "R639",
            "name": "random",
            "currency": "USD",
            "time_limit_s": "20",
            "technologies": [
                {"name": "solar", "ceiling_price": "60.35", "max_mw": "0.010", "min_mw": "0.002"},
                {"name": "wind", "min_mw": "0.001"},
            ],
            "pricing": {"rule": "pay_as_clear"},
            "budget": {"amount": "5668.88", "years": 3, "discount_rate": "0.05"},
            "bidder_cap_mw": "0.009",
        }
    )
    bids = read_bids_text(
        "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative,grid_node,"
        "alternative_group,min_capacity_mw\n"
        "b00,B1,solar,0.001,5.162,67.43,false,,,\n"
        "b01,B1,wind,0.003,3.201,30.57,false,,,\n"
        "b02,B0,wind,0.002,10.070,61.30,false,N2,,\n"
        "b03,B1,solar,0.004,10.892,30.57,false,,,0.003\n"
        "b04,B0,wind,0.005,18.976,51.73,true,,g-B0-0,\n"
        "b05,B0,solar,0.002,4.558,60.35,false,N1,,\n"
        "b06,B0,solar,0.001,3.882,31.19,false,N2,g-B0-1,\n",
        "bids.csv",
        spec,
    )
    result = clear(spec, bids)
    assert result.status == "OPTIMAL", result.notes
    assert spec.budget is not None
    best = brute_force(spec, bids, spec.budget.amount)
    assert result.objective is not None
    assert (result.objective * 1000, result.budget_used) == best


@pytest.mark.parametrize("rule", RULES)
def test_kw_that_round_to_the_same_energy_are_one_award_in_the_score_window(rule: str) -> None:
    """b01 yields ⌊1 × kW / 2,000⌋ = 0 kWh at every kW from 632 to 1,500: as many awards as kW,
    all alike in energy, use and lot. The score-rounding window counts them once."""
    spec = parse_round(
        {
            "round_id": "E",
            "name": "e",
            "currency": "EUR",
            "time_limit_s": "10",
            "technologies": [{"name": "solar"}],
            "pricing": {"rule": rule},
            "innovation": {"score_weight": "0.1"},
            "bidder_cap_mw": "1.5",
        }
    )
    bids = read_bids_text(
        "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative,min_capacity_mw\n"
        "b00,B0,solar,1,1334,76.62,true,\n"
        "b01,B1,solar,2,0.001,46.01,false,0.632\n",
        "bids.csv",
        spec,
    )
    result = clear(spec, bids)
    assert result.status == "OPTIMAL", result.notes
    assert validate_result(spec, bids, result) == []
    assert result.energy_mwh == Decimal("1334.000")


@pytest.mark.parametrize("rule", RULES)
def test_bids_of_no_energy_given_directly_are_left_out(rule: str) -> None:
    """The CSV reader refuses zero energy; a Bid built in code may still carry it."""
    from auction import Bid

    spec = parse_round(
        {
            "round_id": "Z",
            "name": "z",
            "currency": "EUR",
            "time_limit_s": "10",
            "technologies": [{"name": "solar"}],
            "pricing": {"rule": rule},
            "budget": {"amount": "100", "reference_price": "30", "years": 1},
        }
    )
    bid = Bid(
        bid_id="b1",
        bidder="A",
        technology="solar",
        capacity_mw=Decimal(1),
        annual_mwh=Decimal(0),
        price=Decimal(50),
        innovative=False,
    )
    result = clear(spec, [bid])
    assert result.status == "OPTIMAL" and result.accepted == []


def test_a_round_the_ring_fence_leaves_infeasible_says_so() -> None:
    """The fence (30 % of the budget, innovative bids) takes b00 and b02: 5 of bidder B0's 6 kW,
    leaving 1 kW for the 3 kW wind minimum. The note names the fence's awards."""
    spec = parse_round(
        {
            "round_id": "R453",
            "name": "x",
            "currency": "USD",
            "time_limit_s": "20",
            "technologies": [
                {"name": "solar", "ceiling_price": "59", "min_mw": "0.001"},
                {"name": "wind", "min_mw": "0.003"},
            ],
            "pricing": {"rule": "median"},
            "budget": {"amount": "1020.77", "reference_price": "26", "years": 1},
            "innovation": {"ring_fence_share": "0.3"},
            "bidder_cap_mw": "0.006",
        }
    )
    bids = read_bids_text(
        "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative,grid_node,"
        "alternative_group\n"
        "b00,B0,solar,0.003,4.5,48.57,true,,\n"
        "b01,B0,wind,0.001,2.972,55.92,false,N1,g-B0-1\n"
        "b02,B0,solar,0.002,6,32.04,true,,\n"
        "b03,B0,wind,0.006,9,41.00,false,,\n"
        "b04,B0,wind,0.002,3,73.00,true,N1,\n"
        "b05,B0,solar,0.006,20.495,59.00,false,,\n"
        "b06,B0,wind,0.005,7.5,59.00,true,N1,\n",
        "bids.csv",
        spec,
    )
    result = clear(spec, bids)
    assert result.status == "INFEASIBLE"
    assert any("ring-fence stage's awards (b00, b02)" in note for note in result.notes)
    assert all("b00, b02" in a.explanation for a in result.awards if a.reason == "infeasible")
