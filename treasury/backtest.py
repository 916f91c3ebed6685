"""Rolling-origin backtest of the monthly price model on its own history.

For each December in the history (from three years in): calibrate on the months up to it,
forecast the next 12 months' price fan, and compare with what happened. Reported per origin and
overall: the share of realised months inside the P5–P95 band (a calibrated 90 % band holds
about 90 %), the bias of the forecast median, and the CRPS (continuous ranked probability
score, in currency/MWh; lower is better) against the naive seasonal forecast "same month last
year", whose CRPS is its absolute error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mzekari.errors import InputError
from treasury.history import load_monthly_history
from treasury.price_model import calibrate_prices
from treasury.simulate import Horizon, draw_normals, simulate_prices

MIN_CALIBRATION_YEARS = 3


def crps_from_samples(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS of each column's sample distribution at the observed value:
    E|X − y| − ½ E|X − X'|, the second term from the sorted samples in O(S log S)."""
    n = samples.shape[0]
    ordered = np.sort(samples, axis=0)
    spread_weights = (2 * np.arange(1, n + 1) - n - 1)[:, None]
    mean_pair_distance = 2 * np.sum(spread_weights * ordered, axis=0) / n**2
    return np.mean(np.abs(samples - observed[None, :]), axis=0) - 0.5 * mean_pair_distance


@dataclass
class BacktestReport:
    months: pd.DataFrame  # one row per forecast month
    by_origin: pd.DataFrame  # one row per origin December, and "all"
    scenarios: int
    history_start: str
    history_end: str

    def text(self) -> str:
        table = self.by_origin.copy()
        table["coverage_p5_p95"] = (100 * table["coverage_p5_p95"]).map("{:.0f} %".format)
        for column in ("bias", "crps", "crps_naive"):
            table[column] = table[column].map("{:,.2f}".format)
        # No skill is defined against a naive forecast that was exact (a repeating history).
        table["skill"] = table["skill"].map(lambda v: "undefined" if v != v else f"{v:+.2f}")
        header = (
            f"Price backtest on {self.history_start}..{self.history_end} (origin: the December "
            f"calibrated to, forecasting the next year), {self.scenarios} "
            "scenarios per origin (currency/MWh; bias = median − realised; skill = 1 − "
            "CRPS / CRPS of the naive seasonal forecast)"
        )
        lines = [header, table.to_string(index=False)]
        lines += [f"WARNING: {warning}" for warning in self.warnings()]
        return "\n".join(lines)

    def warnings(self) -> list[str]:
        undefined = self.by_origin.loc[self.by_origin["skill"].isna(), "origin"].tolist()
        if not undefined:
            return []
        return [
            f"skill undefined for {', '.join(map(str, undefined))}: the naive forecast (same "
            "month last year) was exact there, so there is nothing to beat"
        ]


def _origins(monthly: pd.Series, first_origin: int | None) -> list[int]:
    index = pd.PeriodIndex(monthly.index)
    first = first_origin if first_origin is not None else index[0].year + MIN_CALIBRATION_YEARS - 1
    months = {str(p) for p in index}
    origins = []
    for year in range(first, index[-1].year):
        calibration = index[index <= pd.Period(f"{year}-12", freq="M")]
        if len(calibration) < 24:
            continue
        if all(f"{year + 1}-{m:02d}" in months for m in range(1, 13)) and f"{year}-12" in months:
            origins.append(year)
    if not origins:
        raise InputError(
            f"the history {index[0]}..{index[-1]} has no December with two years before it "
            "and twelve months after it to backtest"
        )
    return origins


