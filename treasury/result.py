"""The forecast's answer: monthly and annual tables, a JSON summary, files on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from mzekari.money import D, round_money
from treasury.config import ForecastConfig

# Columns that hold money (currency per month or per year); rounded to the minor unit on output.
MONEY_COLUMNS = (
    "expected",
    "p5",
    "p50",
    "p95",
    "payments_out",
    "paybacks_in",
    "reserve",
    "expected_prices_minus",
    "expected_prices_plus",
    "budget",
    "headroom_expected",
    "headroom_p95",
    "headroom_reserve",
    "expected_se",
    "reserve_se",
    "reserve_precision",
)


def money_text(value: float | Decimal | None, currency: str) -> str | None:
    """A forecast statistic rounded half-up to the minor unit, as text (no float leaves here)."""
    if value is None:
        return None
    exact = value if isinstance(value, Decimal) else D(repr(float(value)))
    return str(round_money(exact, currency))


@dataclass
class ForecastResult:
    """Forecast of support cost. Positive = the counterparty pays producers (settlement.md)."""

    config: ForecastConfig
    monthly: pd.DataFrame
    annual: pd.DataFrame
    contracts: int
    scenarios: int
    mode: str  # "stochastic", "paths" or "exact"
    calibration: dict[str, Any] = field(default_factory=dict)
    runtime_s: float = 0.0
    # Scenario totals per month (scenarios × months), kept for the fan chart.
    scenario_totals: Any = None
    notes: list[str] = field(default_factory=list)
    history_end: str | None = None  # last month of the price history the model is fitted on
    history_age_months: int | None = None
    warnings: list[str] = field(default_factory=list)  # stale data: said on every output

    @property
    def as_of(self) -> str:
        return self.config.as_of_date.isoformat()

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable: money as text with two decimals, everything else plain."""
        return {
            "mode": self.mode,
            "as_of": self.as_of,
            "history_end": self.history_end,
            "history_age_months": self.history_age_months,
            "warnings": self.warnings,
            "currency": self.config.currency,
            "start_month": self.config.start_month,
            "months": self.config.months,
            "scenarios": self.scenarios,
            "contracts": self.contracts,
            "seed": self.config.seed,
            "reserve_probability": self.config.reserve_probability,
            "runtime_s": round(self.runtime_s, 3),
            "calibration": self.calibration,
            "notes": self.notes,
            "monthly": _records(self.monthly, self.config.currency),
            "annual": _records(self.annual, self.config.currency),
        }

    def write(self, out_dir: Path) -> list[Path]:
        """Write CSV tables, PNG charts and an interactive HTML page, all complete or none;
        returns the paths written."""
        from treasury.outputs import write_staged

        return write_staged(Path(out_dir), self._render)

    def _render(self, folder: Path) -> list[Path]:
        from treasury.charts import write_charts

        written = []
        for name, frame in (
            ("forecast_monthly.csv", self.monthly),
            ("forecast_annual.csv", self.annual),
        ):
            path = folder / name
            table = _as_text(frame, self.config.currency)
            # Every file says when it was made from what: as-of date, history end, warnings.
            table["as_of"] = self.as_of
            table["history_end"] = self.history_end
            table["warning"] = " | ".join(self.warnings) or None
            table.to_csv(path, index=False)
            written.append(path)
        written.extend(write_charts(self, folder))
        return written


def _as_text(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    out = frame.copy().astype(object)
    for column in MONEY_COLUMNS:
        if column in out:
            out[column] = [None if _missing(v) else money_text(v, currency) for v in out[column]]
    return out


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _records(frame: pd.DataFrame, currency: str) -> list[dict[str, Any]]:
    rows = []
    for record in _as_text(frame, currency).to_dict(orient="records"):
        rows.append({str(k): (v.item() if hasattr(v, "item") else v) for k, v in record.items()})
    return rows
