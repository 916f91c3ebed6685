"""Small builders for settlement tests: month grids, price series, meter data, contracts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from settlement import Contract, MeterData, PriceSeries, contracts_from_records

TZ = "Asia/Tbilisi"


def grid(start: str, periods: int, freq: str = "h", tz: str = TZ) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start, tz=tz), periods=periods, freq=freq)


def month_grid(month: str, freq: str = "h", tz: str = TZ) -> pd.DatetimeIndex:
    start = pd.Timestamp(f"{month}-01", tz=tz)
    end = start + pd.offsets.MonthBegin(1)
    return pd.date_range(start, end, freq=freq, inclusive="left")


def prices(index: pd.DatetimeIndex, values: Sequence[Any], name: str = "dam") -> PriceSeries:
    frame = pd.DataFrame({"timestamp": index, "price": [str(v) for v in values]})
    return PriceSeries.from_frame(frame, name, f"{name}.csv")


def meters(
    parts: dict[str, tuple[pd.DatetimeIndex, Sequence[int]]],
    extra: dict[str, dict[str, Sequence[int]]] | None = None,
) -> MeterData:
    frames = []
    for cid, (index, energy) in parts.items():
        frame = pd.DataFrame(
            {
                "contract_id": cid,
                "timestamp": index,
                "energy_kwh": pd.array(list(energy), dtype="int64"),
            }
        )
        for column, values in (extra or {}).get(cid, {}).items():
            frame[column] = pd.array(list(values), dtype="int64")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True).fillna(0)
    for column in ("curtailed_kwh", "go_kwh"):
        if column in frame:
            frame[column] = frame[column].astype("int64")
    return MeterData.from_frame(frame, "meters.csv")


def contract(**fields: Any) -> Contract:
    record = dict(
        contract_id="C1",
        producer="P1",
        scheme="cfd",
        price="60",
        currency="GEL",
        start="2025-06-30",
        end="2030-12-31",
        capacity_mw="5",
    )
    record.update({k: (v if isinstance(v, str) else str(v)) for k, v in fields.items()})
    return contracts_from_records([record])[0]


def lines_by_kind(settlement: Any, contract_id: str = "C1") -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for line in settlement.lines:
        if line.contract_id == contract_id:
            out.setdefault(line.kind, []).append(line)
    return out
