"""run_forecast end to end: hand-worked paths, statistics, seeds and chunks, Dask, bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from mzekari.errors import InputError
from tests.treasury.conftest import contract
from treasury import ForecastConfig, run_forecast

FLAT = dict.fromkeys(("hydro", "solar", "wind", "other"), 0.0)


def _paths(prices: list[list[float]], months: list[str]) -> pd.DataFrame:
    rows = [(s, m, p) for s, path in enumerate(prices) for m, p in zip(months, path, strict=True)]
    return pd.DataFrame(rows, columns=["scenario", "month", "price"])


def test_hand_worked_cfd_on_two_given_paths() -> None:
    """A 10 MW two-way CfD at 150 GEL/MWh, capacity factor 0.5, two price paths."""
    months = ["2026-01", "2026-02", "2026-03"]
    prices = [[100.0, 120.0, 200.0], [180.0, 150.0, 90.0]]
    config = ForecastConfig(
        start_month="2026-01",
        months=3,
        seed=1,
        price_paths=_paths(prices, months),
        contract_technologies={"W": "wind"},
        capacity_factors={"wind": [0.5] * 12},
        generation_volatility=FLAT,
        auction_budget="1200000",
        sensitivity=0.1,
    )
    result = run_forecast([contract("W", "cfd", "150.00", "10")], config)
    hours = np.array([31, 28, 31]) * 24
    energy = 10 * 0.5 * hours  # MWh per month
    net = (150.0 - np.array(prices)) * energy  # (paths, months)
    monthly = result.monthly
    assert np.allclose(monthly["expected"], net.mean(axis=0))
    assert np.allclose(monthly["payments_out"], np.maximum(net, 0).mean(axis=0))
    assert np.allclose(monthly["paybacks_in"], np.maximum(-net, 0).mean(axis=0))
    lo, hi = net.min(axis=0), net.max(axis=0)
    assert np.allclose(monthly["p95"], lo + 0.95 * (hi - lo))  # linear interpolation, 2 points
    assert np.allclose(monthly["p5"], lo + 0.05 * (hi - lo))
    assert np.allclose(monthly["reserve"], monthly["p95"])
    plus = (150.0 - 1.1 * np.array(prices)) * energy
    assert np.allclose(monthly["expected_prices_plus"], plus.mean(axis=0))
    assert np.allclose(monthly["energy_mwh"], energy)
    annual = result.annual.iloc[0]
    yearly = net.sum(axis=1)
    assert annual["months"] == 3
    assert annual["expected"] == pytest.approx(yearly.mean())
    assert annual["p95"] == pytest.approx(yearly.min() + 0.95 * (yearly.max() - yearly.min()))
    assert annual["budget"] == pytest.approx(300000.0)  # 3 of 12 months of the annual budget
    assert annual["headroom_expected"] == pytest.approx(300000.0 - yearly.mean())


def test_term_season_and_double_benefit_shape_the_weights() -> None:
    months = ["2026-04", "2026-05", "2026-06"]
    config = ForecastConfig(
        start_month="2026-04",
        months=3,
        price_paths=_paths([[50.0, 50.0, 50.0]], months),
        contract_technologies={"H": "hydro"},
        capacity_factors={"hydro": [0.4] * 12},
        generation_volatility=FLAT,
    )
    # Term starts 16 April; May excluded (seasonal rule); 25 % of support withheld (GOs).
    c = contract(
        "H",
        "variable_premium",
        "80.00",
        "10",
        start=date(2026, 4, 16),
        excluded_months=(5,),
        double_benefit_share=Decimal("0.25"),
    )
    got = run_forecast([c], config).monthly["expected"].to_numpy()
    per_hour = 10 * 0.4 * 30.0 * 0.75  # MW × CF × (K − R) × kept share
    assert got == pytest.approx([per_hour * 15 * 24, 0.0, per_hour * 30 * 24])


def test_cpi_indexed_strike_steps_up_each_april() -> None:
    months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    config = ForecastConfig(
        start_month="2026-01",
        months=6,
        price_paths=_paths([[100.0] * 6], months),
        contract_technologies={"H": "hydro"},
        capacity_factors={"hydro": [0.5] * 12},
        generation_volatility=FLAT,
        cpi_inflation=0.03,
    )
    c = contract(
        "H",
        "cfd",
        "150.00",
        "10",
        indexation="cpi",
        index_base_month="2025-04",
        index_month=4,
        indexed_share=Decimal("0.3"),
    )
    got = run_forecast([c], config).monthly["expected"].to_numpy()
    hours = np.array([31, 28, 31, 30, 31, 30]) * 24
    strike = np.array([150.0] * 3 + [150.0 * (0.7 + 0.3 * 1.03)] * 3)  # re-set in April 2026
    assert got == pytest.approx((strike - 100.0) * 10 * 0.5 * hours)


STOCHASTIC = dict(
    start_month="2026-01",
    months=18,
    scenarios=300,
    seed=42,
    contract_technologies={"H": "hydro", "S": "solar", "W": "wind"},
    auction_budget="10000000",
)


def _portfolio() -> list:
    return [
        contract("H", "cfd", "160.00", "30", reference_basis="monthly_baseload"),
        contract("S", "cfd", "150.00", "20", reference_basis="interval", negative_price_rule="any"),
        contract(
            "W",
            "variable_premium",
            "165.00",
            "25",
            reference_basis="monthly_weighted",
            negative_price_rule="run:4",
        ),
    ]


@pytest.fixture(scope="module")
def reference_run(esco_history, hourly_2025):
    config = ForecastConfig(price_history=esco_history, hourly_history=hourly_2025, **STOCHASTIC)
    return config, run_forecast(_portfolio(), config)


def test_results_do_not_depend_on_chunking(reference_run) -> None:
    config, base = reference_run
    chunked = run_forecast(_portfolio(), config.model_copy(update={"scenario_chunk": 7}))
    assert np.array_equal(chunked.scenario_totals, base.scenario_totals)
    dense = run_forecast(_portfolio(), config.model_copy(update={"method": "dense"}))
    assert np.allclose(dense.scenario_totals, base.scenario_totals, rtol=1e-9, atol=1e-6)
    other_seed = run_forecast(_portfolio(), config.model_copy(update={"seed": 43}))
    assert not np.array_equal(other_seed.scenario_totals, base.scenario_totals)


def test_reserve_covers_the_stated_share_of_scenarios(reference_run) -> None:
    _, result = reference_run
    totals = result.scenario_totals
    reserve = result.monthly["reserve"].to_numpy()
    covered = (totals <= reserve[None, :]).mean(axis=0)
    assert (covered >= 0.95).all()
    assert np.allclose(
        result.monthly["expected"], result.monthly["payments_out"] - result.monthly["paybacks_in"]
    )
    annual = result.annual
    assert (annual["p5"] <= annual["p50"]).all() and (annual["p50"] <= annual["p95"]).all()
    # Higher prices, lower support: every contract pays less when R rises.
    assert (result.monthly["expected_prices_plus"] <= result.monthly["expected"] + 1e-6).all()
    assert (result.monthly["expected_prices_minus"] >= result.monthly["expected"] - 1e-6).all()


def test_negative_price_rule_excludes_energy_only_when_set(esco_history, hourly_2025) -> None:
    config = ForecastConfig(
        price_history=esco_history,
        hourly_history=hourly_2025,
        **{**STOCHASTIC, "contract_technologies": {"S": "solar"}},
    )
    with_rule = run_forecast(
        [contract("S", reference_basis="interval", negative_price_rule="any")], config
    ).monthly
    without = run_forecast([contract("S", reference_basis="interval")], config).monthly
    assert with_rule["excluded_mwh"].sum() > 0
    assert without["excluded_mwh"].sum() == 0
    assert np.allclose(
        with_rule["energy_mwh"] + with_rule["excluded_mwh"], without["energy_mwh"], atol=0.11
    )  # each column is rounded to 0.1 MWh


def test_wet_cheap_months_raise_hydro_support(esco_history) -> None:
    """The capture-price effect: correlated output and price cost more than independent ones."""
    base = dict(STOCHASTIC, scenarios=2000, contract_technologies={"H": "hydro"})
    hydro = [contract("H", "cfd", "160.00", "30", reference_basis="monthly_baseload")]
    correlated = run_forecast(
        hydro,
        ForecastConfig(
            price_history=esco_history, price_generation_correlation={"hydro": -0.8}, **base
        ),
    )
    independent = run_forecast(
        hydro,
        ForecastConfig(
            price_history=esco_history, price_generation_correlation={"hydro": 0.0}, **base
        ),
    )
    assert correlated.annual["expected"].sum() > 1.02 * independent.annual["expected"].sum()


def test_dask_local_cluster_gives_identical_results(reference_run) -> None:
    from treasury.cluster import local_cluster

    config, base = reference_run
    config = config.model_copy(update={"scenario_chunk": 100})
    local = run_forecast(_portfolio(), config)
    seen: list[int] = []
    cluster, client = local_cluster(2)  # a LocalCluster: 2 worker processes × 1 thread
    try:
        result = run_forecast(
            _portfolio(), config, dask_client=client, progress=lambda done, total: seen.append(done)
        )
    finally:
        client.close()
        cluster.close()
    assert np.array_equal(result.scenario_totals, base.scenario_totals)
    pd.testing.assert_frame_equal(result.monthly, local.monthly, check_exact=True)
    pd.testing.assert_frame_equal(result.annual, local.annual, check_exact=True)
    assert seen == sorted(seen) and seen[-1] == 300


def test_progress_is_reported_per_chunk(esco_history) -> None:
    calls: list[tuple[int, int]] = []
    config = ForecastConfig(price_history=esco_history, **{**STOCHASTIC, "scenario_chunk": 100})
    run_forecast(_portfolio(), config, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, 300), (100, 300), (200, 300), (300, 300)]


# -- bad input --------------------------------------------------------------------------------


def test_no_scenarios_is_refused(tmp_path) -> None:
    with pytest.raises(ValidationError, match="at least one scenario"):
        ForecastConfig(start_month="2026-01", months=12, scenarios=0)
    empty = pd.DataFrame(columns=["scenario", "month", "price"])
    config = ForecastConfig(
        start_month="2026-01", months=2, price_paths=empty, contract_technologies={"H": "hydro"}
    )
    with pytest.raises(InputError, match="no price paths"):
        run_forecast([contract("H")], config)


def test_negative_volatility_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"price_volatility\n.*greater than or equal to 0"):
        ForecastConfig(start_month="2026-01", months=12, price_volatility=-0.1)
    with pytest.raises(ValidationError, match=r"generation_volatility\.hydro\n.*greater"):
        ForecastConfig(start_month="2026-01", months=12, generation_volatility={"hydro": -0.2})


def test_history_with_gaps_is_refused(esco_history, tmp_path) -> None:
    lines = esco_history.read_text().splitlines()
    gapped = tmp_path / "gapped.csv"
    gapped.write_text("\n".join(lines[:30] + lines[33:]))  # three months dropped
    config = ForecastConfig(
        start_month="2026-01", months=12, price_history=gapped, contract_technologies={"H": "hydro"}
    )
    with pytest.raises(InputError, match="gaps: 3 month"):
        run_forecast([contract("H")], config)
    holed = tmp_path / "holed.csv"
    holed.write_text("\n".join([*lines[:40], lines[40].split(",")[0] + ",", *lines[41:]]))
    with pytest.raises(InputError, match=r"row 40.*gap"):
        run_forecast([contract("H")], config.model_copy(update={"price_history": holed}))


def test_unknown_contract_and_technology_are_refused(esco_history) -> None:
    config = ForecastConfig(
        start_month="2026-01",
        months=12,
        price_history=esco_history,
        contract_technologies={"H": "hydro", "GHOST": "wind"},
    )
    with pytest.raises(InputError) as caught:
        run_forecast([contract("H"), contract("X")], config)
    text = str(caught.value)
    assert "unknown contract 'GHOST'" in text
    assert "contract X: technology unknown" in text
    with pytest.raises(InputError, match="no contracts"):
        run_forecast([], config.model_copy(update={"contract_technologies": {}}))


def test_strike_in_another_currency_needs_a_rate(esco_history) -> None:
    usd = contract("H", "cfd", "55.00", strike_currency="USD")
    config = ForecastConfig(
        start_month="2026-01",
        months=3,
        price_history=esco_history,
        contract_technologies={"H": "hydro"},
    )
    with pytest.raises(InputError, match="needs fx_rates"):
        run_forecast([usd], config)
    gel = run_forecast([contract("H", "cfd", "148.50")], config)
    converted = run_forecast(
        [usd], config.model_copy(update={"fx_rates": {"USD": Decimal("2.70")}})
    )
    assert np.allclose(converted.scenario_totals, gel.scenario_totals)


def test_what_is_approximated_is_said(esco_history) -> None:
    capped = contract("H", annual_cap_mwh=Decimal("1000"))
    config = ForecastConfig(
        start_month="2026-01",
        months=2,
        scenarios=5,
        price_history=esco_history,
        contract_technologies={"H": "hydro"},
    )
    result = run_forecast([capped], config)
    assert result.notes == [
        "1 contract(s): annual volume cap not applied (the forecast is an upper bound for these)"
    ]
    assert result.summary()["notes"] == result.notes


def test_hourly_history_with_a_hole_is_refused(esco_history, hourly_2025) -> None:
    holed = hourly_2025.copy()
    holed.iloc[500] = np.nan
    config = ForecastConfig(
        start_month="2026-01",
        months=2,
        scenarios=5,
        price_history=esco_history,
        hourly_history=holed,
        contract_technologies={"S": "solar"},
    )
    with pytest.raises(InputError, match=r"row 501.*a gap"):
        run_forecast([contract("S")], config)
