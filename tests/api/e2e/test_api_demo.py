"""`mzekari demo`: the Georgia round end to end. Every statement line is recomputed here from
the shipped inputs by the CfD formula (K − R) · q, with K converted from USD at the recorded
rate and rounded to the tetri, and every statement's net is the sum of its lines."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from api.demo import GEL_PER_USD, SCENARIO, last_weekday, run_demo
from mzekari.errors import InputError
from scenarios import scenario_file

CENT = Decimal("0.01")


def test_demo_statements_follow_the_cfd_formula(tmp_path, capsys):
    assert run_demo(str(tmp_path / "demo"), months=3) == 0
    printed = capsys.readouterr().out
    assert "chain intact" in printed and "Statements 2021" in printed
    assert "cleared (OPTIMAL, certified by cp-sat and highs)" in printed
    _check_printed_budget_and_files(tmp_path / "demo", printed)
    esco = {
        r["month"]: Decimal(r["price_gel_per_mwh"])
        for r in csv.DictReader(scenario_file(SCENARIO, "esco_2021.csv").open())
    }
    with (tmp_path / "demo" / "statements_summary.csv").open() as fh:
        summary = list(csv.DictReader(fh))
    assert {r["month"] for r in summary} == {"2021-01", "2021-02", "2021-03"}
    awards = _accepted_prices_usd(tmp_path / "demo")
    checked = 0
    for row in summary:
        path = tmp_path / "demo" / "statements" / f"{row['producer']}_{row['month']}.csv"
        lines = list(csv.DictReader(path.open()))
        assert sum(Decimal(ln["amount"]) for ln in lines) == Decimal(row["net"])
        for line in lines:
            strike_gel = (awards[line["contract_id"]] * Decimal(GEL_PER_USD)).quantize(
                CENT, rounding=ROUND_HALF_UP
            )
            mwh = Decimal(line["eligible_kwh"]) / 1000
            expected = ((strike_gel - esco[line["month"]]) * mwh).quantize(
                CENT, rounding=ROUND_HALF_UP
            )
            assert Decimal(line["amount"]) == expected, line
            # The recorded rate is the month's official rate dated its last weekday.
            year, month = int(line["month"][:4]), int(line["month"][5:])
            assert (
                f"USD/GEL {GEL_PER_USD} of {_last_weekday(year, month)} (last business day)"
                in line["explanation"]
            ), line["explanation"]
            assert "mean of" not in line["explanation"]
            checked += 1
    assert checked >= 30


def _accepted_prices_usd(out: Path) -> dict[str, Decimal]:
    """Pay-as-bid: each contract's strike is its bid's price in bids.csv (contract id is
    `<round id>-<bid id>`)."""
    with scenario_file(SCENARIO, "bids.csv").open() as fh:
        prices = {r["bid_id"]: Decimal(r["price"]) for r in csv.DictReader(fh)}
    return defaultdict(Decimal, {f"GE-2023-1-{bid}": price for bid, price in prices.items()})


def _last_weekday(year: int, month: int) -> str:
    """The latest Monday–Friday in the month's calendar (recomputed with `calendar`)."""
    import calendar

    weeks = calendar.monthcalendar(year, month)
    return max(f"{year}-{month:02d}-{day:02d}" for week in weeks for day in week[:5] if day)


def _check_printed_budget_and_files(out: Path, printed: str) -> None:
    """People see money to the cent with separators; the files keep every digit."""
    import json

    clearing = json.loads((out / "clearing.json").read_text())
    exact = Decimal(clearing["budget_used"])
    with scenario_file(SCENARIO, "bids.csv").open() as fh:
        # The engine names a bid `<bidder>/<bid id>` (bid ids are each bidder's own).
        bids = {f"{r['bidder']}/{r['bid_id']}": r for r in csv.DictReader(fh)}
    analysis = json.loads((out / "round_analysis.json").read_text())
    assert analysis["comparison"][0]["budget_used"] == clearing["budget_used"]
    assert len(analysis["comparison"][0]["accepted"]) == clearing["accepted_bids"]
    assert set(analysis["comparison"][0]["accepted"]) <= set(bids)
    cents = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    whole, fraction = str(cents).split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    assert f"budget used {','.join(groups)}.{fraction} of 45,000,000.00 USD" in printed
    assert str(exact) not in printed


def test_the_months_rate_is_dated_its_last_weekday():
    # 2021: 31 January a Sunday, 31 October a Sunday, 31 July a Saturday, 31 December a Friday.
    assert [last_weekday(2021, m).isoformat() for m in (1, 7, 10, 12)] == [
        "2021-01-29",
        "2021-07-30",
        "2021-10-29",
        "2021-12-31",
    ]
    assert all(last_weekday(2021, m).isoformat() == _last_weekday(2021, m) for m in range(1, 13))


def test_demo_never_deletes_what_it_did_not_create(tmp_path):
    """A non-empty folder the demo did not make is refused and left exactly as it was."""
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "clearing.json").write_text("not the demo's")
    with pytest.raises(InputError, match="not made by `mzekari demo`"):
        run_demo(str(tmp_path), months=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clearing.json", "notes.txt"]
    assert (tmp_path / "clearing.json").read_text() == "not the demo's"


def test_demo_refuses_a_database_that_is_not_empty(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    assert run_demo(str(tmp_path / "first"), months=1, database_url=url) == 0
    assert not (tmp_path / "first" / "mzekari.sqlite").exists()  # it ran where it was told
    with pytest.raises(InputError, match="the demo needs an empty one"):
        run_demo(str(tmp_path / "second"), months=1, database_url=url)
