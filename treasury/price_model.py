"""Monthly price model: seasonal log-level + AR(1) residual with jumps (spikes and crashes).

log P_t = level + season[moy(t)] + x_t,   x_t = phi * x_{t-1} + sigma * e_t + J_t,
J_t ~ Bernoulli(jump_probability) * Normal(jump_mean, jump_sd).

Fitted on monthly means (ESCO balancing prices; or day-ahead means). Georgia's spring-flood
crashes (May 2014: 12 GEL/MWh against ~110) are jumps of the log residual: innovations beyond
`JUMP_THRESHOLD` robust standard deviations are counted as jumps, the rest set sigma.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

JUMP_THRESHOLD = 2.5


@dataclass(frozen=True)
class PriceModel:
    level: float  # log of the price level the forecast starts from (last 12 months)
    season: tuple[float, ...]  # 12 log offsets, mean zero
    phi: float
    sigma: float
    jump_probability: float
    jump_mean: float
    jump_sd: float
    last_month: str  # last month of the history, "YYYY-MM"
    last_residual: float
    months_used: int

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["level_price"] = float(np.exp(self.level))
        return out

    def with_sigma(self, sigma: float | None) -> PriceModel:
        if sigma is None:
            return self
        values = asdict(self)
        values["sigma"] = float(sigma)
        return PriceModel(**values)

    def median_price(self, moy: np.ndarray) -> np.ndarray:
        """Seasonal median price (x = 0) for months of year 1..12."""
        return np.exp(self.level + np.asarray(self.season)[np.asarray(moy) - 1])


def calibrate_prices(monthly: pd.Series) -> PriceModel:
    """Fit the model to consecutive monthly mean prices (PeriodIndex, currency/MWh)."""
    log_price = np.log(monthly.to_numpy(dtype=float))
    moy = pd.PeriodIndex(monthly.index).month.to_numpy()
    n = len(log_price)
    t = np.arange(n, dtype=float)
    # Remove a linear trend before estimating season and noise, so a rising price level is not
    # mistaken for persistence; the forecast then starts from the latest year's level.
    slope, intercept = np.polyfit(t, log_price, 1) if n >= 24 else (0.0, float(log_price.mean()))
    detrended = log_price - (intercept + slope * t)
    season = np.zeros(12)
    if n >= 24:
        for m in range(1, 13):
            season[m - 1] = detrended[moy == m].mean()
        season -= season.mean()
    residual = detrended - season[moy - 1]
    phi, innovations = _ar1(residual)
    scale = 1.4826 * np.median(np.abs(innovations - np.median(innovations)))
    is_jump = np.abs(innovations) > JUMP_THRESHOLD * max(scale, 1e-12)
    normal = innovations[~is_jump]
    sigma = float(normal.std(ddof=1)) if len(normal) > 2 else float(scale)
    jumps = innovations[is_jump]
    last12 = slice(max(0, n - 12), n)
    level = float(np.mean(log_price[last12] - season[moy[last12] - 1]))
    return PriceModel(
        level=level,
        season=tuple(float(s) for s in season),
        phi=phi,
        sigma=sigma,
        jump_probability=float(len(jumps) / len(innovations)),
        jump_mean=float(jumps.mean()) if len(jumps) else 0.0,
        jump_sd=float(jumps.std(ddof=1)) if len(jumps) > 1 else 0.0,
        last_month=str(monthly.index[-1]),
        last_residual=float(log_price[-1] - level - season[moy[-1] - 1]),
        months_used=n,
    )


def _ar1(residual: np.ndarray) -> tuple[float, np.ndarray]:
    """Least-squares AR(1) coefficient (clipped to a stationary range) and its innovations."""
    x_prev, x_next = residual[:-1], residual[1:]
    denominator = float(x_prev @ x_prev)
    phi = float(x_prev @ x_next) / denominator if denominator > 0 else 0.0
    phi = float(np.clip(phi, -0.95, 0.95))
    return phi, x_next - phi * x_prev
