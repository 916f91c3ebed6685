"""Meter data: energy per contract per interval, validated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MeterData:
    """Sorted by (contract_id, start); energy in whole kWh."""

    source: str
    contract_ids: tuple[str, ...]
    contract_index: np.ndarray
    starts_utc_ns: np.ndarray
    energy_kwh: np.ndarray
    resolution_s: int

    @classmethod
    def from_frame(cls, df: Any, source: str) -> MeterData:
        raise NotImplementedError


def read_meters_text(text: str, source: str = "meters.csv", contracts: Any = None) -> MeterData:
    raise NotImplementedError


def read_meters(path: str | Path, contracts: Any = None) -> MeterData:
    raise NotImplementedError
