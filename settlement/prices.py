"""Price series (interval or monthly) and their importers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class PriceSeries:
    """Prices of one named series: int64 hundredths per MWh at UTC interval starts (ns)."""

    series: str
    source: str
    currency: str | None
    resolution: str  # "15min" | "60min" | "monthly"
    starts_utc_ns: np.ndarray
    price_hundredths: np.ndarray
    months: tuple[str, ...] = ()

    @classmethod
    def from_frame(cls, df: Any, series: str, source: str) -> PriceSeries:
        raise NotImplementedError


def read_prices_text(text: str, series: str = "dam", source: str = "prices.csv") -> PriceSeries:
    raise NotImplementedError


def read_prices(
    path: str | Path, series: str = "dam", fmt: str = "auto"
) -> PriceSeries | dict[str, PriceSeries]:
    raise NotImplementedError


def monthly_reference_prices(
    prices: PriceSeries, tz: str, weights: Any = None
) -> list[tuple[str, Any]]:
    raise NotImplementedError
