"""Forecast and settlement agree: one price path equal to the realised prices and generation
equal to the realised meter data give the settled amount of a past month.

The realised inputs are real hourly prices (DE-LU 2025 April–June, used as a GEL price pattern
in Tbilisi time) and metered generation built from each technology's profile.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from settlement import read_meters_text, read_prices_text, settle_month
from tests.treasury.conftest import contract
from treasury import ForecastConfig, run_forecast
from treasury.exact import forecast_realised
from treasury.generation import hourly_profile

MONTH = "2025-05"
TECH = {"H1": "hydro", "S1": "solar", "S2": "solar", "W1": "wind", "O1": "other", "H2": "hydro"}


def _portfolio() -> list:
    return [
        contract("H1", "cfd", "55.00", "20", reference_basis="monthly_baseload"),
        contract("S1", "cfd", "80.00", "30", reference_basis="interval", negative_price_rule="any"),
        contract("S2", "cfd", "70.00", "15", reference_basis="monthly_weighted"),
        contract("W1", "variable_premium", "90.00", "12", reference_basis="monthly_baseload"),
        contract("O1", "fixed_premium", "11.50", "5", reference_basis="monthly_baseload"),
    ]


@pytest.fixture(scope="module")
def realised(hourly_2025: pd.Series) -> dict:
    """Prices for April–June and meter data for May, as settlement reads them."""
    spring = hourly_2025["2025-04-01":"2025-06-30 23:00"]
    stamps = [f"{t:%Y-%m-%dT%H:%M}+04:00" for t in spring.index]
    prices_csv = "timestamp,price\n" + "\n".join(
        f"{s},{p:.2f}" for s, p in zip(stamps, spring.to_numpy(), strict=True)
    )
    may = spring[MONTH]
    solar = hourly_profile("solar", pd.DatetimeIndex(may.index))
    rows = []
    for k, t in enumerate(may.index):
        stamp = f"{t:%Y-%m-%dT%H:%M}+04:00"
        energy = {
            "H1": 9000 + (k * 37) % 500,  # a run-of-river plant, not quite flat
            "S1": round(solar[k] * 24000),
            "S2": round(solar[k] * 12000),
            "W1": 4000 + (k * 53) % 3000,
            "O1": 3500,
        }
        rows += [f"{cid},{stamp},{kwh}" for cid, kwh in energy.items()]
    meters_csv = "contract_id,timestamp,energy_kwh\n" + "\n".join(rows)
    return {
        "prices": {"dam": read_prices_text(prices_csv, "dam")},
        "meters": read_meters_text(meters_csv),
        "may": may,
        "meters_csv": meters_csv,
        "prices_csv": prices_csv,
    }


def _config(**extra: object) -> ForecastConfig:
    return ForecastConfig(start_month=MONTH, months=1, scenarios=1, seed=0, **extra)


def test_forecast_of_a_past_month_equals_the_settled_amount(realised: dict) -> None:
    contracts = _portfolio()
    settled = settle_month(contracts, realised["prices"], realised["meters"], MONTH)
    per_contract: dict[str, Decimal] = {}
    for line in settled.lines:
        per_contract[line.contract_id] = (
            per_contract.get(line.contract_id, Decimal(0)) + line.amount
        )
    result = forecast_realised(contracts, realised["prices"], realised["meters"], _config())
    row = result.monthly.iloc[0]
    assert row["expected"] == sum(per_contract.values())
    assert row["payments_out"] == sum(v for v in per_contract.values() if v > 0)
    assert row["paybacks_in"] == -sum(v for v in per_contract.values() if v < 0)
    assert row["payments_out"] > 0 and row["paybacks_in"] > 0  # both directions occur
    assert isinstance(row["expected"], Decimal)


def test_exact_mode_through_run_forecast_and_files(realised: dict, tmp_path) -> None:
    (tmp_path / "prices.csv").write_text(realised["prices_csv"])
    (tmp_path / "meters.csv").write_text(realised["meters_csv"])
    contracts = _portfolio()
    calls: list[tuple[int, int]] = []
    result = run_forecast(
        contracts,
        _config(realised_prices=tmp_path / "prices.csv", realised_meters=tmp_path / "meters.csv"),
        progress=lambda done, total: calls.append((done, total)),
    )
    settled = settle_month(contracts, realised["prices"], realised["meters"], MONTH)
    assert result.mode == "exact"
    assert result.monthly.iloc[0]["expected"] == sum(line.amount for line in settled.lines)
    assert calls[-1] == (1, 1)
    assert result.summary()["monthly"][0]["expected"] == str(sum(ln.amount for ln in settled.lines))


def test_settled_baseload_cfd_matches_a_hand_computation(realised: dict) -> None:
    """Independent of both engines: (K − mean price) × MWh, rounded once, half-up."""
    h1 = _portfolio()[0]
    may = realised["may"]
    mean = (sum(Decimal(f"{p:.2f}") for p in may) / len(may)).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    kwh = sum(9000 + (k * 37) % 500 for k in range(len(may)))
    expected = ((h1.price - mean) * kwh / 1000).quantize(Decimal("0.01"), ROUND_HALF_UP)
    result = forecast_realised([h1], realised["prices"], _meters_of(realised, "H1"), _config())
    assert result.monthly.iloc[0]["expected"] == expected


def _meters_of(realised: dict, cid: str):
    lines = realised["meters_csv"].splitlines()
    return read_meters_text(
        "\n".join([lines[0], *(ln for ln in lines[1:] if ln.startswith(cid + ","))])
    )


def test_stochastic_engine_with_realised_inputs_matches_settlement(realised: dict) -> None:
    """The monthly engine (float, hourly shape tables) given the realised month as its only
    path agrees with the exact settlement to a fraction of a tetri per MWh."""
    contracts = _portfolio()
    may = realised["may"]
    hours = len(may)
    meters = realised["meters"]
    energy_mwh = {
        cid: meters.energy_kwh[meters.rows_of(cid)].sum() / 1000 for cid in TECH if cid != "H2"
    }
    capacity = {c.contract_id: float(c.capacity_mw) for c in contracts}
    factors = {}
    for cid in ("H1", "S1", "W1", "O1"):
        cf = [0.5] * 12
        cf[4] = energy_mwh[cid] / (capacity[cid] * hours)
        factors[TECH[cid]] = cf
    paths = pd.DataFrame(
        {"scenario": [0], "month": [MONTH], "price": [float(np.mean(may.to_numpy()))]}
    )
    config = _config(
        price_paths=paths,
        hourly_history=may,
        contract_technologies={c.contract_id: TECH[c.contract_id] for c in contracts},
        capacity_factors=factors,
        generation_volatility=dict.fromkeys(("hydro", "solar", "wind", "other"), 0.0),
    )
    engine = run_forecast(contracts, config).monthly.iloc[0]
    settled = settle_month(contracts, realised["prices"], meters, MONTH)
    for cid in TECH:
        if cid == "H2":
            continue
        single = run_forecast(
            [c for c in contracts if c.contract_id == cid],
            config.model_copy(update={"contract_technologies": {cid: TECH[cid]}}),
        )
        amount = sum(float(line.amount) for line in settled.lines if line.contract_id == cid)
        got = float(single.monthly.iloc[0]["expected"])
        # Float sums and whole-kWh meters: within 0.01 GEL per MWh plus the line's rounding.
        assert abs(got - amount) <= 0.01 * energy_mwh[cid] + 0.01, (cid, got, amount)
    total = float(sum(line.amount for line in settled.lines))
    assert abs(float(engine["expected"]) - total) <= 0.01 * sum(energy_mwh.values()) + 0.05


def test_exact_result_writes_its_files(realised: dict, tmp_path) -> None:
    result = forecast_realised(
        _portfolio(), realised["prices"], realised["meters"], _config(auction_budget="12000000")
    )
    names = sorted(p.name for p in result.write(tmp_path))
    assert names == [
        "forecast.html",
        "forecast_annual.csv",
        "forecast_annual.png",
        "forecast_fan.png",
        "forecast_monthly.csv",
    ]
    annual = (tmp_path / "forecast_annual.csv").read_text().splitlines()
    row = dict(zip(annual[0].split(","), annual[1].split(","), strict=True))
    expected = result.monthly.iloc[0]["expected"]
    assert row["expected"] == str(expected)
    assert row["headroom_expected"] == str(Decimal("1000000.00") - expected)  # 1 of 12 months


def test_meter_data_of_an_unknown_contract_is_refused(realised: dict) -> None:
    from mzekari.errors import InputError

    lines = realised["meters_csv"].splitlines()
    ghost = [ln.replace("O1,", "ZZ,", 1) for ln in lines[1:] if ln.startswith("O1,")]
    meters = read_meters_text("\n".join([*lines, *ghost]))
    with pytest.raises(InputError, match="ZZ"):
        forecast_realised(_portfolio(), realised["prices"], meters, _config())


def test_exact_mode_from_the_command_line_with_fx_and_profiles(realised, tmp_path) -> None:
    """Paths in the config resolve against the config's folder (not the working directory); a
    USD strike converts at the planning rate and a solar-weighted CfD uses the named profile,
    exactly as settlement settles them with that rate and profile."""
    import csv

    from mzekari.cli import main
    from settlement import load_contracts
    from settlement.price_io import read_profile

    data = tmp_path / "data"
    data.mkdir()
    (data / "prices.csv").write_text(realised["prices_csv"])
    lines = realised["meters_csv"].splitlines()
    kept = [lines[0]] + [ln for ln in lines[1:] if ln.split(",")[0] in ("H1", "S2")]
    (data / "meters.csv").write_text("\n".join(kept))
    meters = read_meters_text("\n".join(kept))
    may = realised["may"]
    solar = hourly_profile("solar", pd.DatetimeIndex(may.index))
    (data / "solar.csv").write_text(
        "timestamp,solar\n"
        + "\n".join(
            f"{t:%Y-%m-%dT%H:%M}+04:00,{w:.3f}" for t, w in zip(may.index, solar, strict=True)
        )
    )
    (data / "contracts.csv").write_text(
        "contract_id,producer,scheme,price,currency,start,end,capacity_mw,reference_basis,"
        "weighting,strike_currency\n"
        "H1,p1,cfd,20.00,GEL,2020-01-01,2040-12-31,20,monthly_baseload,own,USD\n"
        "S2,p2,cfd,70.00,GEL,2020-01-01,2040-12-31,15,monthly_weighted,solar,\n"
    )
    (data / "forecast.toml").write_text(
        f'start_month = "{MONTH}"\nmonths = 1\nrealised_prices = "prices.csv"\n'
        'realised_meters = "meters.csv"\n[fx_rates]\nUSD = "2.70"\n'
        '[contract_technologies]\nH1 = "hydro"\nS2 = "solar"\n[profiles]\nsolar = "solar.csv"\n'
    )
    code = main(
        [
            "forecast",
            str(data / "contracts.csv"),
            "--config",
            str(data / "forecast.toml"),
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ]
    )
    assert code == 0
    contracts = load_contracts(data / "contracts.csv")
    settled = settle_month(
        contracts,
        realised["prices"],
        meters,
        MONTH,
        fx_rates={"USD/GEL": {f"{MONTH}-01": Decimal("2.70")}},
        profiles={"solar": read_profile(data / "solar.csv", None, "solar")},
    )
    with open(tmp_path / "out" / "forecast_monthly.csv") as handle:
        row = next(csv.DictReader(handle))
    assert Decimal(row["expected"]) == sum(line.amount for line in settled.lines)
