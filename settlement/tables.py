"""Reading input tables (CSV or Parquet) with typed columns, through pyarrow.

One reader for every file kind: the header is checked against the kind's columns, cells are
converted by Arrow's typed, multi-threaded CSV reader, and any problem is reported with the
file, the 1-based data row and the field, never as a traceback. Only when the fast read fails
is the file read again, as text, to find the rows at fault.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from mzekari.errors import InputError, Problem, ProblemCollector

MAX_REPORTED = 20  # bad cells reported per column; the count says how many more
UTC_NS = pa.timestamp("ns", tz="UTC")
WHOLE_KWH = "not a whole number of kWh"
TIMESTAMP_HINT = "not an ISO 8601 timestamp with a UTC offset (e.g. 2025-06-01T00:00+04:00)"


@dataclass(frozen=True)
class Column:
    """A column of a file kind: its Arrow type and what a cell must be (for messages)."""

    type: pa.DataType
    required: bool = True
    expect: str = ""


TEXT = Column(pa.string())

Source = str | Path | bytes | IO[bytes]


def _describe(data: Source, source: str | None) -> str:
    if source is not None:
        return source
    return str(data) if isinstance(data, (str, Path)) else "input"


def read_table(
    data: Source,
    columns: Mapping[str, Column] | None,
    source: str | None = None,
    *,
    delimiter: str = ",",
) -> pa.Table:
    """The file's columns converted to their types; unknown or missing columns are errors.

    `data` is a path (`.parquet` read as Parquet), bytes or a binary file object. With
    `columns=None` every column is read as text, whatever its name (the caller checks names).
    """
    name = _describe(data, source)
    parquet = isinstance(data, (str, Path)) and str(data).lower().endswith(".parquet")
    try:
        if parquet:
            return _parquet(data, columns, name)
        return _csv(data, columns, name, delimiter)
    except OSError as exc:
        raise InputError(Problem(name, None, None, f"cannot read: {exc}")) from exc
    except UnicodeDecodeError as exc:
        raise InputError(Problem(name, None, None, f"not UTF-8 text: {exc.reason}")) from exc


def _open(data: Source) -> Any:
    if isinstance(data, bytes):
        return io.BytesIO(data)
    if isinstance(data, (str, Path)):
        return str(data)
    data.seek(0)
    return data


def _header(data: Source, name: str, delimiter: str) -> list[str]:
    """The header's names exactly as Arrow will name the columns (byte order mark dropped)."""
    if isinstance(data, (str, Path)):
        with open(data, "rb") as handle:
            first = handle.readline(1 << 20)
    elif isinstance(data, bytes):
        first = data[: 1 << 20].split(b"\n", 1)[0]
    else:
        data.seek(0)
        first = data.readline(1 << 20)
    text = first.decode("utf-8-sig").rstrip("\r\n")
    if not text.strip():
        raise InputError(Problem(name, None, None, "the file is empty (no header)"))
    return next(csv.reader([text], delimiter=delimiter))


def check_columns(header: list[str], columns: Mapping[str, Column], name: str) -> None:
    problems = ProblemCollector(name)
    stripped = [h.strip() for h in header]
    for h in stripped:
        if h not in columns:
            problems.add(None, h, f"unknown column; expected {', '.join(columns)}")
    seen = set()
    for h in stripped:
        if h in seen:
            problems.add(None, h, "column appears twice")
        seen.add(h)
    for col, spec in columns.items():
        if spec.required and col not in stripped:
            problems.add(None, col, "required column is missing")
    problems.raise_if_any()


