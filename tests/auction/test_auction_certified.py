"""An award published as optimal is optimal: the shapes of wrong certificates seen before.

BF-39: CP-SAT's inclusion presolve (OR-Tools 9.15, google/or-tools#5293) proved a wrong optimum
of this seven-bid round; the true optimum below is worked by hand and by enumeration."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from auction_cases import brute_force, exact_weighted_kwh
from ortools.sat.python import cp_model

import auction.clearing as clearing
from auction import Bid, clear, load_round, parse_round, read_bids, validate_result
from auction.certify import StageProblem, certify, exact_value
from auction.instance import build_instance
from auction.solve import SolverInconsistency, checked_status

DATA = Path(__file__).parent / "data"


def _bf39() -> tuple:
    spec = load_round(DATA / "bf39.toml")
    return spec, read_bids(DATA / "bf39.csv", spec)


def test_seven_bid_round_gets_its_true_optimum_certified_twice() -> None:
    spec, bids = _bf39()
    result = clear(spec, bids)
    assert validate_result(spec, bids, result) == []
    # By hand: B02 + B07 + B08 + B10 + B11 = 32,570.722 + 15,008.088 + 33,374.562
    # + 51,787.035 + 47,925.540 MWh; wind 7.5 + 11.7 = 19.2 MW ≤ 21.133 MW.
    assert sorted(a.bid_id for a in result.accepted) == ["B02", "B07", "B08", "B10", "B11"]
    assert result.energy_mwh == Decimal("180665.947")
    assert result.budget_used.quantize(Decimal("0.01")) == Decimal("5506427.29")
    assert result.proven_optimal and result.status == "OPTIMAL"
    assert result.solver["certified_by"] == ["cp-sat", "highs"]
    assert spec.budget is not None
    best = brute_force(spec, bids, spec.budget.amount)
    assert result.objective is not None
    assert result.objective * 1000 == best[0] and result.budget_used == best[1]


def test_certificate_refutes_the_award_once_published_as_optimal() -> None:
    spec, bids = _bf39()
    inst = build_instance(spec, bids)
    stage = StageProblem(inst, inst.admissible, {}, inst.budget_mc, True)
    wrong = {"B07": 4900, "B08": 12300, "B10": 15000, "B11": 11700, "B12": 4700}
    problems, value = exact_value(stage, wrong)
    assert problems == []  # feasible, but not optimal
    cert = certify(stage, wrong, value[0])
    assert not cert.certified and cert.disagreement
    assert "HiGHS better" in cert.reason


def test_clearing_refuses_to_publish_when_the_solvers_disagree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CP-SAT made to return the wrong BF-39 award as proven: nothing is published."""
    spec, bids = _bf39()
    real = clearing.solve_stage
    wrong = {"B07": 4900, "B08": 12300, "B10": 15000, "B11": 11700, "B12": 4700}

    def wrong_stage(*args: object, **kwargs: object) -> object:
        report = real(*args, **kwargs)  # type: ignore[arg-type]
        inst = build_instance(spec, bids)
        stage = StageProblem(inst, inst.admissible, {}, inst.budget_mc, True)
        report.awarded_kw = wrong
        report.weighted_energy = report.bound = exact_value(stage, wrong)[1][0]
        return report

    monkeypatch.setattr(clearing, "solve_stage", wrong_stage)
    with pytest.raises(clearing.CertificationError, match="not published"):
        clear(spec, bids)


def _answer(objective: float, bound: float, maximise: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        objective_value=objective,
        best_objective_bound=bound,
        status_name=lambda status: "OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE",
    )


@pytest.mark.parametrize("status", [cp_model.OPTIMAL, cp_model.FEASIBLE])
def test_an_objective_above_its_bound_is_refused(status: int) -> None:
    # The shape seen: objective 199,158.912 MWh, bound 193,767.849, gap −0.0278, "proven".
    answer = _answer(1991589120000, 1937678490000)
    with pytest.raises(SolverInconsistency, match="above its bound"):
        checked_status(answer, status, maximise=True)  # type: ignore[arg-type]


def test_optimal_must_mean_objective_at_bound() -> None:
    with pytest.raises(SolverInconsistency, match="not at its bound"):
        checked_status(_answer(10, 12), cp_model.OPTIMAL, maximise=True)  # type: ignore[arg-type]
    with pytest.raises(SolverInconsistency, match="above its bound"):
        checked_status(_answer(10, 12), cp_model.FEASIBLE, maximise=False)  # type: ignore[arg-type]
    assert checked_status(_answer(10, 12), cp_model.FEASIBLE, True) == cp_model.FEASIBLE  # type: ignore[arg-type]
    assert checked_status(_answer(12, 12), cp_model.OPTIMAL, True) == cp_model.OPTIMAL  # type: ignore[arg-type]


def test_a_near_tie_of_scores_is_decided_by_the_exact_scores() -> None:
    """Scores 0.7 and 0.7 × 50.00/60.03 = 0.58304181…: exactly, B buys 24,500.735 weighted
    MWh against A's 24,500.000; with the score rounded to 0.5830 B would fall to 24,498.978
    and lose. Room for one of the two."""
    spec = parse_round(
        {
            "round_id": "TIE",
            "name": "near tie",
            "technologies": [{"name": "solar", "max_mw": "10"}],
            "innovation": {"score_weight": "0.3"},
        }
    )
    bids = [
        Bid("A", "p1", "solar", Decimal(10), Decimal("35000"), Decimal("50.00"), False),
        Bid("B", "p2", "solar", Decimal(10), Decimal("42022.261"), Decimal("60.03"), False),
    ]
    result = clear(spec, bids)
    assert validate_result(spec, bids, result) == []
    assert [a.bid_id for a in result.accepted] == ["B"]
    assert result.proven_optimal
    exact = {b.bid_id: exact_weighted_kwh(spec, bids, {b.bid_id: 10_000}) for b in bids}
    assert exact["B"] > exact["A"]
    assert brute_force(spec, bids, None)[0] == exact["B"]


