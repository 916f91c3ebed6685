"""Generation by technology: monthly capacity factors with weather noise correlated with price.

CF[s, m] = clip(mean_cf[moy] * exp(sigma * zeta - sigma**2 / 2), 0, 1),
zeta = rho * e_price + sqrt(1 - rho**2) * eta, with e_price the month's standardised price
innovation (noise plus jumps, so a flood crash is a wet month). A negative rho (hydro)
makes wet months cheap months: Georgia's spring flood (April-July) is when the ESCO price
crashes, which lowers the value of the energy a hydro CfD produces and raises its support
(the capture-price effect).

The default monthly means are stylised for Georgia (hydro flood peaking in May-June, solar
summer peak at ~42°N, winter-peaking wind) and can be replaced per technology in the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_CAPACITY_FACTORS: dict[str, tuple[float, ...]] = {
    "hydro": (0.30, 0.28, 0.36, 0.55, 0.78, 0.82, 0.68, 0.50, 0.40, 0.36, 0.33, 0.31),
    "solar": (0.08, 0.11, 0.15, 0.18, 0.21, 0.23, 0.24, 0.22, 0.18, 0.13, 0.09, 0.07),
    "wind": (0.38, 0.36, 0.33, 0.28, 0.24, 0.22, 0.22, 0.23, 0.26, 0.30, 0.34, 0.38),
    "other": (0.50,) * 12,
}
DEFAULT_VOLATILITY = {"hydro": 0.15, "solar": 0.08, "wind": 0.12, "other": 0.05}
DEFAULT_CORRELATION = {"hydro": -0.5, "solar": -0.1, "wind": -0.2, "other": 0.0}
LATITUDE_DEG = 41.7  # Tbilisi


@dataclass(frozen=True)
class GenerationModel:
    technologies: tuple[str, ...]
    capacity_factors: np.ndarray  # (tech, 12)
    volatility: np.ndarray  # (tech,)
    correlation: np.ndarray  # (tech,)

    @classmethod
    def build(
        cls,
        technologies: tuple[str, ...],
        capacity_factors: dict[str, list[float]],
        volatility: dict[str, float],
        correlation: dict[str, float],
    ) -> GenerationModel:
        cf = np.array([capacity_factors.get(t, DEFAULT_CAPACITY_FACTORS[t]) for t in technologies])
        sigma = np.array([volatility.get(t, DEFAULT_VOLATILITY[t]) for t in technologies])
        rho = np.array([correlation.get(t, DEFAULT_CORRELATION[t]) for t in technologies])
        return cls(technologies, cf.reshape(len(technologies), 12), sigma, rho)

    def capacity_factor(
        self, moy: np.ndarray, price_shock: np.ndarray, weather: np.ndarray
    ) -> np.ndarray:
        """(tech, S, M) capacity factors; price_shock (S, M), weather (T, S, M) standard normal."""
        rho = self.correlation[:, None, None]
        sigma = self.volatility[:, None, None]
        zeta = rho * price_shock[None] + np.sqrt(1.0 - rho**2) * weather
        mean = self.capacity_factors[:, moy - 1][:, None, :]
        return np.clip(mean * np.exp(sigma * zeta - 0.5 * sigma**2), 0.0, 1.0)


def hourly_profile(technology: str, stamps: pd.DatetimeIndex) -> np.ndarray:
    """Relative hourly output used to weight prices within a month.

    Solar follows the clear-sky sine of the sun's elevation; wind, hydro and other are flat
    (no hourly data for Georgia: their capture effect enters through the monthly correlation).
    """
    if technology != "solar":
        return np.ones(len(stamps))
    day = stamps.day_of_year.to_numpy()
    hour = stamps.hour.to_numpy() + 0.5
    declination = np.radians(23.44) * np.sin(2 * np.pi * (284 + day) / 365)
    hour_angle = np.radians(15.0 * (hour - 12.5))
    lat = np.radians(LATITUDE_DEG)
    elevation = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(
        hour_angle
    )
    return np.maximum(elevation, 0.0)
