"""Shared fixtures of the treasury tests: the committed Georgian scenario and small portfolios."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from settlement import Contract

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "treasury_georgia"
PRICES = ROOT / "scenarios" / "prices"


def contract(
    cid: str,
    scheme: str = "cfd",
    price: str = "150.00",
    capacity_mw: str = "10",
    start: date = date(2020, 1, 1),
    end: date = date(2045, 12, 31),
    **rules: object,
) -> Contract:
    return Contract(
        contract_id=cid,
        producer=f"producer of {cid}",
        scheme=scheme,
        price=Decimal(price),
        currency="GEL",
        start=start,
        end=end,
        capacity_mw=Decimal(capacity_mw),
        **rules,
    )  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def hourly_2025() -> pd.Series:
    """Real hourly day-ahead prices (DE-LU 2025, scenarios/prices), naive local hour starts."""
    frame = pd.read_csv(PRICES / "de_lu_day_ahead_2025.csv").dropna()
    # The text before the UTC offset is the local wall-clock hour.
    return pd.Series(
        frame["price"].to_numpy(),
        index=pd.DatetimeIndex(pd.to_datetime(frame["timestamp"].str.slice(0, 19))),
    )


@pytest.fixture(scope="session")
def esco_history() -> Path:
    return PRICES / "ge_esco_balancing_monthly.csv"
