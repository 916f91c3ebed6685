"""The round analysis is computed once at clearing and stored: checked against the stored
awards (summed here), the budget-curve volumes recomputed from bids.csv, the audit entry, the
optimiser's defining property, and a second computation from the bids in another order."""

from __future__ import annotations

import csv
import json
import random
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from api.actor import Actor, Conflict
from api.canonical import canonical_json, sha256_hex
from api.db import models as m
from api.services import round_analysis, rounds

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "georgia_2023"
OPERATOR = Actor("op-key", "operator")


def _clear_georgia(uow_factory) -> str:
    spec = tomllib.loads((SCENARIO / "round.toml").read_text())
    round_id = spec["round_id"]
    with uow_factory() as uow:
        rounds.create_round(uow, OPERATOR, spec)
    with uow_factory() as uow:
        rounds.open_round(uow, OPERATOR, round_id)
    with (SCENARIO / "bids.csv").open(newline="") as fh:
        for bid in csv.DictReader(fh):
            fields = {k: v for k, v in bid.items() if v != "" and k != "bidder"}
            with uow_factory() as uow:
                rounds.submit_bid(
                    uow, Actor(f"k-{bid['bidder']}", "producer", bid["bidder"]), round_id, fields
                )
    for step in (rounds.close_round, rounds.clear_round):
        with uow_factory() as uow:
            step(uow, OPERATOR, round_id)
    return round_id


@pytest.fixture
def georgia(uow_factory):
    """Cleared on both databases (PostgreSQL and SQLite store numbers differently)."""
    return _clear_georgia(uow_factory)


@pytest.fixture(scope="module")
def cleared(tmp_path_factory):
    """One Georgia round cleared on SQLite, shared by the tests that only read it."""
    from api.db.engine import make_engine, upgrade
    from api.uow import UnitOfWork

    url = f"sqlite:///{tmp_path_factory.mktemp('analysis') / 'georgia.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    factory = lambda: UnitOfWork.for_engine(engine)  # noqa: E731
    round_id = _clear_georgia(factory)
    yield factory, round_id
    engine.dispose()


def _d(text: str | None) -> Decimal:
    return Decimal(text or 0)


def test_stored_optimiser_row_is_the_clearing_and_sums_the_stored_awards(georgia, uow_factory):
    with uow_factory() as uow:
        stored = rounds.stored_analysis(uow, georgia)
        awards = [a for a in uow.rounds.awards(georgia) if a.accepted]
    assert stored is not None
    analysis = stored.analysis
    assert [r["method"] for r in analysis["comparison"]] == [
        "optimiser",
        "germany",
        "uk_skip",
        "stop_at_breach",
    ]
    opt = analysis["comparison"][0]
    energy = sum((a.awarded_annual_mwh for a in awards), Decimal(0))
    assert _d(opt["energy_mwh"]) == energy
    assert _d(opt["capacity_mw"]) == sum((a.awarded_capacity_mw for a in awards), Decimal(0))
    assert _d(opt["budget_used"]) == sum((a.budget_used for a in awards), Decimal(0))
    assert opt["accepted"] == sorted(f"{a.bidder}/{a.bid_id}" for a in awards) and opt[
        "accepted_bids"
    ] == len(awards)
    paid = sum((a.price_paid * a.awarded_annual_mwh for a in awards), Decimal(0))
    assert _d(opt["average_price"]) == (paid / energy).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert opt["proven_optimal"] is True


def test_optimiser_buys_at_least_what_each_rule_buys_at_the_same_budget(cleared):
    uow_factory, georgia = cleared
    with uow_factory() as uow:
        analysis = rounds.stored_analysis(uow, georgia).analysis
    opt, *rules = analysis["comparison"]
    budget = _d(analysis["budget"])
    for row in rules:
        assert _d(opt["energy_mwh"]) >= _d(row["energy_mwh"]), row["method"]
        assert _d(row["budget_used"]) <= budget
    # Every curve point: the optimiser maximises preference-weighted energy among awards that
    # respect every limit, so it is never below a rule's award that does too.
    points = {}
    for p in analysis["curve"]:
        points.setdefault(p["budget"], {})[p["method"]] = p
    assert len(points) == 6
    for budget_text, by_method in points.items():
        assert _d(by_method["optimiser"]["budget_used"]) <= _d(budget_text)
        assert by_method["optimiser"]["proven_optimal"] is True
        for method in ("germany", "uk_skip", "stop_at_breach"):
            if not by_method[method]["over_volume"]:
                assert _d(by_method["optimiser"]["objective"]) >= _d(
                    by_method[method]["objective"]
                ), (budget_text, method)


