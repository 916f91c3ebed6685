"""Meter data: energy per contract per interval (whole kWh), validated and sorted.

Columns: `contract_id, timestamp, energy_kwh`, optionally `curtailed_kwh` (energy the system
operator curtailed, Art. 16) and `go_kwh` (energy that also earned guarantees of origin).
One resolution (15 or 60 min) per file. Rows keep their 1-based file row for error messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from mzekari.errors import InputError, ProblemCollector
from mzekari.months import NS_PER_S
from settlement.model import Contract
from settlement.tables import (
    MAX_REPORTED,
    TIMESTAMP_HINT,
    UTC_NS,
    WHOLE_KWH,
    Column,
    Source,
    int64s,
    read_table,
    timestamps_utc_ns,
)

OPTIONAL = ("curtailed_kwh", "go_kwh")
COLUMNS = {
    "contract_id": Column(pa.dictionary(pa.int32(), pa.string()), expect="a contract id"),
    "timestamp": Column(UTC_NS, expect=TIMESTAMP_HINT),
    "energy_kwh": Column(pa.int64(), expect=WHOLE_KWH),
    "curtailed_kwh": Column(pa.int64(), required=False, expect=WHOLE_KWH),
    "go_kwh": Column(pa.int64(), required=False, expect=WHOLE_KWH),
}

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, eq=False)
class MeterData:
    """Sorted by (contract, start). `offsets[i]:offsets[i+1]` are contract i's rows."""

    source: str
    contract_ids: tuple[str, ...]
    contract_index: np.ndarray  # int64 code into contract_ids
    starts_utc_ns: np.ndarray  # int64
    energy_kwh: np.ndarray  # int64
    resolution_s: int
    rows: np.ndarray  # int64, 1-based data row in the source
    curtailed_kwh: np.ndarray | None = None
    go_kwh: np.ndarray | None = None

    @cached_property
    def offsets(self) -> np.ndarray:
        return np.searchsorted(self.contract_index, np.arange(len(self.contract_ids) + 1))

    @cached_property
    def code_of(self) -> dict[str, int]:
        return {cid: code for code, cid in enumerate(self.contract_ids)}

    def rows_of(self, contract_id: str) -> slice:
        code = self.code_of.get(contract_id)
        if code is None:
            return slice(0, 0)
        off = self.offsets
        return slice(int(off[code]), int(off[code + 1]))

    def subset(self, contract_ids: Sequence[str]) -> MeterData:
        """The rows of some contracts only (file rows kept for messages)."""
        ids = tuple(sorted(cid for cid in set(contract_ids) if cid in self.code_of))
        parts = [np.arange(self.rows_of(cid).start, self.rows_of(cid).stop) for cid in ids]
        pick = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        codes = np.repeat(np.arange(len(ids)), [len(p) for p in parts])

        def cut(arr: np.ndarray | None) -> np.ndarray | None:
            return None if arr is None else arr[pick]

        return MeterData(
            self.source,
            ids,
            codes,
            self.starts_utc_ns[pick],
            self.energy_kwh[pick],
            self.resolution_s,
            self.rows[pick],
            cut(self.curtailed_kwh),
            cut(self.go_kwh),
        )

    @classmethod
    def from_frame(
        cls, df: pd.DataFrame, source: str, contracts: Sequence[Contract] | None = None
    ) -> MeterData:
        """From a DataFrame: contract_id (str), timestamp (tz-aware), energy_kwh (integers)."""
        import pandas as pd

        problems = ProblemCollector(source)
        for col in ("contract_id", "timestamp", "energy_kwh"):
            if col not in df.columns:
                raise InputError(f"{source}: missing column {col!r}")
        ts = df["timestamp"]
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            starts = pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ns").asi8.copy()
        else:
            starts = timestamps_utc_ns(ts.astype(str).to_numpy(), problems, "timestamp")
        columns = {"energy_kwh": _kwh(df["energy_kwh"], problems, "energy_kwh")}
        for col in OPTIONAL:
            if col in df.columns:
                columns[col] = _kwh(df[col], problems, col)
        codes, uniques = pd.factorize(df["contract_id"].astype(str), sort=True)
        problems.raise_if_any()
        return _build(
            source,
            np.asarray(codes, dtype=np.int64),
            tuple(str(u) for u in uniques),
            starts,
            columns,
            contracts,
        )


