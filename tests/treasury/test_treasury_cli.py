"""`mzekari forecast` on the shipped Georgian scenario, and contracts from a round's bids."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest

from auction import Bid, parse_round
from mzekari.cli import main
from mzekari.vocabulary import technology_class
from tests.treasury.conftest import SCENARIO
from treasury import ForecastConfig, contracts_from_bids, run_forecast


def test_forecast_command_writes_tables_and_charts(tmp_path, capsys) -> None:
    code = main(
        [
            "forecast",
            str(SCENARIO / "contracts.csv"),
            "--config",
            str(SCENARIO / "forecast.toml"),
            "--out",
            str(tmp_path),
            "--scenarios",
            "200",
            "--months",
            "14",
            "--no-progress",
        ]
    )
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "forecast.html",
        "forecast_annual.csv",
        "forecast_annual.png",
        "forecast_fan.png",
        "forecast_monthly.csv",
    ]
    with open(tmp_path / "forecast_monthly.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["month"] for r in rows][:2] == ["2026-01", "2026-02"] and len(rows) == 14
    for row in rows:  # money as text to the tetri, P5 ≤ P50 ≤ P95
        assert Decimal(row["p5"]) <= Decimal(row["p50"]) <= Decimal(row["p95"])
        assert Decimal(row["expected"]).as_tuple().exponent == -2
    page = (tmp_path / "forecast.html").read_text()
    assert "<svg" in page and "data-tip" in page and "src=" not in page  # self-contained
    assert (tmp_path / "forecast_fan.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    assert "200 scenarios × 10 contracts × 14 months" in out and "headroom" in out


def test_forecast_command_reports_bad_config(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('start_month = "2026-01"\nmonths = 12\nprice_volatility = -0.2\n')
    code = main(
        [
            "forecast",
            str(SCENARIO / "contracts.csv"),
            "--config",
            str(bad),
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ]
    )
    assert code == 2
    assert "field 'price_volatility': Input should be greater than or equal to 0" in (
        capsys.readouterr().err
    )


ROUND = {
    "round_id": "GE-2026-1",
    "name": "Georgia 2026 round 1",
    "currency": "USD",
    "technologies": [{"name": "hydro"}, {"name": "solar_pv"}, {"name": "onshore_wind"}],
}


def _bids() -> list[Bid]:
    rows = [
        ("b1", "hydro", "20", "55.00"),
        ("b2", "solar_pv", "30", "48.50"),
        ("b3", "onshore_wind", "25", "61.20"),
    ]
    return [
        Bid(
            bid_id=i,
            bidder=f"bidder {i}",
            technology=t,
            capacity_mw=Decimal(c),
            annual_mwh=Decimal(c) * 3000,
            price=Decimal(p),
            innovative=False,
        )
        for i, t, c, p in rows
    ]


def test_bids_become_hypothetical_cfds_that_the_forecast_prices(esco_history) -> None:
    spec = parse_round(ROUND)
    contracts, energy = contracts_from_bids(spec, _bids(), start=date(2026, 1, 1), currency="GEL")
    assert [c.contract_id for c in contracts] == ["GE-2026-1-b1", "GE-2026-1-b2", "GE-2026-1-b3"]
    assert energy == {c.contract_id: c.capacity_mw * 3000 for c in contracts}
    first = contracts[0]
    assert (first.scheme, first.price, first.strike_currency, first.currency) == (
        "cfd",
        Decimal("55.00"),
        "USD",
        "GEL",
    )
    assert (first.start, first.end) == (date(2026, 1, 1), date(2040, 12, 31))
    assert [c.technology for c in contracts] == ["hydro", "solar", "wind"]
    config = ForecastConfig(
        start_month="2026-01",
        months=12,
        scenarios=50,
        seed=3,
        price_history=esco_history,
        fx_rates={"USD": Decimal("2.70")},
        contract_annual_mwh=energy,
        generation_volatility={"hydro": 0, "solar": 0, "wind": 0},
    )
    result = run_forecast(contracts, config)
    assert result.contracts == 3
    # Without weather noise each bid delivers its own annual energy over a year.
    assert result.annual["energy_mwh"].iloc[0] == pytest.approx(float(sum(energy.values())))


def test_only_accepted_awards_at_their_awarded_terms() -> None:
    from auction import Award, ClearingResult

    awards = [
        Award(
            "b1",
            "bidder b1",
            "hydro",
            True,
            Decimal("12"),
            Decimal("36000"),
            Decimal("52.00"),
            Decimal(0),
            "accepted",
        ),
        Award(
            "b2", "bidder b2", "solar_pv", False, Decimal(0), Decimal(0), None, Decimal(0), "budget"
        ),
    ]
    result = ClearingResult(
        round_id="GE-2026-1",
        rule="optimiser",
        pricing_rule="pay_as_bid",
        currency="USD",
        status="OPTIMAL",
        proven_optimal=True,
        objective=None,
        bound=None,
        gap=None,
        awards=awards,
    )
    contracts, energy = contracts_from_bids(
        parse_round(ROUND), _bids(), result, start=date(2026, 1, 1)
    )
    assert len(contracts) == 1
    assert energy == {"GE-2026-1-b1": Decimal("36000")}
    assert (contracts[0].capacity_mw, contracts[0].price, contracts[0].currency) == (
        Decimal("12"),
        Decimal("52.00"),
        "USD",
    )


def test_unknown_technology_name_is_other() -> None:
    assert technology_class("geothermal") == "other"
    with pytest.raises(ValueError):
        ForecastConfig(start_month="2026-13", months=1)


def test_round_adds_only_its_cleared_winners_with_their_energy(tmp_path, capsys) -> None:
    """--round clears the round and adds the accepted awards (checked against auction.clear);
    --all-bids says it takes every bid. Same command, same answer: no system date involved."""
    from auction import clear, load_round, read_bids
    from tests.treasury.conftest import ROOT

    round_dir = ROOT / "scenarios" / "georgia_2023"
    spec = load_round(round_dir / "round.toml")
    bids = read_bids(round_dir / "bids.csv", spec)
    winners = [a for a in clear(spec, bids).awards if a.accepted]
    assert 0 < len(winners) < len(bids)
    outputs = []
    for extra in ([], [], ["--all-bids"]):
        code = main(
            [
                "forecast",
                str(SCENARIO / "contracts.csv"),
                "--config",
                str(SCENARIO / "forecast.toml"),
                "--round",
                str(round_dir / "round.toml"),
                "--bids",
                str(round_dir / "bids.csv"),
                "--out",
                str(tmp_path),
                "--scenarios",
                "50",
                "--months",
                "12",
                "--no-progress",
                *extra,
            ]
        )
        assert code == 0
        outputs.append(capsys.readouterr().out)
    assert f"{len(winners)} winners of the cleared round, from 2026-01-01" in outputs[0]
    assert f"50 scenarios × {10 + len(winners)} contracts" in outputs[0]
    years = [[ln for ln in out.splitlines() if ln.startswith("  2026:")] for out in outputs]
    assert years[0] == years[1] and len(years[0]) == 1
    assert f"{len(bids)} bids as a hypothetical set" in outputs[2]
    assert f"{len(winners)} contract(s): energy scaled to their own annual_mwh" in outputs[0]
