"""Input problems name where they are; the command line reports them and exits 2."""

import subprocess
import sys
from pathlib import Path

import pytest

from mzekari.cli import build_parser, main
from mzekari.errors import InputError, Problem, ProblemCollector


def test_problem_names_file_row_and_field() -> None:
    assert str(Problem("bids.csv", 3, "price", "not a number")) == (
        "bids.csv, row 3, field 'price': not a number"
    )


def test_collector_reports_every_problem_at_once() -> None:
    collector = ProblemCollector("bids.csv")
    collector.add(1, "capacity_mw", "must be positive")
    collector.add(4, "price", "not a number")
    with pytest.raises(InputError) as caught:
        collector.raise_if_any()
    assert [p.row for p in caught.value.problems] == [1, 4]
    assert "2 problem(s)" in str(caught.value)


def test_an_empty_collector_raises_nothing() -> None:
    ProblemCollector("x").raise_if_any()


def test_every_package_contributes_its_commands() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert {"auction", "settle", "prices", "forecast", "serve", "demo", "admin"} <= set(
        subparsers.choices  # type: ignore[arg-type]
    )


def test_invalid_input_exits_2_with_the_row_named(tmp_path: Path, capsys) -> None:
    root = Path(__file__).resolve().parents[2]
    bids = tmp_path / "bids.csv"
    bids.write_text(
        "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative\n"
        "B1,alpha,solar,5,9000,abc,false\n"
    )
    code = main(
        [
            "auction",
            "clear",
            str(root / "scenarios/georgia_2023/round.toml"),
            str(bids),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "row 1" in err and "price" in err
    assert not (tmp_path / "out" / "awards.csv").exists()


def test_help_runs_as_a_console_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mzekari.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "auction" in done.stdout