def _kwh(values: pd.Series, problems: ProblemCollector, field: str) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_integer_dtype(values.dtype):
        arr = values.to_numpy(dtype=np.int64)
    else:
        text = values.astype("string").str.strip()
        good = text.str.match(r"^-?[0-9]+$", na=False).to_numpy(dtype=bool)
        for i in np.nonzero(~good)[0][:20]:
            problems.add(int(i) + 1, field, f"{text.iloc[i]!r} is not a whole number of kWh")
        arr = pd.to_numeric(text.where(good, "0")).to_numpy(dtype=np.int64)
    for i in np.nonzero(arr < 0)[0][:20]:
        problems.add(int(i) + 1, field, f"negative energy {arr[i]} kWh")
    return arr


def _build(
    source: str,
    codes: np.ndarray,
    ids: tuple[str, ...],
    starts: np.ndarray,
    columns: dict[str, np.ndarray],
    contracts: Sequence[Contract] | None,
) -> MeterData:
    problems = ProblemCollector(source)
    rows = np.arange(1, len(codes) + 1, dtype=np.int64)
    if len(codes) == 0:
        raise InputError(f"{source}: no meter rows")
    dcode, step = np.diff(codes), np.diff(starts)
    if not (bool((dcode >= 0).all()) and bool(((dcode > 0) | (step > 0)).all())):
        order = np.lexsort((starts, codes))
        codes, starts, rows = codes[order], starts[order], rows[order]
        columns = {k: v[order] for k, v in columns.items()}
        dcode, step = np.diff(codes), np.diff(starts)
    same = dcode == 0
    smallest = (
        np.where(same & (step > 0), step, np.iinfo(np.int64).max).min()
        if len(step)
        else 3600 * NS_PER_S
    )
    resolution_s = int(min(smallest, 3600 * NS_PER_S)) // NS_PER_S
    if resolution_s not in (900, 3600):
        raise InputError(f"{source}: meter resolution {resolution_s} s is not 15 or 60 minutes")
    res_ns = resolution_s * NS_PER_S
    # One pass finds every irregular step; only those few are classified.
    firsts = np.concatenate(([0], np.flatnonzero(~same) + 1))
    for i in firsts[starts[firsts] % res_ns != 0][:20]:
        problems.add(int(rows[i]), "timestamp", f"off the {resolution_s // 60}-minute grid")
    for i in np.flatnonzero(same & (step != res_ns))[:60].tolist():
        cid = ids[codes[i]]
        if step[i] == 0:
            problems.add(
                int(rows[i + 1]),
                "timestamp",
                f"duplicate interval for {cid} (same as row {rows[i]})",
            )
        elif step[i] % res_ns:
            problems.add(int(rows[i + 1]), "timestamp", f"off the {resolution_s // 60}-minute grid")
        else:
            problems.add(
                int(rows[i + 1]),
                "timestamp",
                f"gap for {cid}: {int(step[i] // res_ns) - 1} interval(s) missing before this row",
            )
    data = MeterData(
        source,
        ids,
        codes,
        starts,
        columns["energy_kwh"],
        resolution_s,
        rows,
        columns.get("curtailed_kwh"),
        columns.get("go_kwh"),
    )
    if contracts is not None:
        check_against_contracts(data, contracts, problems)
    problems.raise_if_any()
    return data


def check_against_contracts(
    data: MeterData, contracts: Sequence[Contract], problems: ProblemCollector, capped: bool = True
) -> None:
    """Unknown contracts; energy above capacity × interval unless the contract caps it."""
    by_id = {c.contract_id: c for c in contracts}
    off = data.offsets
    # capacity_mw × interval, compared exactly in kW·s: energy_kwh × 3600 ≤ capacity_kw × s.
    limit = np.full(len(data.contract_ids), -1, dtype=np.int64)
    for code, cid in enumerate(data.contract_ids):
        contract = by_id.get(cid)
        if contract is None:
            problems.add(int(data.rows[off[code]]), "contract_id", f"unknown contract {cid!r}")
        elif not (contract.interval_cap and capped):
            limit[code] = int(contract.capacity_mw * 1000 * data.resolution_s)
    counts = np.diff(off)
    peak = np.maximum.reduceat(data.energy_kwh, np.minimum(off[:-1], len(data.energy_kwh) - 1))
    # Only contracts whose peak interval exceeds the limit are searched row by row.
    for code in np.flatnonzero((limit >= 0) & (counts > 0) & (peak * 3600 > limit)).tolist():
        a, b = int(off[code]), int(off[code + 1])
        cid = data.contract_ids[code]
        for i in np.flatnonzero(data.energy_kwh[a:b] * 3600 > limit[code])[:20]:
            problems.add(
                int(data.rows[a + i]),
                "energy_kwh",
                f"{data.energy_kwh[a + i]} kWh exceeds capacity "
                f"{by_id[cid].capacity_mw} MW × {data.resolution_s / 3600:g} h for {cid}",
            )