def _csv(data: Source, columns: Mapping[str, Column] | None, name: str, delimiter: str) -> pa.Table:
    header = _header(data, name, delimiter)
    if columns is None:
        columns = {h.strip(): TEXT for h in header}
    check_columns(header, columns, name)
    types = {raw: columns[raw.strip()].type for raw in header}
    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    def read(types: dict[str, pa.DataType], threads: bool) -> pa.Table:
        return pa_csv.read_csv(
            _open(data),
            read_options=pa_csv.ReadOptions(use_threads=threads),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pa_csv.ConvertOptions(
                column_types=types,
                strings_can_be_null=False,
                null_values=[""],
                auto_dict_encode=False,
            ),
        )

    def read_text(threads: bool) -> pa.Table:
        try:
            return read({raw: pa.string() for raw in header}, threads)
        except pa.ArrowInvalid as exc:
            raise InputError(Problem(name, None, None, f"not readable as CSV: {exc}")) from exc

    table: pa.Table | None
    try:
        table = read(types, threads=True)
    except pa.ArrowInvalid:
        table = None
    if invalid:
        # Rows with too many or too few fields; one thread knows their line numbers.
        invalid.clear()
        read_text(threads=False)
        _raise_invalid_rows(invalid, name)
    if table is None:
        text = read_text(threads=True)
        _raise_bad_cells(text.rename_columns([h.strip() for h in header]), columns, name)
        raise InputError(Problem(name, None, None, "not readable as CSV"))
    table = table.rename_columns([h.strip() for h in header])
    _check_cells(table, columns, name)
    return table


def _raise_invalid_rows(found: list[Any], name: str) -> None:
    problems = ProblemCollector(name)
    for row in found[:MAX_REPORTED]:
        where = None if row.number is None else int(row.number) - 1  # line 1 is the header
        problems.add(
            where,
            None,
            f"{row.actual_columns} field(s) where the header has {row.expected_columns}: "
            f"{row.text[:80]!r}",
        )
    if len(found) > MAX_REPORTED:
        problems.add(None, None, f"… and {len(found) - MAX_REPORTED} more such row(s)")
    problems.raise_if_any()


def bad_cells(
    values: pa.Array | pa.ChunkedArray, to: pa.DataType, limit: int = MAX_REPORTED
) -> tuple[list[int], bool]:
    """(first positions whose text does not convert to `to`, whether there are more).

    Halving search: a block that converts whole is skipped in one cast.
    """
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    found: list[int] = []
    more = False

    def search(lo: int, hi: int) -> None:
        nonlocal more
        if hi <= lo or more:
            return
        try:
            array.slice(lo, hi - lo).cast(to)
            return
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        if hi - lo == 1:
            if len(found) < limit:
                found.append(lo)
            else:
                more = True
            return
        mid = (lo + hi) // 2
        search(lo, mid)
        search(mid, hi)

    search(0, len(array))
    return found, more


def report_bad_cells(
    values: pa.Array | pa.ChunkedArray,
    to: pa.DataType,
    problems: ProblemCollector,
    field: str,
    expect: str,
    rows: np.ndarray | None = None,
) -> list[int]:
    """Record the cells of `values` that do not convert; their positions."""
    found, more = bad_cells(values, to)
    for i in found:
        row = i + 1 if rows is None else int(rows[i])
        problems.add(row, field, f"{_cell(values, i)!r}: {expect}")
    if more:
        problems.add(None, field, f"… and more cells that are not {expect}")
    return found


def timestamps_utc_ns(
    values: Any, problems: ProblemCollector, field: str, rows: np.ndarray | None = None
) -> np.ndarray:
    """ISO 8601 text with a UTC offset → int64 UTC nanoseconds (the one timestamp rule).

    `2025-06-01T00:00+04:00`, `…T00:00:00.000+04:00`, `…Z`, a space for the `T` are accepted;
    a timestamp without an offset is refused (it cannot be placed in a month). Bad cells are
    recorded in `problems` (row = position + 1 unless `rows` says otherwise).
    """
    return checked_cells(values, UTC_NS, problems, field, TIMESTAMP_HINT, rows)[0]


