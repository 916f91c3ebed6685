"""Monthly price model: a wandering level, a robust season, an AR(1) residual, seasonal crashes.

log P_t = L_t + season[moy(t)] + x_t + C_t
L_t   = L_{t-1} + level_sd / sqrt(12) * eta_t          (the price level drifts year to year)
x_t   = phi * x_{t-1} + sigma * e_t                    (months deviate, and deviations persist)
C_t   = crash size drawn from the history's own crashes, with probability crash_probability[moy]

Fitted on monthly means (ESCO balancing prices; or day-ahead means). Georgia's spring flood
crashes the price in some years (May 2014: 11.7 GEL/MWh against ~110). A crash is a month
below half its year's median price; it is counted only in the calendar months it
happened, sized from the crashes seen (so the tail cannot outgrow the history), and kept out of
the season (medians, not means), out of the AR(1) fit and out of the level: a crash is one
month's event and is not counted twice. The level starts from the last year's median and, when
the history is old, wanders over the months between its end and the forecast, so stale data
widens the forecast instead of pinning it to an old level.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

CRASH_LOG = float(np.log(0.5))  # a crash: below half the month's seasonal median


@dataclass(frozen=True)
class PriceModel:
    level: float  # log of the price level the forecast starts from (last 12 months' median)
    season: tuple[float, ...]  # 12 log offsets (medians by calendar month), mean zero
    phi: float
    sigma: float
    level_sd: float  # sd of the level's change over a year (log)
    crash_probability: tuple[float, ...]  # 12: share of years whose month crashed
    crash_sizes: tuple[float, ...]  # log residuals of the history's crash months
    last_month: str  # last month of the history, "YYYY-MM"
    last_residual: float  # AR(1) state at the last month (a crash month's state is predicted)
    months_used: int

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["level_price"] = float(np.exp(self.level))
        return out

    def with_sigma(self, sigma: float | None) -> PriceModel:
        """Override the monthly volatility; 0 also removes crashes and level drift (a
        deterministic price path at the seasonal median)."""
        if sigma is None:
            return self
        if sigma == 0:
            return replace(
                self,
                sigma=0.0,
                level_sd=0.0,
                crash_probability=(0.0,) * 12,
                crash_sizes=(),
                last_residual=0.0,
            )
        return replace(self, sigma=float(sigma))

    def median_price(self, moy: np.ndarray) -> np.ndarray:
        """Seasonal median price (x = 0, no crash) for months of year 1..12."""
        return np.exp(self.level + np.asarray(self.season)[np.asarray(moy) - 1])

    def crash_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the crash term C per calendar month (12,)."""
        p = np.asarray(self.crash_probability)
        sizes = np.asarray(self.crash_sizes) if self.crash_sizes else np.zeros(1)
        mean = p * sizes.mean()
        second = p * np.mean(sizes**2)
        return mean, second - mean**2

    def stationary_sd(self) -> float:
        return float(self.sigma / np.sqrt(1.0 - self.phi**2))


def calibrate_prices(monthly: pd.Series) -> PriceModel:
    """Fit the model to consecutive monthly mean prices (PeriodIndex, currency/MWh)."""
    log_price = np.log(monthly.to_numpy(dtype=float))
    moy = pd.PeriodIndex(monthly.index).month.to_numpy()
    n = len(log_price)
    t = np.arange(n, dtype=float)
    fit_season = n >= 24
    # A robust trend (Theil-Sen slope through each year's median) so crashes do not tilt it.
    if fit_season:
        slope = _theil_sen_slope(t, log_price)
        intercept = float(np.median(log_price - slope * t))
    else:
        slope, intercept = 0.0, float(np.median(log_price))
    detrended = log_price - (intercept + slope * t)
    years = pd.PeriodIndex(monthly.index).year.to_numpy()
    # A crash is a month below half its year's median: found before the season is fitted, so
    # a short history where most Mays crashed still learns what a normal May is.
    year_median = pd.Series(detrended).groupby(years).transform("median").to_numpy()
    crash = detrended - year_median < CRASH_LOG
    season = np.zeros(12)
    if fit_season:
        for m in range(1, 13):
            normal = (moy == m) & ~crash
            season[m - 1] = np.median(detrended[normal if normal.any() else moy == m])
        season -= season.mean()
    residual = detrended - season[moy - 1]
    residual -= np.median(residual[~crash])
    phi, sigma = _ar1_without(residual, crash)
    crash_probability = np.zeros(12)
    if fit_season:
        for m in range(1, 13):
            months = moy == m
            crash_probability[m - 1] = crash[months].sum() / months.sum()
    last12 = slice(max(0, n - 12), n)
    level = float(np.median(log_price[last12] - season[moy[last12] - 1]))
    return PriceModel(
        level=level,
        season=tuple(float(s) for s in season),
        phi=phi,
        sigma=sigma,
        level_sd=_level_sd(residual[~crash], years[~crash], phi, sigma) if fit_season else 0.0,
        crash_probability=tuple(float(p) for p in crash_probability),
        crash_sizes=tuple(float(r) for r in residual[crash]),
        last_month=str(monthly.index[-1]),
        last_residual=_last_state(log_price, moy, crash, season, level, phi),
        months_used=n,
    )


def _theil_sen_slope(t: np.ndarray, y: np.ndarray) -> float:
    """Median of the pairwise slopes between months twelve or more apart (same season mix)."""
    i, j = np.triu_indices(len(t), k=12)
    return float(np.median((y[j] - y[i]) / (t[j] - t[i])))


def _ar1_without(residual: np.ndarray, crash: np.ndarray) -> tuple[float, float]:
    """Least-squares AR(1) on consecutive pairs with no crash month (clipped to a stationary
    range) and the sd of its innovations."""
    keep = ~crash[:-1] & ~crash[1:]
    x_prev, x_next = residual[:-1][keep], residual[1:][keep]
    denominator = float(x_prev @ x_prev)
    phi = float(x_prev @ x_next) / denominator if denominator > 0 else 0.0
    phi = float(np.clip(phi, -0.95, 0.95))
    innovations = x_next - phi * x_prev
    sigma = float(innovations.std(ddof=1)) if len(innovations) > 2 else 0.0
    return phi, sigma


def _level_sd(residual: np.ndarray, years: np.ndarray, phi: float, sigma: float) -> float:
    """Sd of the year-to-year change of the residual's yearly mean, less what the monthly
    AR(1) noise alone gives such a change (so the two are not counted twice)."""
    means = pd.Series(residual).groupby(years).mean()
    if len(means) < 3:
        return 0.0
    observed = float(np.var(np.diff(means.to_numpy()), ddof=1))
    # Variance of a 12-month mean of an AR(1) with innovation sd sigma, twice for a difference.
    noise = 2 * sigma**2 / (1 - phi) ** 2 / 12
    return float(np.sqrt(max(observed - noise, 0.0)))


def _last_state(
    log_price: np.ndarray,
    moy: np.ndarray,
    crash: np.ndarray,
    season: np.ndarray,
    level: float,
    phi: float,
) -> float:
    """The AR(1) state at the history's end, relative to the starting level; a crash month
    carries the state of the last normal month forward."""
    state = log_price - level - season[moy - 1]
    normal = np.flatnonzero(~crash)
    if len(normal) == 0:
        return 0.0
    last = int(normal[-1])
    return float(state[last] * phi ** (len(state) - 1 - last))
