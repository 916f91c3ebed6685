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
    assert int(np.argmin(model.season)) + 1 == 5  # May: hydro spring flood
    # Crashes (below half the month's median) happened in May and June 2013 and 2014 only.
    expected = [0.0] * 12
    expected[4] = expected[5] = 2 / 9
    assert model.crash_probability == pytest.approx(expected)
    assert len(model.crash_sizes) == 4
    # Level: the last year's median log price net of the season, recomputed by hand.
    last = history.iloc[-12:]
    by_hand = np.median([np.log(p) - model.season[period.month - 1] for period, p in last.items()])
    assert model.level == pytest.approx(by_hand)


def _plain_model(**changes: object) -> PriceModel:
    values: dict[str, object] = {
        "level": np.log(100.0),
        "season": (0.0,) * 12,
        "phi": 0.7,
        "sigma": 0.12,
        "level_sd": 0.0,
        "crash_probability": (0.0,) * 12,
        "crash_sizes": (),
        "last_month": "2024-12",
        "last_residual": 0.0,
        "months_used": 120,
    }
    values.update(changes)
    return PriceModel(**values)  # type: ignore[arg-type]


def test_simulated_residual_is_ar1_with_the_calibrated_parameters() -> None:
    model = _plain_model()
    labels = [str(p) for p in pd.period_range("2025-01", periods=60, freq="M")]
    horizon = Horizon.build(labels, model.last_month)
    gen = GenerationModel.build(("hydro",), {}, {}, {})
    price = simulate_block(model, gen, horizon, seed=5, first=0, last=4000).price
    x = np.log(price) - model.level
    phi_hat = np.sum(x[:, 1:] * x[:, :-1]) / np.sum(x[:, :-1] ** 2)
    assert phi_hat == pytest.approx(0.7, abs=0.02)
    innovations = x[:, 1:] - 0.7 * x[:, :-1]
    assert innovations.std() == pytest.approx(0.12, rel=0.03)


def _ratio_to_year_median(values: np.ndarray, years: np.ndarray) -> np.ndarray:
    series = pd.Series(values)
    return (series / series.groupby(years).transform("median")).to_numpy()


def test_simulated_prices_reproduce_the_history_they_are_fitted_on(esco_history) -> None:
    """Each month's price over its calendar year's median: the level drops out, so history and
    simulation compare directly (season, spread, tail and where the crashes fall). The
    history's 6 %/year rise is removed first by a least-squares line through the months that
    did not crash (the model has no trend within a forecast year)."""
    history = load_monthly_history(esco_history)
    model = calibrate_prices(history)
    years_seen = history.index.year.to_numpy()
    t, log_price = np.arange(len(history)), np.log(history.to_numpy())
    normal = _ratio_to_year_median(history.to_numpy(), years_seen) >= 0.5
    slope = np.polyfit(t[normal], log_price[normal], 1)[0]
    seen = _ratio_to_year_median(np.exp(log_price - slope * t), years_seen)
    seen_moy = history.index.month.to_numpy()
    labels = [str(p) for p in pd.period_range("2022-01", periods=120, freq="M")]
    horizon = Horizon.build(labels, model.last_month)
    gen = GenerationModel.build(("hydro",), {}, {}, {})
    price = simulate_block(model, gen, horizon, seed=2, first=0, last=2000).price
    years = np.repeat(np.arange(10), 12)
    simulated = np.concatenate([_ratio_to_year_median(row, years) for row in price])
    sim_moy = np.tile(horizon.moy, len(price))
    assert simulated.std() == pytest.approx(seen.std(), rel=0.2)
    assert np.quantile(simulated, 0.99) == pytest.approx(np.quantile(seen, 0.99), rel=0.2)
    assert simulated.max() < 2.5 * seen.max()
    assert simulated.min() > 0.5 * seen.min()
    for month in range(1, 13):
        seen_share = np.mean(seen[seen_moy == month] < 0.5)
        sim_share = np.mean(simulated[sim_moy == month] < 0.5)
        assert sim_share == pytest.approx(seen_share, abs=0.03), month
        # Nine Mays give a median known to about ±0.08: the season agrees within that.
        median_seen = np.median(seen[seen_moy == month])
        assert np.median(simulated[sim_moy == month]) == pytest.approx(median_seen, abs=0.1)


def test_the_fitting_window_does_not_flip_the_price_fan(esco_history) -> None:
    """2013-2021 holds the two flood crashes, 2015-2021 none: outside the flood months the fan
    barely moves, and the median May stays within 10 %."""
    history = load_monthly_history(esco_history)
    labels = [str(p) for p in pd.period_range("2026-01", periods=12, freq="M")]
    gen = GenerationModel.build(("hydro",), {}, {}, {})
    fans = []
    for window in ("2013", "2015"):
        model = calibrate_prices(history[window:])
        horizon = Horizon.build(labels, model.last_month)
        price = simulate_block(model, gen, horizon, seed=4, first=0, last=3000).price
        fans.append(np.quantile(price, [0.05, 0.5, 0.95], axis=0))
    quiet = [m for m in range(12) if m not in (4, 5)]
    assert np.allclose(fans[0][:, quiet], fans[1][:, quiet], rtol=0.15)
    assert fans[0][1, 4] == pytest.approx(fans[1][1, 4], rel=0.1)


def test_zero_volatility_is_a_deterministic_seasonal_path(esco_history) -> None:
    model = calibrate_prices(load_monthly_history(esco_history)).with_sigma(0.0)
    labels = [str(p) for p in pd.period_range("2026-01", periods=24, freq="M")]
    horizon = Horizon.build(labels, model.last_month)
    gen = GenerationModel.build(("hydro",), {}, {}, {})
    price = simulate_block(model, gen, horizon, seed=9, first=0, last=200).price
    assert np.allclose(price, model.median_price(horizon.moy)[None, :])


def test_a_stale_history_widens_the_first_month_by_the_gap(esco_history) -> None:
    """The first month's log-price sd equals the model's own sd after the gap, recomputed
    from the closed form of the AR(1) state and the level's random walk."""
    model = calibrate_prices(load_monthly_history(esco_history))
    gen = GenerationModel.build(("hydro",), {}, {}, {})
    sds = []
    for start in ("2022-01", "2026-01"):
        labels = [str(p) for p in pd.period_range(start, periods=1, freq="M")]
        horizon = Horizon.build(labels, model.last_month)
        price = simulate_block(model, gen, horizon, seed=1, first=0, last=20000).price
        g = horizon.gap_months
        ar = model.sigma**2 * (1 - model.phi ** (2 * g)) / (1 - model.phi**2)
        level = model.level_sd**2 * g / 12
        assert np.log(price[:, 0]).std() == pytest.approx(np.sqrt(ar + level), rel=0.03)
        sds.append(np.log(price[:, 0]).std())
    assert sds[1] > 1.5 * sds[0]


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