def whole_kwh(
    values: Any, problems: ProblemCollector, field: str, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Whole, non-negative kWh from text (the meter files' rule): (int64 values, ok)."""
    kwh, ok = checked_cells(values, pa.int64(), problems, field, WHOLE_KWH, rows)
    for i in np.flatnonzero(ok & (kwh < 0))[:MAX_REPORTED].tolist():
        problems.add(
            i + 1 if rows is None else int(rows[i]), field, f"negative energy {kwh[i]} kWh"
        )
    return kwh, ok & (kwh >= 0)


def checked_cells(
    values: Any,
    to: pa.DataType,
    problems: ProblemCollector,
    field: str,
    expect: str,
    rows: np.ndarray | None = None,
    limit: int = MAX_REPORTED,
) -> tuple[np.ndarray, np.ndarray]:
    """Text cells converted to `to` as int64 (timestamps in ns) and a mask of the good ones.

    The first `limit` bad cells are named; past that the mask is all False (the input is
    refused anyway).
    """
    array = (
        values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, pa.string())
    )
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_timestamp(array.type) or pa.types.is_integer(array.type):
        return int64s(array.cast(to)), np.ones(len(array), dtype=bool)
    text = pc.utf8_trim_whitespace(array)
    ok = np.ones(len(text), dtype=bool)
    try:
        return int64s(text.cast(to)), ok
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        found, more = bad_cells(text, to, limit)
    for i in found:
        problems.add(
            i + 1 if rows is None else int(rows[i]), field, f"{_cell(text, i)!r}: {expect}"
        )
    if more:
        problems.add(None, field, f"… and more cells that are not {expect}")
        return np.zeros(len(text), dtype=np.int64), np.zeros(len(text), dtype=bool)
    ok[found] = False
    out = np.zeros(len(text), dtype=np.int64)
    good = np.flatnonzero(ok)
    out[good] = int64s(text.take(pa.array(good)).cast(to))
    return out, ok


# pyarrow's own to_numpy() imports pandas (a second or so of a command's start); fixed-width
# columns without nulls are read from their Arrow buffers instead.
def int64s(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An integer or timestamp column without nulls as int64 (timestamps: ns since 1970)."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    array = array.cast(pa.int64())
    if array.null_count:
        raise ValueError("column has empty cells")
    return np.frombuffer(
        array.buffers()[1], dtype=np.int64, count=len(array), offset=array.offset * 8
    )


def bools(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean column as numpy (an empty cell is False)."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    bits = np.unpackbits(np.frombuffer(array.buffers()[1], dtype=np.uint8), bitorder="little")
    out = bits[array.offset : array.offset + len(array)].astype(bool)
    if array.null_count:
        out &= ~bools(array.is_null())
    return out


def _raise_bad_cells(table: pa.Table, columns: Mapping[str, Column], name: str) -> None:
    problems = ProblemCollector(name)
    for col in table.column_names:
        spec = columns[col]
        values = pc.utf8_trim_whitespace(table.column(col))
        if spec.type == pa.string() or pa.types.is_dictionary(spec.type):
            continue
        report_bad_cells(values, spec.type, problems, col, spec.expect or str(spec.type))
    problems.raise_if_any()


def _cell(values: pa.ChunkedArray | pa.Array, i: int) -> str:
    return str(values[i].as_py())


def _check_cells(table: pa.Table, columns: Mapping[str, Column], name: str) -> None:
    """Empty cells and line breaks inside fields (an unbalanced quote)."""
    problems = ProblemCollector(name)
    for col in table.column_names:
        values = table.column(col)
        if values.null_count:
            missing = np.flatnonzero(bools(values.is_null()))
            for i in missing[:MAX_REPORTED].tolist():
                problems.add(i + 1, col, f"empty cell: {columns[col].expect or columns[col].type}")
        if pa.types.is_dictionary(values.type):
            values = pa.chunked_array([chunk.dictionary for chunk in values.chunks], pa.string())
        if (
            pa.types.is_string(values.type)
            and pc.any(pc.match_substring_regex(values, "[\r\n]")).as_py()
        ):
            problems.add(None, col, "a line break inside a field (an unbalanced quote?)")
    problems.raise_if_any()


def _parquet(data: Source, columns: Mapping[str, Column] | None, name: str) -> pa.Table:
    try:
        table = pq.read_table(_open(data))
    except pa.ArrowInvalid as exc:
        raise InputError(Problem(name, None, None, f"not a Parquet file: {exc}")) from exc
    if columns is None:
        columns = {c: TEXT for c in table.column_names}
    check_columns(table.column_names, columns, name)
    problems = ProblemCollector(name)
    out = {}
    for col in table.column_names:
        values, want = table.column(col), columns[col].type
        if pa.types.is_timestamp(values.type) and values.type.tz is None:
            problems.add(None, col, "timestamps without a time zone cannot be placed in a month")
            continue
        try:
            out[col] = values if values.type == want else values.cast(want)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if pa.types.is_string(values.type):
                expect = columns[col].expect or str(want)
                report_bad_cells(values, want, problems, col, expect)
            else:
                problems.add(None, col, f"column of type {values.type}; expected {want}")
    problems.raise_if_any()
    result = pa.table(out)
    _check_cells(result, columns, name)
    return result
