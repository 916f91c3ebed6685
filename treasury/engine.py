"""Run a forecast: validate, calibrate, simulate in seeded blocks, reduce to tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mzekari.errors import ProblemCollector
from treasury.config import ForecastConfig
from treasury.generation import GenerationModel
from treasury.history import load_hourly_history, load_monthly_history
from treasury.hourly_shape import build_tables
from treasury.plan import PER_SCENARIO, Plan, block_summary
from treasury.portfolio import approximation_notes, build_groups
from treasury.price_model import calibrate_prices
from treasury.reduce import annual_table, monthly_table
from treasury.result import ForecastResult
from treasury.simulate import Horizon

# ESCO's monthly balancing price 2013-2021 (GEL/MWh): Georgia's realistic reference price
# (shared data README), used when a request names neither a history nor price paths.
DEFAULT_PRICE_HISTORY = Path(__file__).with_name("esco_balancing_monthly.csv")

ProgressCallback = Callable[[int, int], None]


def load_price_paths(source: Path | pd.DataFrame | Any, labels: list[str]) -> np.ndarray:
    """User paths (columns scenario, month, price) as a (paths, months) array over the horizon."""
    frame = source if isinstance(source, pd.DataFrame) else pd.read_csv(Path(source))
    name = "price paths" if isinstance(source, pd.DataFrame) else Path(source).name
    collector = ProblemCollector(name)
    for column in ("scenario", "month", "price"):
        if column not in frame.columns:
            collector.add(None, column, "missing column (need scenario, month, price)")
    collector.raise_if_any()
    if frame.empty:
        collector.add(None, None, "no price paths (no scenarios)")
        collector.raise_if_any()
    frame = frame.assign(month=frame["month"].astype(str))
    table = frame.pivot_table(index="scenario", columns="month", values="price", aggfunc="first")
    missing = [m for m in labels if m not in table.columns]
    if missing:
        collector.add(None, "month", f"paths lack forecast months {missing[:6]}")
    table = table.reindex(columns=labels)
    if not missing and table.isna().any().any():
        collector.add(None, "price", "some path has no price for some forecast month (a gap)")
    collector.raise_if_any()
    return table.to_numpy(dtype=float)


def prepare(contracts: Sequence[Any], config: ForecastConfig) -> Plan:
    """Validate inputs and calibrate the models; raises InputError listing every problem."""
    groups = build_groups(contracts, config)
    labels = config.month_labels
    given = None if config.price_paths is None else load_price_paths(config.price_paths, labels)
    history = config.price_history
    if history is None and given is None:
        history = DEFAULT_PRICE_HISTORY
    model = None
    if history is not None:
        model = calibrate_prices(load_monthly_history(history)).with_sigma(config.price_volatility)
    technologies = tuple(sorted({g.key.technology for g in groups}))
    rules = tuple(sorted({g.key.rule for g in groups}))
    hourly = None
    if config.hourly_history is not None:
        hourly = load_hourly_history(config.hourly_history, config.hourly_history_column)
    tables = build_tables(hourly, technologies, rules)
    generation = GenerationModel.build(
        technologies,
        config.capacity_factors,
        config.generation_volatility,
        config.price_generation_correlation,
    )
    horizon = Horizon.build(labels, model.last_month if model else None)
    level = (
        float(np.exp(model.level))
        if model is not None
        else float(np.mean(given))
        if given is not None
        else 1.0
    )
    return Plan(
        groups=groups,
        prefixes=[g.prefix_sums() for g in groups],
        model=model,
        generation=generation,
        horizon=horizon,
        tables=tables,
        reference_level=level,
        seed=config.seed,
        sensitivity=config.sensitivity,
        method=config.method,
        contract_chunk=config.contract_chunk,
        given_prices=given,
        notes=tuple(approximation_notes(contracts, config)),
    )


def blocks(scenarios: int, size: int) -> list[tuple[int, int]]:
    return [(first, min(first + size, scenarios)) for first in range(0, scenarios, size)]


def run_forecast(
    contracts: Sequence[Any],
    config: ForecastConfig,
    *,
    progress: ProgressCallback | None = None,
    dask_client: Any = None,
) -> ForecastResult:
    """Forecast the support cost of `contracts` (settlement.Contract) under `config`.

    `progress(done, total)` is called with scenarios done after each block; `dask_client`
    (a dask.distributed Client) computes the blocks on its workers with identical results.
    """
    if config.realised_prices is not None or config.realised_meters is not None:
        return _run_realised(contracts, config, progress)
    started = time.perf_counter()
    plan = prepare(contracts, config)
    scenarios = len(plan.given_prices) if plan.given_prices is not None else config.scenarios
    parts = blocks(scenarios, config.scenario_chunk)
    if progress:
        progress(0, scenarios)
    results: list[dict[str, np.ndarray]] = []
    if dask_client is None:
        for first, last in parts:
            results.append(block_summary(plan, first, last))
            if progress:
                progress(last, scenarios)
    else:
        results = _run_on_dask(dask_client, plan, parts, scenarios, progress)
    # Per-scenario arrays in scenario order; sums added in block order (same on Dask).
    per_scenario = {name: np.concatenate([r[name] for r in results]) for name in PER_SCENARIO}
    means = {
        name[4:]: np.sum([r[name] for r in results], axis=0) / scenarios
        for name in results[0]
        if name.startswith("sum_")
    }
    labels = config.month_labels
    calibration = plan.model.describe() if plan.model else {}
    calibration["reference_level"] = plan.reference_level
    calibration["negative_hour_share_by_month"] = [
        round(float(v), 4) for v in plan.tables.negative_hour_share
    ]
    return ForecastResult(
        config=config,
        monthly=monthly_table(labels, per_scenario, means, config.reserve_probability),
        annual=annual_table(
            labels, per_scenario["net"], means, config.reserve_probability, config.auction_budget
        ),
        contracts=sum(len(g.contract_ids) for g in plan.groups),
        scenarios=scenarios,
        mode="paths" if plan.given_prices is not None else "stochastic",
        calibration=calibration,
        runtime_s=time.perf_counter() - started,
        scenario_totals=per_scenario["net"],
        notes=list(plan.notes),
    )


def _run_on_dask(
    client: Any,
    plan: Plan,
    parts: list[tuple[int, int]],
    scenarios: int,
    progress: ProgressCallback | None,
) -> list[dict[str, np.ndarray]]:
    from distributed import as_completed

    shared = client.scatter(plan, broadcast=True)
    futures = [
        client.submit(block_summary, shared, first, last, pure=False) for first, last in parts
    ]
    index = {f.key: k for k, f in enumerate(futures)}
    results: list[dict[str, np.ndarray] | None] = [None] * len(futures)
    done = 0
    for future in as_completed(futures):
        k = index[future.key]
        results[k] = future.result()
        done += parts[k][1] - parts[k][0]
        if progress:
            progress(done, scenarios)
    return [r for r in results if r is not None]


def _run_realised(
    contracts: Sequence[Any], config: ForecastConfig, progress: ProgressCallback | None
) -> ForecastResult:
    """The exact single-path mode (realised prices and meter data)."""
    from settlement import PriceSeries, read_meters, read_prices
    from treasury.exact import forecast_realised

    collector = ProblemCollector("forecast config")
    if config.realised_prices is None or config.realised_meters is None:
        collector.add(
            None, "realised_prices", "the exact mode needs realised_prices and realised_meters"
        )
    collector.raise_if_any()
    prices: Any = config.realised_prices
    if isinstance(prices, (str, Path)):
        prices = read_prices(prices)
    if isinstance(prices, PriceSeries):
        prices = {prices.series: prices}
    meters: Any = config.realised_meters
    if isinstance(meters, (str, Path)):
        meters = read_meters(meters, contracts)
    if progress:
        progress(0, 1)
    result = forecast_realised(contracts, prices, meters, config, tz=config.market_tz)
    if progress:
        progress(1, 1)
    return result