def _cli(*argv: str) -> int:
    from mzekari.cli import main

    return main(list(argv))


def test_a_refused_run_leaves_no_awards_old_or_new(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        _cli("auction", "clear", str(DATA / "bf39.toml"), str(DATA / "bf39.csv"), "--out", str(out))
        == 0
    )
    assert (out / "awards.csv").exists() and (out / "summary.json").exists()
    rows = (out / "awards.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].split(",")[6:9] == ["bid_price", "price_paid", "sets_price"]
    bad = tmp_path / "bad.csv"
    text = (DATA / "bf39.csv").read_text(encoding="utf-8").replace("17.1,", "1_7.1,")
    bad.write_text(text, encoding="utf-8")
    assert _cli("auction", "clear", str(DATA / "bf39.toml"), str(bad), "--out", str(out)) == 2
    assert not (out / "awards.csv").exists() and not (out / "summary.json").exists()


def test_an_infeasible_round_exits_non_zero_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    infeasible = tmp_path / "round.toml"
    text = (DATA / "bf39.toml").read_text(encoding="utf-8")
    infeasible.write_text(text.replace('min_mw = "5.406"', 'min_mw = "21.000"'), encoding="utf-8")
    out = tmp_path / "out"
    assert _cli("auction", "clear", str(infeasible), str(DATA / "bf39.csv"), "--out", str(out)) == 1
    assert "no award (INFEASIBLE)" in capsys.readouterr().err
    assert not (out / "awards.csv").exists()


def test_a_rejection_names_the_limit_and_its_numbers() -> None:
    spec, bids = _bf39()
    result = clear(spec, bids)
    b12 = next(a for a in result.awards if a.bid_id == "B12")
    # wind: 21.133 MW maximum, 7.5 + 11.7 = 19.2 MW awarded, 1.933 MW left; B12 needs 4.7 MW.
    assert b12.reason == "target_met"
    assert "technology wind's maximum 21.133 MW: 1.933 MW left, the bid needs 4.700 MW" in (
        b12.explanation
    )
    b01 = next(a for a in result.awards if a.bid_id == "B01")
    assert b01.reason == "alternative_chosen" and "B07 of alternative group G0-p4 won" in (
        b01.explanation
    )
    assert all(a.reason != "not_selected" for a in result.awards)


@pytest.mark.parametrize("rule", ["pay_as_clear", "median"])
def test_the_price_setting_bid_is_marked_and_each_group_has_its_price(rule: str) -> None:
    spec, bids = _bf39()
    pricing = {"rule": rule, "groups": {"pot": ["solar", "wind"]} if rule == "pay_as_clear" else {}}
    spec = spec.model_copy(update={"pricing": spec.pricing.model_validate(pricing)})
    result = clear(spec, bids)
    assert validate_result(spec, bids, result) == []
    unit = {"solar": "pot", "wind": "pot", "hydro": "hydro"} if rule == "pay_as_clear" else {}
    prices: dict[str, list[Decimal]] = {}
    for a in result.accepted:
        assert a.bid_price is not None
        prices.setdefault(unit.get(a.technology, a.technology), []).append(a.bid_price)
    expected = {
        u: max(p) if rule == "pay_as_clear" else sorted(p)[(len(p) - 1) // 2]
        for u, p in prices.items()
    }
    assert result.summary()["clearing_prices"] == {u: str(p) for u, p in sorted(expected.items())}
    for a in result.awards:
        sets = a.accepted and a.bid_price == expected[unit.get(a.technology, a.technology)]
        assert a.sets_price == sets, a


def test_highs_rows_past_its_coefficient_limit_are_scaled_not_refused() -> None:
    """HiGHS refuses a matrix with values of 1e15 or more (it answers "Empty"); budget use per
    bid (milli-cents per kWh × kWh) reaches that at 10,000 bids. `_solve` divides such a row
    by a power of two: the same optimum, exactly. An empty row that 0 cannot meet is no
    award at all, without asking HiGHS (which calls a model of no columns "Empty")."""
    from auction.certify import _solve

    model = SimpleNamespace(
        lower=[0.0, 0.0],
        upper=[1.0, 1.0],
        integer=[True, True],
        # 4e15·x + 3e15·y ≤ 5e15: one of the two, the first worth more.
        rows=[(-float("inf"), 5e15, {0: 4e15, 1: 3e15})],
        start=lambda awarded: ([], []),
    )
    status, h = _solve(model, {0: 3, 1: 2}, True, {})  # type: ignore[arg-type]
    assert status == "Optimal"
    assert [round(v) for v in h.getSolution().col_value] == [1, 0]
    model.rows.append((1.0, float("inf"), {}))
    assert _solve(model, {0: 3, 1: 2}, True, {})[0] == "Infeasible"  # type: ignore[arg-type]
    model.rows[-1] = (0.0, 1.0, {})  # an empty row 0 meets: nothing changes
    assert _solve(model, {0: 3, 1: 2}, True, {})[0] == "Optimal"  # type: ignore[arg-type]
