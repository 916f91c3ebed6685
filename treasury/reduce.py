"""From per-scenario monthly totals to the treasury's tables: statistics per month and per year."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd


def _stats(net: np.ndarray, probability: float) -> dict[str, np.ndarray]:
    """Statistics over scenarios (axis 0); exact quantiles from all scenario totals."""
    q = np.quantile(net, [0.05, 0.50, 0.95, probability], axis=0)
    return {"expected": net.mean(axis=0), "p5": q[0], "p50": q[1], "p95": q[2], "reserve": q[3]}


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
    frame["price_p5"] = np.quantile(price, 0.05, axis=0).round(2)
    frame["price_p95"] = np.quantile(price, 0.95, axis=0).round(2)
    return frame


def annual_table(
    labels: list[str],
    net: np.ndarray,
    means: dict[str, np.ndarray],
    probability: float,
    budget: Decimal | None,
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
        rows.append(row)
    return pd.DataFrame(rows)
