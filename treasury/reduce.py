"""From per-scenario monthly totals to the treasury's tables: statistics per month and per year,
each estimate with its Monte Carlo standard error."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

DEFAULT_RELATIVE_PRECISION = 0.01  # reserve known to 1 % unless a precision is asked for


def quantile_standard_error(values: np.ndarray, probability: float) -> np.ndarray:
    """Distribution-free standard error of the sample p-quantile over axis 0: half the distance
    between the order statistics n·p ± sqrt(n·p·(1−p)) (the binomial ±1 sd interval)."""
    n = values.shape[0]
    if n < 2:
        return np.zeros(values.shape[1:])
    half = np.sqrt(n * probability * (1 - probability))
    lo = int(np.clip(np.floor(n * probability - half), 0, n - 1))
    hi = int(np.clip(np.ceil(n * probability + half), 0, n - 1))
    ordered = np.partition(values, (lo, hi), axis=0)
    return (ordered[hi] - ordered[lo]) / 2


def _stats(net: np.ndarray, probability: float) -> dict[str, np.ndarray]:
    """Statistics over scenarios (axis 0); exact quantiles from all scenario totals."""
    q = np.quantile(net, [0.05, 0.50, 0.95, probability], axis=0)
    n = net.shape[0]
    return {
        "expected": net.mean(axis=0),
        "p5": q[0],
        "p50": q[1],
        "p95": q[2],
        "reserve": q[3],
        "expected_se": net.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(net.shape[1]),
        "reserve_se": quantile_standard_error(net, probability),
    }


def monthly_table(
    labels: list[str],
    per_scenario: dict[str, np.ndarray],
    means: dict[str, np.ndarray],
    probability: float,
) -> pd.DataFrame:
    """Per month: net-cost statistics over scenarios; means of the other totals."""
    frame = pd.DataFrame({"month": labels})
    for name, values in _stats(per_scenario["net"], probability).items():
        frame[name] = values
    frame["payments_out"] = means["payments_out"]
    frame["paybacks_in"] = means["paybacks_in"]
    frame["expected_prices_minus"] = means["net_minus"]
    frame["expected_prices_plus"] = means["net_plus"]
    frame["energy_mwh"] = means["energy_mwh"].round(1)
    frame["excluded_mwh"] = means["excluded_mwh"].round(1)
    price = per_scenario["price"]
    frame["price_mean"] = price.mean(axis=0).round(2)
    for name, q in (("price_p5", 0.05), ("price_p50", 0.50), ("price_p95", 0.95)):
        frame[name] = np.quantile(price, q, axis=0).round(2)
    return frame


def scenarios_needed(scenarios: int, standard_error: float, target: float) -> int:
    """Scenarios for a standard error of `target` (the error shrinks as 1/sqrt(n))."""
    if target <= 0 or standard_error <= 0:
        return scenarios
    return int(np.ceil(scenarios * (standard_error / target) ** 2))


def annual_table(
    labels: list[str],
    net: np.ndarray,
    means: dict[str, np.ndarray],
    probability: float,
    budget: Decimal | None,
    precision: Decimal | None = None,
) -> pd.DataFrame:
    """Calendar years; a scenario's year is the sum of its months, so quantiles are of sums
    (and a mean of sums is the sum of the monthly means)."""
    years = np.array([label[:4] for label in labels])
    rows = []
    for year in sorted(set(years)):
        cols = years == year
        stats = _stats(net[:, cols].sum(axis=1)[:, None], probability)
        row: dict[str, object] = {"year": int(year), "months": int(cols.sum())}
        row.update({name: float(value[0]) for name, value in stats.items()})
        reserve, reserve_se = float(stats["reserve"][0]), float(stats["reserve_se"][0])
        target = (
            float(precision) if precision is not None else DEFAULT_RELATIVE_PRECISION * abs(reserve)
        )
        row["reserve_precision"] = target
        row["scenarios_needed"] = scenarios_needed(net.shape[0], reserve_se, target)
        row["payments_out"] = float(means["payments_out"][cols].sum())
        row["paybacks_in"] = float(means["paybacks_in"][cols].sum())
        row["expected_prices_minus"] = float(means["net_minus"][cols].sum())
        row["expected_prices_plus"] = float(means["net_plus"][cols].sum())
        row["energy_mwh"] = round(float(means["energy_mwh"][cols].sum()), 1)
        if budget is not None:
            # A budget is per year; a part year at either end of the horizon gets its share.
            share = float(budget) * cols.sum() / 12
            row["budget"] = share
            row["headroom_expected"] = share - float(stats["expected"][0])
            row["headroom_p95"] = share - float(stats["p95"][0])
            row["headroom_reserve"] = share - reserve
        rows.append(row)
    return pd.DataFrame(rows)
