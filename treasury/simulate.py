"""Scenario drivers for a block of scenarios: monthly prices and capacity factors.

Scenario i draws from its own stream, Generator(PCG64(SeedSequence(seed, spawn_key=(i,)))),
the i-th child of the run's seed. So a scenario's path depends on (seed, i) only: chunk sizes,
chunk order and where a chunk runs (here or on a Dask worker) cannot change a result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from treasury.generation import GenerationModel
from treasury.price_model import PriceModel


@dataclass(frozen=True)
class Horizon:
    labels: tuple[str, ...]  # "YYYY-MM"
    moy: np.ndarray  # (M,) month of year 1..12
    hours: np.ndarray  # (M,) hours in each month (Georgia: no daylight saving)
    gap_months: int  # months between the history's last month and the first forecast month

    @classmethod
    def build(cls, labels: list[str], last_history_month: str | None) -> Horizon:
        import pandas as pd

        periods = pd.PeriodIndex(labels, freq="M")
        gap = 1
        if last_history_month is not None:
            gap = max(1, int((periods[0] - pd.Period(last_history_month, freq="M")).n))
        return cls(
            tuple(labels), periods.month.to_numpy(), periods.days_in_month.to_numpy() * 24.0, gap
        )


@dataclass
class Drivers:
    price: np.ndarray  # (S, M) monthly mean price, currency/MWh
    capacity_factor: np.ndarray  # (tech, S, M)
    built: np.ndarray  # (S, pipeline) whether each pipeline plant is built in the scenario


def scenario_streams(seed: int, first: int, last: int) -> list[np.random.Generator]:
    return [
        np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(i,))))
        for i in range(first, last)
    ]


def draw_normals(
    seed: int, first: int, last: int, months: int, technologies: int, pipeline: int = 0
) -> dict[str, np.ndarray]:
    """Every random number a block needs, drawn per scenario in a fixed order; the pipeline's
    build draws come last, so adding a pipeline plant changes no other number."""
    n = last - first
    out = {
        "start": np.empty(n),
        "start_level": np.empty(n),
        "price": np.empty((n, months)),
        "level": np.empty((n, months)),
        "crash_u": np.empty((n, months)),
        "crash_pick": np.empty((n, months)),
        "weather": np.empty((technologies, n, months)),
        "build": np.empty((n, pipeline)),
    }
    for k, rng in enumerate(scenario_streams(seed, first, last)):
        out["start"][k] = rng.standard_normal()
        out["start_level"][k] = rng.standard_normal()
        out["price"][k] = rng.standard_normal(months)
        out["level"][k] = rng.standard_normal(months)
        out["crash_u"][k] = rng.random(months)
        out["crash_pick"][k] = rng.random(months)
        out["weather"][:, k] = rng.standard_normal((technologies, months))
        out["build"][k] = rng.random(pipeline)
    return out


def simulate_prices(
    model: PriceModel, horizon: Horizon, normals: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(S, M) monthly prices, and the standardised price innovations (noise and crash
    together: a flood crash is a wet month).

    The months between the history's end and the first forecast month are simulated in full:
    the AR(1) state and the level evolve over them (their exact Gaussian marginals); crashes
    do not carry over a month, so a gap month's crash cannot reach the forecast."""
    phi, sigma = model.phi, model.sigma
    g = horizon.gap_months
    carried = phi ** (g - 1)
    spread = sigma * np.sqrt((1 - phi ** (2 * (g - 1))) / (1 - phi**2)) if g > 1 else 0.0
    x = carried * model.last_residual + spread * normals["start"]
    monthly_level_sd = model.level_sd / np.sqrt(12.0)
    level = model.level + monthly_level_sd * np.sqrt(g - 1) * normals["start_level"]
    p_crash = np.asarray(model.crash_probability)[horizon.moy - 1]
    if model.crash_sizes:
        sizes = np.asarray(model.crash_sizes)
        picked = sizes[np.minimum((normals["crash_pick"] * len(sizes)).astype(int), len(sizes) - 1)]
        crash = np.where(normals["crash_u"] < p_crash[None, :], picked, 0.0)
    else:
        crash = np.zeros_like(normals["price"])
    log_price = np.empty_like(normals["price"])
    season = np.asarray(model.season)[horizon.moy - 1]
    for m in range(len(horizon.moy)):
        x = phi * x + sigma * normals["price"][:, m]
        level = level + monthly_level_sd * normals["level"][:, m]
        log_price[:, m] = level + season[m] + x + crash[:, m]
    crash_mean, crash_var = model.crash_moments()
    scale = np.sqrt(sigma**2 + crash_var[horizon.moy - 1])
    innovation = sigma * normals["price"] + crash - crash_mean[horizon.moy - 1][None, :]
    shock = np.divide(innovation, scale, out=np.zeros_like(innovation), where=scale > 0)
    return np.exp(log_price), shock


def price_shocks(model: PriceModel | None, horizon: Horizon, price: np.ndarray) -> np.ndarray:
    """Standardised price deviations of given paths (for the weather correlation): each month
    against its own seasonal median only, so no month's price changes another month's."""
    if model is None or model.sigma == 0:
        return np.zeros_like(price)
    x = np.log(np.maximum(price, 1e-9)) - model.level - np.asarray(model.season)[horizon.moy - 1]
    crash_mean, crash_var = model.crash_moments()
    scale = np.sqrt(model.stationary_sd() ** 2 + crash_var[horizon.moy - 1])
    return np.clip((x - crash_mean[horizon.moy - 1]) / scale, -6, 6)


def simulate_block(
    model: PriceModel | None,
    generation: GenerationModel,
    horizon: Horizon,
    seed: int,
    first: int,
    last: int,
    given_prices: np.ndarray | None = None,
    build_probability: np.ndarray | None = None,
) -> Drivers:
    """Drivers for scenarios first..last-1. `given_prices` (S, M) replaces the price model;
    `build_probability` (P,) gives each pipeline plant's chance of being built."""
    months = len(horizon.moy)
    probability = np.zeros(0) if build_probability is None else np.asarray(build_probability)
    normals = draw_normals(
        seed, first, last, months, len(generation.technologies), len(probability)
    )
    if given_prices is not None:
        price = np.asarray(given_prices, dtype=float)
        shock = price_shocks(model, horizon, price)
    else:
        assert model is not None
        price, shock = simulate_prices(model, horizon, normals)
    cf = generation.capacity_factor(horizon.moy, shock, normals["weather"])
    return Drivers(price=price, capacity_factor=cf, built=normals["build"] < probability[None, :])
