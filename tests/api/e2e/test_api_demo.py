"""`mzekari demo`: the Georgia round end to end. Every statement line is recomputed here from
the shipped inputs by the CfD formula (K − R) · q, with K converted from USD at the recorded
rate and rounded to the tetri, and every statement's net is the sum of its lines."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from api.demo import GEL_PER_USD, SCENARIO, run_demo

CENT = Decimal("0.01")


def test_demo_statements_follow_the_cfd_formula(tmp_path, capsys):
    assert run_demo(str(tmp_path / "demo"), months=3) == 0
    printed = capsys.readouterr().out
    assert "chain intact" in printed and "Statements 2021" in printed
    esco = {r["month"]: Decimal(r["price_gel_per_mwh"])
            for r in csv.DictReader((SCENARIO / "esco_2021.csv").open())}
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
                CENT, rounding=ROUND_HALF_UP)
            mwh = Decimal(line["eligible_kwh"]) / 1000
            expected = ((strike_gel - esco[line["month"]]) * mwh).quantize(
                CENT, rounding=ROUND_HALF_UP)
            assert Decimal(line["amount"]) == expected, line
            checked += 1
    assert checked >= 30


def _accepted_prices_usd(out: Path) -> dict[str, Decimal]:
    """Pay-as-bid: each contract's strike is its bid's price in bids.csv (contract id is
    `<round id>-<bid id>`)."""
    with (SCENARIO / "bids.csv").open() as fh:
        prices = {r["bid_id"]: Decimal(r["price"]) for r in csv.DictReader(fh)}
    return defaultdict(Decimal, {f"GE-2023-1-{bid}": price for bid, price in prices.items()})
