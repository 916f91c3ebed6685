"""The shipped Georgian round through the command line, and its derivation from the real
data in scenarios/sources."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from auction import RULES, clear, load_round, read_bids, validate_result
from auction.cli import register
from mzekari.errors import InputError

REPO = Path(__file__).resolve().parents[2]
GEORGIA = REPO / "scenarios" / "georgia_2023"


def mzekari(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mzekari")
    register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return int(args.handler(args))


def test_readme_command_writes_awards_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "georgia_2023"
    code = mzekari(
        "auction",
        "clear",
        str(GEORGIA / "round.toml"),
        str(GEORGIA / "bids.csv"),
        "--out",
        str(out),
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "status OPTIMAL" in printed and "GE23-H01" in printed and "reason" in printed
    with (out / "awards.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 83
    assert {
        "bid_id",
        "accepted",
        "awarded_capacity_mw",
        "price_paid",
        "budget_used",
        "reason",
    } <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {"status", "objective", "bound", "budget_used", "energy_mwh"} <= set(summary)
    assert summary["solver"]["num_workers"] == 1 and summary["solver"]["ortools_version"]
    accepted = [r for r in rows if r["accepted"] == "true"]
    assert Decimal(summary["budget_used"]) == sum(Decimal(r["budget_used"]) for r in accepted)
    assert Decimal(summary["budget_used"]) <= Decimal("45000000")
    by_tech: dict[str, Decimal] = {}
    for r in accepted:
        by_tech[r["technology"]] = by_tech.get(r["technology"], Decimal(0)) + Decimal(
            r["awarded_capacity_mw"]
        )
    limits = {"hydro": 150, "wind": 70, "solar": 70, "other": 10}
    assert all(by_tech[t] <= limits[t] for t in by_tech)
    # People read money to the cent, half-up, with separators; the files keep it exact.
    exact = Decimal(summary["budget_used"])
    cents = int(exact * 100 + Decimal("0.5"))  # half-up, written without the money module
    shown = f"{cents // 100:,}.{cents % 100:02d}"
    assert f"budget used {shown} of 45,000,000.00 USD" in printed


def test_optimiser_buys_at_least_as_much_as_each_rule_on_the_georgian_round() -> None:
    spec = load_round(GEORGIA / "round.toml")
    bids = read_bids(GEORGIA / "bids.csv", spec)
    best = clear(spec, bids)
    assert best.proven_optimal and validate_result(spec, bids, best) == []
    for rule in RULES:
        merit = clear(spec, bids, rule)
        assert validate_result(spec, bids, merit) == []
        if rule != "germany":  # germany may overshoot a volume, so its award can be infeasible
            assert best.objective is not None and merit.objective is not None
            assert best.objective >= merit.objective


def test_rule_and_curve_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(GEORGIA / "round.toml"), str(GEORGIA / "bids.csv")]
    assert (
        mzekari("auction", "clear", *args, "--out", str(tmp_path / "uk"), "--rule", "uk_skip") == 0
    )
    summary = json.loads((tmp_path / "uk" / "summary.json").read_text(encoding="utf-8"))
    assert summary["rule"] == "uk_skip" and summary["status"] == "RULE"
    assert (
        mzekari(
            "auction",
            "curve",
            *args,
            "--budgets",
            "20000000,45000000",
            "--out",
            str(tmp_path / "c"),
        )
        == 0
    )
    with (tmp_path / "c" / "curve.csv").open(encoding="utf-8") as fh:
        curve = list(csv.DictReader(fh))
    assert [(r["budget"], r["method"]) for r in curve] == [
        ("20000000", "optimiser"),
        ("20000000", "uk_skip"),
        ("45000000", "optimiser"),
        ("45000000", "uk_skip"),
    ]
    assert Decimal(curve[0]["energy_mwh"]) < Decimal(
        curve[2]["energy_mwh"]
    )  # more budget buys more
    assert all(Decimal(r["budget_used"]) <= Decimal(r["budget"]) for r in curve)
    assert (tmp_path / "c" / "curve.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()


def test_bad_bids_file_clears_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bids.csv"
    bad.write_text(
        "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative\n"
        "x,X,solar,0,100,50.00,false\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="row 1, field 'capacity_mw'"):
        mzekari(
            "auction", "clear", str(GEORGIA / "round.toml"), str(bad), "--out", str(tmp_path / "o")
        )
    assert not (tmp_path / "o").exists()


def test_scenario_files_match_their_derivation() -> None:
    loaded = importlib.util.spec_from_file_location("make_scenario", GEORGIA / "make_scenario.py")
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    with (GEORGIA / "bids.csv").open(encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == module.bids()
    round_data = tomllib.loads((GEORGIA / "round.toml").read_text(encoding="utf-8"))
    assert Decimal(round_data["budget"]["reference_price"]) == module.reference_price_usd()
    solar = sorted(Decimal(r["price"]) for r in module.bids() if r["technology"] == "solar")
    assert Decimal("53") <= solar[len(solar) // 2] <= Decimal("59")  # the 2023 solar median range


def test_a_result_not_proven_optimal_says_so(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(REPO / "scenarios"))
    from generate_round import write_round

    round_path, bids_path = write_round(tmp_path, 1000, seed=3, time_limit_s=1)
    spec = load_round(round_path).model_copy(update={"time_limit_s": Decimal("0.05")})
    bids = read_bids(bids_path, spec)
    result = clear(spec, bids)
    assert validate_result(spec, bids, result) == []
    assert not result.proven_optimal and result.status != "OPTIMAL"
    assert any(note.startswith("NOT PROVEN OPTIMAL") for note in result.notes)
    assert result.summary()["proven_optimal"] is False
    # Out of time, it still never buys less than the skip rule on the same round.
    skip = clear(spec, bids, "uk_skip")
    assert result.objective is not None and skip.objective is not None
    assert result.objective >= skip.objective and result.accepted
