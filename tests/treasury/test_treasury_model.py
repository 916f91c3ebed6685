"""Price model calibration and simulation, generation correlation, hourly shape tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from treasury.generation import GenerationModel
from treasury.history import load_monthly_history
from treasury.hourly_shape import Z_GRID, build_tables
from treasury.price_model import PriceModel, calibrate_prices
from treasury.simulate import Horizon, simulate_block


def synthetic_history(
    phi: float, sigma: float, season: np.ndarray, months: int, seed: int
) -> pd.Series:
    """A series drawn from the model's own definition with a plain loop (no trend, no jumps)."""
    rng = np.random.default_rng(seed)
    x, values = 0.0, []
    for t in range(months):
        x = phi * x + sigma * rng.standard_normal()
        values.append(np.exp(np.log(120.0) + season[t % 12] + x))
    return pd.Series(values, index=pd.period_range("1980-01", periods=months, freq="M"))


def test_calibration_recovers_known_parameters() -> None:
    season = 0.3 * np.sin(2 * np.pi * np.arange(12) / 12)
    season -= season.mean()
    model = calibrate_prices(synthetic_history(0.6, 0.10, season, 600, seed=3))
    assert model.phi == pytest.approx(0.6, abs=0.08)
    assert model.sigma == pytest.approx(0.10, abs=0.015)
    assert np.allclose(model.season, season, atol=0.04)


def test_esco_history_shows_the_spring_flood_and_its_crashes(esco_history) -> None:
    history = load_monthly_history(esco_history)
    model = calibrate_prices(history)
    lowest_two = sorted(np.argsort(model.season)[:2] + 1)
    assert lowest_two == [5, 6]  # May and June: hydro spring flood, prices crash
    assert model.jump_probability > 0  # May-June 2013/2014/2019 are crashes, not noise
    # Level: the last year's mean log price net of the season, recomputed by hand.
    last = history.iloc[-12:]
    by_hand = np.mean([np.log(p) - model.season[period.month - 1] for period, p in last.items()])
    assert model.level == pytest.approx(by_hand)


def test_simulated_residual_is_ar1_with_the_calibrated_parameters() -> None:
    model = PriceModel(
        level=np.log(100.0),
        season=(0.0,) * 12,
        phi=0.7,
        sigma=0.12,
        jump_probability=0.0,
        jump_mean=0.0,
        jump_sd=0.0,
        last_month="2024-12",
        last_residual=0.0,
        months_used=120,
    )
    labels = [str(p) for p in pd.period_range("2025-01", periods=60, freq="M")]
    horizon = Horizon.build(labels, model.last_month)
    gen = GenerationModel.build(("hydro",), {}, {}, {})
    price = simulate_block(model, gen, horizon, seed=5, first=0, last=4000).price
    x = np.log(price) - model.level
    phi_hat = np.sum(x[:, 1:] * x[:, :-1]) / np.sum(x[:, :-1] ** 2)
    assert phi_hat == pytest.approx(0.7, abs=0.02)
    innovations = x[:, 1:] - 0.7 * x[:, :-1]
    assert innovations.std() == pytest.approx(0.12, rel=0.03)


def test_hydro_output_is_high_in_the_flood_and_moves_against_price(esco_history) -> None:
    model = calibrate_prices(load_monthly_history(esco_history))
    labels = [str(p) for p in pd.period_range("2026-01", periods=24, freq="M")]
    horizon = Horizon.build(labels, model.last_month)
    gen = GenerationModel.build(("hydro", "wind"), {}, {"hydro": 0.2}, {"hydro": -0.6, "wind": 0.0})
    drivers = simulate_block(model, gen, horizon, seed=11, first=0, last=3000)
    hydro = drivers.capacity_factor[0]
    assert hydro[:, 4].mean() > 1.8 * hydro[:, 0].mean()  # May vs January
    log_price = np.log(drivers.price)
    corr_hydro = np.corrcoef(np.log(hydro[:, 4]), log_price[:, 4])[0, 1]
    corr_wind = np.corrcoef(np.log(drivers.capacity_factor[1][:, 4]), log_price[:, 4])[0, 1]
    assert corr_hydro < -0.3
    assert abs(corr_wind) < 0.1


def test_shape_tables_against_a_direct_count(hourly_2025) -> None:
    may_june = hourly_2025["2025-05-01":"2025-06-30 23:00"]
    tables = build_tables(may_june, ("hydro", "solar"), (0,))
    k = 60  # a grid point: z = R / R_ref
    z = Z_GRID[k]
    month = may_june["2025-05"]
    level = may_june.mean()
    shifted = month - month.mean() + z * level  # the month's hours at monthly mean z·R_ref
    negative = shifted.to_numpy() < 0
    rule = tables.rule_index(0)
    flat_share = 1 - negative.mean()
    assert tables.eligible_share[rule, 0, 4, k] == pytest.approx(flat_share)
    eligible_mean = shifted.to_numpy()[~negative].mean() / level
    assert tables.eligible_price[rule, 0, 4, k] == pytest.approx(eligible_mean)
    # Solar produces at noon, when negative hours cluster: it loses more energy than flat output.
    assert tables.eligible_share[rule, 1, 4, k] < flat_share
    assert tables.capture_offset[1, 4] < 0 < 1e-9 + abs(tables.capture_offset[0, 4]) + 1e-9


def test_an_hourly_history_calibrates_on_its_monthly_means() -> None:
    from tests.treasury.conftest import PRICES

    path = PRICES / "de_lu_day_ahead_2025.csv"
    monthly = load_monthly_history(path)
    # 1 Jan – 15 Dec 2025: December has half its hours, enough for a mean.
    assert [str(p) for p in monthly.index[[0, -1]]] == ["2025-01", "2025-12"]
    frame = pd.read_csv(path)
    january = frame[frame["timestamp"].str.startswith("2025-01")]["price"]
    assert monthly.iloc[0] == pytest.approx(january.mean())
    model = calibrate_prices(monthly)
    assert model.season == (0.0,) * 12  # one year cannot separate season from noise
    assert 0 < model.sigma < 1
