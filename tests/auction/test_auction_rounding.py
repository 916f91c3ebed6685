"""Rounded scores never decide an award: the near tie worked by hand below.

A scores 0.7 × 30/30 = 0.7 exactly (it is the lowest price), B 0.7 × 30/31 = 0.677419…; only
one fits (solar at most 10 MW). Exactly: A 0.7 × 9,677,300 kWh = 6,774,110, B 0.7 × 30/31 ×
10,000,000 kWh = 6,774,193.5…: B wins. Counted in 1/10,000 (B's weight 6,774.19… rounded down
to 6,774), B would score 67,740,000,000 against A's 67,741,100,000, and A would win."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_auction_hand_cases import bid, make_round

import auction.instance as instance
from auction import clear, validate_result


def _near_tie() -> tuple:
    spec = make_round(
        technologies=[{"name": "solar", "max_mw": "10"}],
        innovation={"score_weight": "0.3"},
    )
    bids = [bid("A", "9677.300", "30.00"), bid("B", "10000.000", "31.00")]
    return spec, bids


def test_fine_scores_pick_the_exact_optimum_and_show_rounding_harmless() -> None:
    spec, bids = _near_tie()
    result = clear(spec, bids)
    assert [a.bid_id for a in result.accepted] == ["B"]
    assert result.status == "OPTIMAL" and validate_result(spec, bids, result) == []
    check = result.solver["certificates"][-1]["score_rounding"]
    assert check["proven"] and not check["changed"]


def test_coarse_scores_that_flip_the_tie_are_corrected_by_the_exact_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(instance, "MAX_SCORE_SCALE", instance.WEIGHT_SCALE)
    spec, bids = _near_tie()
    result = clear(spec, bids)
    assert result.weight_scale == 10_000
    assert [a.bid_id for a in result.accepted] == ["B"], result.notes
    assert result.status == "OPTIMAL"
    check = result.solver["certificates"][-1]["score_rounding"]
    assert check["proven"] and check["changed"] and check["awards_in_window"] == 2
    assert any("rounding the scores changed the optimum" in n for n in result.notes)
    assert result.energy_mwh == Decimal("10000.000")


def test_a_window_too_crowded_is_not_called_proven(monkeypatch: pytest.MonkeyPatch) -> None:
    import auction.rounding as rounding

    monkeypatch.setattr(instance, "MAX_SCORE_SCALE", instance.WEIGHT_SCALE)
    monkeypatch.setattr(rounding, "MAX_AWARDS", 1)
    spec, bids = _near_tie()
    result = clear(spec, bids)
    assert result.status == "FEASIBLE" and not result.proven_optimal
    assert any("rounding the scores" in n for n in result.notes)
