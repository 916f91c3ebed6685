"""Run a forecast: validate, calibrate, simulate in seeded blocks, reduce to tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from importlib.resources import as_file
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mzekari.errors import ProblemCollector
from treasury.config import STALE_HISTORY_MONTHS, ForecastConfig
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
# (scenarios/sources), used when a request names neither a history nor price paths.
DEFAULT_PRICE_HISTORY = ("prices", "ge_esco_balancing_monthly.csv")
# A price fan whose P95 climbs beyond this multiple of the level the model starts from is a
# stress test, not a forecast (ESCO's own fit reaches about 2.2× over 20 years): said loudly.
EXTREME_PRICE_MULTIPLE = 5.0


def default_price_history() -> pd.Series:
    """The shipped ESCO history, read from the installed `scenarios` package."""
    from scenarios import scenario_file

    with as_file(scenario_file(*DEFAULT_PRICE_HISTORY)) as path:
        return load_monthly_history(path)


def months_between(first: str, last: str) -> int:
    """Whole months from month `first` to month `last` ("YYYY-MM")."""
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:])


def data_age(config: ForecastConfig, history_end: str | None) -> tuple[int | None, list[str]]:
    """Months from the history's last month to the as-of month, and the warnings it calls for;
    a history that runs past the as-of date or into the forecast is refused."""
    if history_end is None:
        return None, []
    as_of_month = config.as_of_date.isoformat()[:7]
    collector = ProblemCollector("forecast config")
    if months_between(history_end, config.start_month) < 1:
        collector.add(
            None,
            "start_month",
            f"start month {config.start_month} is inside the price history (it ends "
            f"{history_end}); forecast months after the history",
        )
    if months_between(history_end, as_of_month) < 0:
        collector.add(
            None,
            "as_of",
            f"the price history runs to {history_end}, after the as-of date "
            f"{config.as_of_date}: a forecast made then could not know those prices",
        )
    collector.raise_if_any()
    age = months_between(history_end, as_of_month)
    warnings = []
    if age > STALE_HISTORY_MONTHS:
        warnings.append(
            f"STALE PRICE HISTORY: it ends {history_end}, {age} months before the as-of date "
            f"{config.as_of_date}. The forecast starts from that year's price level, widened "
            "by the level's drift over the gap; refresh the history before acting on it."
        )
    return age, warnings


ProgressCallback = Callable[[int, int], None]


def load_price_paths(source: Path | pd.DataFrame | Any, labels: list[str]) -> np.ndarray:
    """User paths (columns scenario, month, price) as a (paths, months) array over the horizon."""
    name = "price paths" if isinstance(source, pd.DataFrame) else Path(source).name
    collector = ProblemCollector(name)
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        try:
            frame = pd.read_csv(Path(source))
        except FileNotFoundError:
            collector.add(None, None, "no such file")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
            collector.add(None, None, "cannot read the price paths as CSV")
        collector.raise_if_any()
    for column in ("scenario", "month", "price"):
        if column not in frame.columns:
            collector.add(None, column, "missing column (need scenario, month, price)")
    collector.raise_if_any()
    if frame.empty:
        collector.add(None, None, "no price paths (no scenarios)")
        collector.raise_if_any()
    price = pd.to_numeric(frame["price"], errors="coerce")
    for pos in np.flatnonzero((price.isna() | ~np.isfinite(price)).to_numpy())[:50]:
        collector.add(
            int(pos) + 1, "price", f"not a number: {str(frame['price'].iloc[pos])[:40]!r}"
        )
    collector.raise_if_any()
    frame = frame.assign(price=price)
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
    labels = config.month_labels
    given = None if config.price_paths is None else load_price_paths(config.price_paths, labels)
    monthly = None
    if config.price_history is not None:
        monthly = load_monthly_history(config.price_history)
    elif given is None:
        monthly = default_price_history()
    history_end = None if monthly is None else str(monthly.index[-1])
    age, warnings = data_age(config, history_end)
    groups = build_groups(contracts, config)
    model = None
    if monthly is not None:
        model = calibrate_prices(monthly).with_sigma(config.price_volatility)
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
    # The price level the hourly shape is scaled to: the model's, else the hourly history's
    # own mean; never the given paths (a month's cost must not depend on other months).
    level = (
        float(np.exp(model.level))
        if model is not None
        else float(hourly.mean())
        if hourly is not None
        else 1.0
    )
    notes = list(approximation_notes(contracts, config))
    notes += [f"FX rate {source}" for source in config.fx_rate_sources]
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
        notes=tuple(notes),
        history_end=history_end,
        history_age_months=age,
        warnings=tuple(warnings),
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
    refuse_non_finite({**per_scenario, **means})
    monthly = monthly_table(labels, per_scenario, means, config.reserve_probability)
    annual = annual_table(
        labels,
        per_scenario["net"],
        means,
        config.reserve_probability,
        config.auction_budget,
        config.reserve_precision,
    )
    return ForecastResult(
        config=config,
        monthly=monthly,
        annual=annual,
        contracts=sum(len(g.contract_ids) for g in plan.groups),
        scenarios=scenarios,
        mode="paths" if plan.given_prices is not None else "stochastic",
        calibration=calibration,
        runtime_s=time.perf_counter() - started,
        scenario_totals=per_scenario["net"],
        notes=list(plan.notes),
        history_end=plan.history_end,
        history_age_months=plan.history_age_months,
        warnings=[*plan.warnings, *extreme_price_warnings(plan, monthly, config)],
    )


def refuse_non_finite(totals: dict[str, np.ndarray]) -> None:
    """A scenario total that is infinite or NaN makes no forecast: refused, naming which."""
    bad = sorted(name for name, values in totals.items() if not np.isfinite(values).all())
    if bad:
        collector = ProblemCollector("forecast result")
        collector.add(
            None,
            ", ".join(bad),
            "not finite: the settings (prices, volatility, energy, rates) carry the numbers "
            "past floating point; lower them",
        )
        collector.raise_if_any()


def extreme_price_warnings(plan: Plan, monthly: pd.DataFrame, config: ForecastConfig) -> list[str]:
    """A loud warning when the price fan's P95 runs far above where the model starts."""
    if plan.model is None or plan.reference_level <= 0:
        return []
    peak = float(monthly["price_p95"].max())
    multiple = peak / plan.reference_level
    if multiple <= EXTREME_PRICE_MULTIPLE:
        return []
    volatility = (
        f"price_volatility {config.price_volatility}"
        if config.price_volatility is not None
        else f"the fitted volatility {plan.model.sigma:.3f}"
    )
    return [
        f"EXTREME PRICE FAN: the P95 price reaches {peak:,.2f}/MWh, {multiple:.1f}× the "
        f"level the model starts from ({plan.reference_level:,.2f}), with {volatility}. "
        "Read it as a stress test, not as a forecast."
    ]


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
    from settlement.price_io import read_profile
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
    profiles = {
        name: read_profile(source, None, name) if isinstance(source, (str, Path)) else source
        for name, source in config.profiles.items()
    }
    # A foreign strike converts at the planning rate, dated the first of each forecast month.
    fx_rates = {
        f"{currency}/{config.currency}": {f"{month}-01": rate for month in config.month_labels}
        for currency, rate in config.fx_rates.items()
    }
    if progress:
        progress(0, 1)
    result = forecast_realised(
        contracts,
        prices,
        meters,
        config,
        tz=config.market_tz,
        fx_rates=fx_rates,
        profiles=profiles,
    )
    if progress:
        progress(1, 1)
    return result