def run_backtest(
    history: Path | pd.Series | Any | None,
    *,
    scenarios: int = 2000,
    seed: int = 0,
    first_origin: int | None = None,
) -> BacktestReport:
    from treasury.engine import default_price_history

    monthly = default_price_history() if history is None else load_monthly_history(history)
    rows = []
    for year in _origins(monthly, first_origin):
        fitted = monthly[monthly.index <= pd.Period(f"{year}-12", freq="M")]
        model = calibrate_prices(fitted)
        labels = [f"{year + 1}-{m:02d}" for m in range(1, 13)]
        horizon = Horizon.build(labels, model.last_month)
        price, _ = simulate_prices(model, horizon, draw_normals(seed, 0, scenarios, 12, 0))
        realised = monthly[pd.PeriodIndex(labels, freq="M")].to_numpy(dtype=float)
        naive = monthly[pd.PeriodIndex([f"{year}-{m:02d}" for m in range(1, 13)], freq="M")]
        naive_values = naive.to_numpy(dtype=float)
        q5, q50, q95 = np.quantile(price, [0.05, 0.5, 0.95], axis=0)
        crps = crps_from_samples(price, realised)
        for k, label in enumerate(labels):
            rows.append(
                {
                    "origin": year,
                    "month": label,
                    "realised": realised[k],
                    "p5": q5[k],
                    "p50": q50[k],
                    "p95": q95[k],
                    "naive": naive_values[k],
                    "inside_p5_p95": bool(q5[k] <= realised[k] <= q95[k]),
                    "crps": crps[k],
                    "crps_naive": abs(naive_values[k] - realised[k]),
                }
            )
    months = pd.DataFrame(rows)
    numbers = months.select_dtypes("number")
    bad = [str(c) for c in numbers.columns if not np.isfinite(numbers[c].to_numpy()).all()]
    if bad:
        raise InputError(
            f"the backtest's {', '.join(bad)} are not finite: the history's prices carry the "
            "simulation past floating point"
        )
    return BacktestReport(
        months=months,
        by_origin=_summaries(months),
        scenarios=scenarios,
        history_start=str(monthly.index[0]),
        history_end=str(monthly.index[-1]),
    )


def _summaries(months: pd.DataFrame) -> pd.DataFrame:
    def summary(part: pd.DataFrame, origin: str) -> dict[str, Any]:
        crps, naive = float(part["crps"].mean()), float(part["crps_naive"].mean())
        return {
            "origin": origin,
            "months": len(part),
            "coverage_p5_p95": float(part["inside_p5_p95"].mean()),
            "bias": float((part["p50"] - part["realised"]).mean()),
            "crps": crps,
            "crps_naive": naive,
            "skill": 1 - crps / naive if naive > 0 else float("nan"),
        }

    rows = [summary(part, str(origin)) for origin, part in months.groupby("origin")]
    rows.append(summary(months, "all"))
    return pd.DataFrame(rows)


def write_backtest(report: BacktestReport, out_dir: Path) -> list[Path]:
    """The months, the summary and the chart, all complete or none."""
    from treasury.outputs import write_staged

    return write_staged(Path(out_dir), lambda folder: _render(report, folder))


def _render(report: BacktestReport, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months_path = out_dir / "backtest_months.csv"
    report.months.round(4).to_csv(months_path, index=False)
    summary_path = out_dir / "backtest_summary.csv"
    report.by_origin.round(4).to_csv(summary_path, index=False)
    frame = report.months
    x = np.arange(len(frame))
    fig, ax = plt.subplots(figsize=(12, 5))
    for k, (_, part) in enumerate(frame.groupby("origin")):
        idx = x[part.index.to_numpy()]
        first = k == 0  # one legend entry per kind, not per origin
        ax.fill_between(
            idx,
            part["p5"],
            part["p95"],
            color="#9ecae1",
            linewidth=0,
            label="P5–P95 (forecast)" if first else None,
        )
        ax.plot(idx, part["p50"], color="#08306b", label="P50 (forecast)" if first else None)
    ax.plot(x, frame["realised"], "o", color="#d94801", markersize=4, label="realised")
    ax.plot(x, frame["naive"], ":", color="#555555", label="naive: same month last year")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=4,
        frameon=False,
    )
    step = max(1, len(frame) // 16)
    ax.set_xticks(x[::step], frame["month"][::step], rotation=45, ha="right")
    ax.set_ylabel("reference price, currency per MWh")
    overall = report.by_origin.iloc[-1]
    ax.set_title(
        f"Price backtest: each year forecast from the December before; "
        f"{overall['coverage_p5_p95']:.0%} of months inside P5–P95, "
        f"CRPS {overall['crps']:.1f} vs naive {overall['crps_naive']:.1f}"
    )
    fig.tight_layout()
    chart_path = out_dir / "backtest.png"
    fig.savefig(chart_path, dpi=110)
    plt.close(fig)
    return [months_path, summary_path, chart_path]
