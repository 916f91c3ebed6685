"""Seeded hourly generation for the demo, by technology, scaled to each award's annual MWh.

The shapes are simple and stated, not measured: solar follows the sun's day length at
Georgia's latitude (about 41.7° N) with daily cloudiness; wind is a smoothed random series,
stronger in winter; run-of-river hydro follows the snow-melt season (peak May–June); `other`
(biomass, biogas) runs near flat.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from mzekari.vocabulary import MARKET_TZ

TZ = MARKET_TZ
# Monthly run-of-river factors relative to the annual mean (snow-melt peak in May–June).
HYDRO_SEASON = np.array([0.55, 0.55, 0.75, 1.20, 1.75, 1.70, 1.30, 0.95, 0.80, 0.80, 0.85, 0.80])
WIND_SEASON = np.array([1.25, 1.25, 1.15, 1.0, 0.85, 0.8, 0.85, 0.85, 0.9, 1.0, 1.1, 1.2])
LATITUDE_RAD = np.deg2rad(41.7)


def hours_of_year(year: int) -> pd.DatetimeIndex:
    start = pd.Timestamp(f"{year}-01-01", tz=TZ)
    return pd.date_range(start, start + pd.offsets.YearBegin(1), freq="h", inclusive="left")


def _solar(hours: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    day = hours.day_of_year.to_numpy()
    declination = np.deg2rad(23.44) * np.sin(2 * np.pi * (284 + day) / 365)
    day_length_h = 24 / np.pi * np.arccos(-np.tan(LATITUDE_RAD) * np.tan(declination))
    # Solar noon in Tbilisi (UTC+4, 44.8° E) is about 13:00 local time.
    from_noon = hours.hour.to_numpy() + 0.5 - 13.0
    shape = np.cos(np.pi * from_noon / day_length_h).clip(min=0)
    shape[np.abs(from_noon) > day_length_h / 2] = 0
    cloud = rng.uniform(0.35, 1.0, size=len(np.unique(day)))
    return np.asarray(shape * cloud[day - day.min()])


def _wind(hours: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    noise = rng.normal(size=len(hours))
    series = np.empty(len(hours))
    level = 0.0
    for i, shock in enumerate(noise):  # AR(1): wind speed changes over hours, not instantly
        level = 0.97 * level + 0.25 * shock
        series[i] = level
    speed = np.exp(0.5 * series) * WIND_SEASON[hours.month.to_numpy() - 1]
    return np.asarray(np.clip(speed**3, 0, np.quantile(speed**3, 0.97)))


def _hydro(hours: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    daily = rng.normal(1.0, 0.08, size=366)[hours.day_of_year.to_numpy() - 1]
    return np.asarray(HYDRO_SEASON[hours.month.to_numpy() - 1] * daily.clip(min=0.5))


def _other(hours: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    return np.asarray(rng.uniform(0.85, 1.0, size=len(hours)))


SHAPES = {"solar": _solar, "wind": _wind, "hydro": _hydro, "other": _other}


def generation_kwh(
    technology: str, capacity_mw: Decimal, annual_mwh: Decimal, hours: pd.DatetimeIndex, seed: int
) -> np.ndarray:
    """Whole kWh per hour: the shape scaled to `annual_mwh`, never above capacity × 1 h."""
    rng = np.random.default_rng(seed)
    shape = SHAPES.get(technology, _other)(hours, rng)
    cap_kwh = float(capacity_mw) * 1000
    energy = shape / shape.sum() * float(annual_mwh) * 1000
    for _ in range(5):  # redistribute what the capacity cap clips off
        clipped = np.minimum(energy, cap_kwh)
        missing = float(annual_mwh) * 1000 - clipped.sum()
        room = cap_kwh - clipped
        if missing <= 1 or room.sum() <= 0:
            break
        energy = clipped + room / room.sum() * missing
    return np.floor(np.minimum(energy, cap_kwh)).astype(np.int64)