def read_meters(
    data: Source,
    contracts: Sequence[Contract] | None = None,
    source: str | None = None,
) -> MeterData:
    """Meter data from a CSV or Parquet file (a path, bytes or a binary file object)."""
    name = source or (str(data) if isinstance(data, (str, Path)) else "meters.csv")
    table = read_table(data, COLUMNS, name)
    return meters_from_table(table, name, contracts)


def read_meters_text(
    text: str, source: str = "meters.csv", contracts: Sequence[Contract] | None = None
) -> MeterData:
    return read_meters(text.encode(), contracts, source)


def contract_codes(values: pa.ChunkedArray) -> tuple[np.ndarray, tuple[str, ...]]:
    """(int64 code per row, sorted distinct ids) of a dictionary-encoded contract column."""
    combined = values.unify_dictionaries() if values.num_chunks > 1 else values
    chunk_codes, ids = [], None
    for chunk in combined.chunks:
        ids = chunk.dictionary if ids is None else ids
        chunk_codes.append(int64s(chunk.indices))
    if ids is None:
        return np.zeros(0, dtype=np.int64), ()
    names = ids.to_pylist()
    order = np.argsort(np.asarray(names, dtype=object), kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    codes = rank[np.concatenate(chunk_codes)] if chunk_codes else rank[:0]
    return codes, tuple(names[i] for i in order)


def meters_from_table(
    table: pa.Table, source: str, contracts: Sequence[Contract] | None = None
) -> MeterData:
    problems = ProblemCollector(source)
    codes, ids = contract_codes(table.column("contract_id"))
    starts = int64s(table.column("timestamp"))
    columns = {}
    for name in ("energy_kwh", *OPTIONAL):
        if name in table.column_names:
            arr = int64s(table.column(name))
            for i in np.flatnonzero(arr < 0)[:MAX_REPORTED].tolist():
                problems.add(i + 1, name, f"negative energy {arr[i]} kWh")
            columns[name] = arr
    problems.raise_if_any()
    return _build(source, codes, ids, starts, columns, contracts)


def meters_from_arrays(
    source: str,
    contract_ids: Sequence[str],
    contract_index: np.ndarray,
    starts_utc_ns: np.ndarray,
    energy_kwh: np.ndarray,
    contracts: Sequence[Contract] | None = None,
    curtailed_kwh: np.ndarray | None = None,
    go_kwh: np.ndarray | None = None,
) -> MeterData:
    """MeterData from arrays already in memory (same checks as the file readers).

    `contract_ids` must be sorted; `contract_index` codes into it.
    """
    ids = tuple(contract_ids)
    if list(ids) != sorted(ids):
        raise ValueError("contract_ids must be sorted")
    problems = ProblemCollector(source)
    columns = {"energy_kwh": np.asarray(energy_kwh, dtype=np.int64)}
    for name, arr in (("curtailed_kwh", curtailed_kwh), ("go_kwh", go_kwh)):
        if arr is not None:
            columns[name] = np.asarray(arr, dtype=np.int64)
    for name, arr in columns.items():
        for i in np.nonzero(arr < 0)[0][:20]:
            problems.add(int(i) + 1, name, f"negative energy {arr[i]} kWh")
    problems.raise_if_any()
    return _build(
        source,
        np.asarray(contract_index, dtype=np.int64),
        ids,
        np.asarray(starts_utc_ns, dtype=np.int64),
        columns,
        contracts,
    )
