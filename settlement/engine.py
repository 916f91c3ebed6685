"""Settling one month for many contracts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settlement.meters import MeterData
from settlement.model import Contract, Line, Statement
from settlement.prices import PriceSeries


@dataclass(frozen=True)
class Settlement:
    month: str
    lines: list[Line]
    statements: list[Statement]

    def write(self, out_dir: str | Path) -> None:
        raise NotImplementedError


def settle_month(
    contracts: Sequence[Contract],
    prices: Mapping[str, PriceSeries],
    meters: MeterData,
    month: str,
    *,
    tz: str = "Asia/Tbilisi",
    posted_lines: Sequence[Line] = (),
    fx_rates: Any = None,
    cpi: Any = None,
    profiles: Any = None,
) -> Settlement:
    raise NotImplementedError
