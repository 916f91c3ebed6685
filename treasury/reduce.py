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
    labels: list[str], totals: dict[str, np.ndarray], probability: float
) -> pd.DataFrame:
    frame = pd.DataFrame({"month": labels})
    for name, values in _stats(totals["net"], probability).items():
        frame[name] = values
    frame["payments_out"] = totals["payments_out"].mean(axis=0)
    frame["paybacks_in"] = totals["paybacks_in"].mean(axis=0)
    frame["expected_prices_minus"] = totals["net_minus"].mean(axis=0)
    frame["expected_prices_plus"] = totals["net_plus"].mean(axis=0)
    frame["energy_mwh"] = totals["energy_mwh"].mean(axis=0).round(1)
    frame["excluded_mwh"] = totals["excluded_mwh"].mean(axis=0).round(1)
    frame["price_mean"] = totals["price"].mean(axis=0).round(2)
    frame["price_p5"] = np.quantile(totals["price"], 0.05, axis=0).round(2)
    frame["price_p95"] = np.quantile(totals["price"], 0.95, axis=0).round(2)
    return frame


def annual_table(
    labels: list[str], totals: dict[str, np.ndarray], probability: float, budget: Decimal | None
) -> pd.DataFrame:
    """Calendar years; a scenario's year is the sum of its months, so quantiles are of sums."""
    years = np.array([label[:4] for label in labels])
    rows = []
    for year in sorted(set(years)):
        cols = years == year
        yearly = {
            name: values[:, cols].sum(axis=1) for name, values in totals.items() if name != "price"
        }
        stats = _stats(yearly["net"][:, None], probability)
        row: dict[str, object] = {"year": int(year), "months": int(cols.sum())}
        row.update({name: float(value[0]) for name, value in stats.items()})
        row["payments_out"] = float(yearly["payments_out"].mean())
        row["paybacks_in"] = float(yearly["paybacks_in"].mean())
        row["expected_prices_minus"] = float(yearly["net_minus"].mean())
        row["expected_prices_plus"] = float(yearly["net_plus"].mean())
        row["energy_mwh"] = round(float(yearly["energy_mwh"].mean()), 1)
        if budget is not None:
            # A budget is per year; a part year at either end of the horizon gets its share.
            share = float(budget) * cols.sum() / 12
            row["budget"] = share
            row["headroom_expected"] = share - float(stats["expected"][0])
            row["headroom_p95"] = share - float(stats["p95"][0])
        rows.append(row)
    return pd.DataFrame(rows)