def test_curve_budgets_are_the_published_shares_and_volumes_are_checked(cleared):
    uow_factory, georgia = cleared
    with uow_factory() as uow:
        analysis = rounds.stored_analysis(uow, georgia).analysis
    shares = ["0.25", "0.5", "0.75", "1", "1.25", "1.5"]
    assert analysis["curve_shares"] == shares
    assert sorted({_d(p["budget"]) for p in analysis["curve"]}) == [
        Decimal("45000000") * Decimal(s) for s in shares
    ]
    # The at-budget curve rows are the comparison rows (one clearing, not two).
    at_budget = [p for p in analysis["curve"] if p["share"] == "1"]
    for point, row in zip(at_budget, analysis["comparison"], strict=True):
        assert {k: v for k, v in point.items() if k not in ("share", "budget")} == {
            k: v for k, v in row.items() if k != "accepted"
        }
    # The over_volume flags, recomputed from each method's awards and the technology limits.
    from auction import clear, load_round, read_bids

    spec = load_round(SCENARIO / "round.toml")
    bids = read_bids(SCENARIO / "bids.csv", spec)
    limits = {t.name: t.max_mw for t in spec.technologies}
    for row in analysis["comparison"]:
        result = clear(spec, bids, None if row["method"] == "optimiser" else row["method"])
        by_tech: dict[str, Decimal] = {}
        for award in result.awards:
            if award.accepted:
                by_tech[award.technology] = (
                    by_tech.get(award.technology, Decimal(0)) + award.awarded_capacity_mw
                )
        over = sorted(t for t, mw in by_tech.items() if mw > limits[t])
        assert sorted(text.split(":")[0] for text in row["over_volume"]) == over, row["method"]
        assert row["method"] == "germany" or over == []


def test_the_clearing_audit_entry_carries_the_analysis_hash(cleared):
    uow_factory, georgia = cleared
    with uow_factory() as uow:
        stored = rounds.stored_analysis(uow, georgia)
        entries = [e for e in uow.audit.list(limit=10_000) if e.action == "round.clear"]
    (entry,) = entries
    recomputed = sha256_hex(
        json.dumps(stored.analysis, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    )
    assert json.loads(entry.details)["analysis_sha256"] == stored.sha256 == recomputed


def test_clearing_again_is_refused_and_leaves_the_analysis_as_it_was(cleared):
    uow_factory, georgia = cleared
    with uow_factory() as uow:
        before = rounds.stored_analysis(uow, georgia)
        sha, at = before.sha256, before.computed_at
    with pytest.raises(Conflict, match="cannot clear"), uow_factory() as uow:
        rounds.clear_round(uow, OPERATOR, georgia)
    with pytest.raises(Conflict, match="already has its analysis"), uow_factory() as uow:
        rounds.analyse_round(uow, OPERATOR, georgia)
    with uow_factory() as uow:
        after = rounds.stored_analysis(uow, georgia)
        assert (after.sha256, after.computed_at) == (sha, at)
        assert uow.session.query(m.RoundAnalysis).count() == 1


def test_same_inputs_give_the_same_analysis(cleared):
    uow_factory, georgia = cleared
    """Recomputed without reusing the clearing, from the bids in another order, with the
    optimiser at the round's budget solved again under the analysis's shorter time limit."""
    from auction import parse_round

    with uow_factory() as uow:
        row = rounds.get_round(uow, georgia)
        stored = rounds.stored_analysis(uow, georgia)
        bids = [rounds._domain_bid(b.payload) for b in uow.bids.for_round(georgia)]
        spec = parse_round(row.spec, source="round")
    random.Random(5).shuffle(bids)
    again = round_analysis.analyse(spec, bids)
    assert canonical_json(again) == canonical_json(stored.analysis)
    assert round_analysis.analysis_sha256(again) == stored.sha256


def test_a_round_cleared_before_analyses_were_stored_gets_one_on_request(cleared):
    uow_factory, georgia = cleared
    with uow_factory() as uow:
        stored = rounds.stored_analysis(uow, georgia)
        kept = stored.analysis
        uow.session.delete(stored)
        uow.commit()
    with uow_factory() as uow:
        made = rounds.analyse_round(uow, OPERATOR, georgia)
        assert made.analysis == kept
    with uow_factory() as uow:
        (entry,) = [e for e in uow.audit.list(limit=10_000) if e.action == "round.analyse"]
        assert json.loads(entry.details)["analysis_sha256"] == made.sha256


def test_analysis_time_limit_is_a_share_of_the_rounds(cleared):
    uow_factory, georgia = cleared
    with uow_factory() as uow:
        analysis = rounds.stored_analysis(uow, georgia).analysis
    # Georgia: 20 s for the round, shared by the six points of the curve (to the millisecond,
    # rounded down, so six solves never exceed it).
    assert analysis["round_time_limit_s"] == "20"
    assert analysis["solve_time_limit_s"] == "3.333"
