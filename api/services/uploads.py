"""Bulk uploads of prices and meter data: all-or-nothing, idempotent, streamed.

The body arrives as a file (spooled to disk by the HTTP layer while its SHA-256 is computed).
Pass 1 reads it in chunks with pandas and validates every row; nothing is written unless all
rows are valid. Pass 2 loads it: on PostgreSQL the raw CSV goes through `COPY … FROM STDIN`
into a temporary staging table and one INSERT … SELECT … ON CONFLICT moves it; on SQLite an
executemany per chunk. A repeat returns the earlier upload and writes nothing when it reuses
an Idempotency-Key or repeats the target's latest upload; an older content uploaded again is
a correction like any other (X, Y, X: the third upload replaces Y).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

import numpy as np
import pandas as pd
from sqlalchemy import Table, delete, insert, text

from api.actor import Actor, Conflict
from api.db import models as m
from api.limits import MAX_ABS_MARKET_PRICE, MAX_FX_RATE
from api.services import audit
from api.services.csvcheck import (
    Problems,
    check_header,
    shared_check,
    timestamps_ns,
    whole_numbers,
)
from api.uow import UnitOfWork
from mzekari.errors import InputError
from mzekari.money import MINOR_UNITS
from mzekari.vocabulary import MARKET_TZ
from settlement.rates import parse_cpi, parse_fx

METER_COLUMNS = ("timestamp", "contract_id", "energy_kwh")
OPTIONAL_METER_COLUMNS = ("curtailed_kwh", "go_kwh")  # Art. 16 curtailment, Art. 15(6) GOs
ALIGN_S = 900  # every interval starts on a quarter-hour
SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"
BLANK_LINES = re.compile(rb"(?m)^[ \t]*\r?\n")  # what the validating reader skips
PRICE_CHARS = 20  # longer text is no price within the bound
BLANK_LINE_INSIDE = re.compile(rb"\n[ \t]*\r?\n")  # the same, found several times faster


@dataclass(frozen=True)
class UploadOutcome:
    upload: m.Upload
    replayed: bool


def _begin(
    uow: UnitOfWork, actor: Actor, kind: str, target: str, sha256: str, key: str | None
) -> m.Upload | None:
    """Every upload starts the same way: operators only, one upload per target at a time, and
    the earlier upload returned when this one repeats it (same key, or the same content as
    the target's latest upload)."""
    actor.require("operator", "admin")
    uow.lock(f"upload:{kind}" if target == kind else f"upload:{kind}:{target}")
    if key is not None:
        previous = uow.uploads.by_idempotency_key(key)
        if previous is not None:
            if (previous.kind, previous.target, previous.content_sha256) != (kind, target, sha256):
                raise Conflict("this Idempotency-Key was used for a different upload")
            return previous
    latest = uow.uploads.latest(kind, target)
    return latest if latest is not None and latest.content_sha256 == sha256 else None


def _chunks(body: IO[bytes], chunk_rows: int, problems: Problems) -> Iterator[pd.DataFrame]:
    body.seek(0)
    try:
        reader = pd.read_csv(
            body,
            dtype=str,
            chunksize=chunk_rows,
            keep_default_na=False,
            na_filter=False,
            skipinitialspace=True,
            encoding="utf-8-sig",
        )
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            yield chunk
    except pd.errors.EmptyDataError:
        problems.add(None, None, "the file is empty")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        problems.add(None, None, f"not readable as CSV: {exc}")


def _raise(problems: Problems) -> None:
    if problems:
        raise InputError(problems.all())


def _finish(
    uow: UnitOfWork, actor: Actor, upload: m.Upload, details: dict[str, Any]
) -> UploadOutcome:
    uow.uploads.add(upload)
    audit.record(
        uow,
        actor,
        f"upload.{upload.kind}",
        f"upload/{upload.id}",
        {
            "target": upload.target,
            "rows": upload.row_count,
            "sha256": upload.content_sha256,
            **details,
        },
    )
    uow.commit()
    return UploadOutcome(upload, replayed=False)


def _ts(ns: int | None) -> datetime | None:
    return None if ns is None else pd.Timestamp(ns, tz=UTC).to_pydatetime()


# --- meter data -------------------------------------------------------------------------------


def upload_meters(
    uow: UnitOfWork,
    actor: Actor,
    body: IO[bytes],
    sha256: str,
    idempotency_key: str | None = None,
    chunk_rows: int = 500_000,
) -> UploadOutcome:
    previous = _begin(uow, actor, "meters", "meters", sha256, idempotency_key)
    if previous is not None:
        return UploadOutcome(previous, replayed=True)
    problems = Problems("meters.csv")
    contract_pks = uow.contracts.ids_by_contract_id()
    known = pd.Index(list(contract_pks))
    pk_of = np.array(list(contract_pks.values()), dtype=np.int64)
    keys: list[np.ndarray] = []
    key_rows: list[np.ndarray] = []
    first_ns, last_ns, total = None, None, 0
    header: list[str] = []
    for chunk in _chunks(body, chunk_rows, problems):
        if not header:
            header = list(chunk.columns)
            if not check_header(header, METER_COLUMNS, problems, OPTIONAL_METER_COLUMNS):
                break
        rows = np.arange(total + 1, total + len(chunk) + 1)
        total += len(chunk)
        ns, ts_ok = timestamps_ns(chunk["timestamp"], rows, "timestamp", problems)
        misaligned = ts_ok & (ns % (ALIGN_S * 10**9) != 0)
        if misaligned.any():
            problems.add_rows(
                rows[misaligned],
                "timestamp",
                chunk["timestamp"][misaligned],
                "not on a quarter-hour boundary",
            )
        for column in ("energy_kwh", *OPTIONAL_METER_COLUMNS):
            if column in chunk.columns:
                whole_numbers(chunk[column], rows, column, problems)
        codes, distinct = pd.factorize(chunk["contract_id"])
        position = np.where(
            codes >= 0, known.get_indexer(pd.Index(distinct).str.strip())[codes], -1
        )
        unknown = position < 0
        if unknown.any():
            problems.add_rows(
                rows[unknown], "contract_id", chunk["contract_id"][unknown], "unknown contract"
            )
        good = ts_ok & ~unknown
        # (contract, interval) as one int64: contract pk in the high bits, seconds below.
        keys.append(pk_of[position[good]] * (1 << 34) + ns[good] // 10**9)
        key_rows.append(rows[good])
        if good.any():
            lo, hi = int(ns[good].min()), int(ns[good].max())
            first_ns = lo if first_ns is None else min(first_ns, lo)
            last_ns = hi if last_ns is None else max(last_ns, hi)
    if not problems and total == 0:
        problems.add(None, None, "no data rows")
    _duplicates(keys, key_rows, problems)
    _raise(problems)
    if uow.dialect == "postgresql":
        pks = np.unique(np.concatenate(keys) >> 34).tolist() if keys else []
        _copy_meters_postgres(uow, body, header, pks, _ts(first_ns), _ts(last_ns))
    else:
        _insert_meters_sqlite(uow, body, chunk_rows, contract_pks)
    upload = m.Upload(
        kind="meters",
        target="meters",
        idempotency_key=idempotency_key,
        content_sha256=sha256,
        row_count=total,
        first_ts=_ts(first_ns),
        last_ts=_ts(last_ns),
        created_at=datetime.now(UTC),
        created_by=actor.key_id,
    )
    return _finish(uow, actor, upload, {})


def _duplicates(keys: list[np.ndarray], rows: list[np.ndarray], problems: Problems) -> None:
    if not keys:
        return
    all_keys, all_rows = np.concatenate(keys), np.concatenate(rows)
    order = np.argsort(all_keys, kind="stable")
    sorted_keys = all_keys[order]
    repeat = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
    for i in repeat[:100].tolist():
        problems.add(
            int(all_rows[order[i]]),
            "timestamp",
            f"a second reading for the same contract and interval "
            f"(first at row {int(all_rows[order[i - 1]])})",
        )


def _copy_meters_postgres(
    uow: UnitOfWork,
    body: IO[bytes],
    header: list[str],
    pks: list[int],
    first: datetime | None,
    last: datetime | None,
) -> None:
    session = uow.session
    session.execute(
        text(
            'CREATE TEMP TABLE meter_stage ("timestamp" timestamptz, contract_id text, '
            "energy_kwh bigint, curtailed_kwh bigint, go_kwh bigint) "
            "ON COMMIT DROP"
        )
    )
    raw = session.connection().connection.driver_connection
    assert raw is not None
    columns = ", ".join(f'"{name}"' for name in header)  # names checked against METER_COLUMNS
    body.seek(0)
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY meter_stage ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        # Blank lines, which validation skips, are dropped here too (COPY would read each as
        # a row of nulls); blocks are cut after their last newline so no line is split.
        block, pending = body.read(1 << 20).removeprefix(b"\xef\xbb\xbf"), b""
        while block:
            data = pending + block
            cut = data.rfind(b"\n") + 1
            copy.write(_without_blank_lines(data[:cut]))
            pending = data[cut:]
            block = body.read(1 << 20)
        copy.write(pending)  # a last line without a newline is not blank
    # A plain INSERT is much faster than ON CONFLICT's speculative insertion; take it when
    # no stored reading overlaps the upload (one index probe per contract answers that; the
    # contracts and time range are known from validation).
    overlap = session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM meter_readings WHERE contract_pk = ANY(:pks) "
            "AND ts >= :first AND ts <= :last)"
        ),
        {"pks": pks, "first": first, "last": last},
    ).scalar()
    conflict = (
        ""
        if not overlap
        else " ON CONFLICT (contract_pk, ts) DO UPDATE SET energy_kwh = EXCLUDED.energy_kwh, "
        "curtailed_kwh = EXCLUDED.curtailed_kwh, go_kwh = EXCLUDED.go_kwh "
        "WHERE (meter_readings.energy_kwh, meter_readings.curtailed_kwh, meter_readings.go_kwh) "
        "IS DISTINCT FROM (EXCLUDED.energy_kwh, EXCLUDED.curtailed_kwh, EXCLUDED.go_kwh)"
    )
    session.execute(
        text(
            "INSERT INTO meter_readings (contract_pk, ts, energy_kwh, curtailed_kwh, go_kwh) "
            'SELECT c.id, s."timestamp", s.energy_kwh, s.curtailed_kwh, s.go_kwh '
            "FROM meter_stage s "
            "JOIN contracts c ON c.contract_id = btrim(s.contract_id)" + conflict
        )
    )


def _without_blank_lines(lines: bytes) -> bytes:
    """Whole lines without the blank ones; the regex runs only when a line may be blank."""
    if lines.startswith((b"\n", b"\r", b" ", b"\t")) or BLANK_LINE_INSIDE.search(lines):
        return BLANK_LINES.sub(b"", lines)
    return lines


def _insert_meters_sqlite(
    uow: UnitOfWork, body: IO[bytes], chunk_rows: int, contract_pks: dict[str, int]
) -> None:
    connection = uow.session.connection()
    sink = Problems("meters.csv")
    for chunk in _chunks(body, chunk_rows, sink):
        ns = timestamps_ns(chunk["timestamp"], np.arange(1, len(chunk) + 1), "timestamp", sink)[0]
        ts = pd.to_datetime(ns, utc=True)
        optional = [
            chunk[c].str.strip().astype(np.int64).tolist()
            if c in chunk.columns
            else [None] * len(chunk)
            for c in OPTIONAL_METER_COLUMNS
        ]
        rows = zip(
            chunk["contract_id"].str.strip().map(contract_pks).tolist(),
            ts.strftime(SQLITE_TS).tolist(),
            chunk["energy_kwh"].str.strip().astype(np.int64).tolist(),
            *optional,
            strict=True,
        )
        connection.exec_driver_sql(
            "INSERT INTO meter_readings (contract_pk, ts, energy_kwh, curtailed_kwh, go_kwh) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (contract_pk, ts) DO UPDATE SET energy_kwh = excluded.energy_kwh, "
            "curtailed_kwh = excluded.curtailed_kwh, go_kwh = excluded.go_kwh",
            list(rows),
        )


# --- prices -----------------------------------------------------------------------------------


def upload_prices(
    uow: UnitOfWork,
    actor: Actor,
    series: str,
    currency: str,
    body: IO[bytes],
    sha256: str,
    idempotency_key: str | None = None,
) -> UploadOutcome:
    """`timestamp,price` (an interval series, hourly or quarter-hourly) or `month,price`
    (a monthly series such as ESCO's balancing price); prices per MWh to 0.01."""
    currency = currency.upper()
    previous = _begin(uow, actor, "prices", series, sha256, idempotency_key)
    if previous is not None:
        return UploadOutcome(previous, replayed=True)
    problems = Problems(f"prices/{series}.csv")
    if currency not in MINOR_UNITS:
        problems.add(None, "currency", f"unknown currency {currency!r}")
    frames = list(_chunks(body, 1_000_000, problems))
    _raise(problems)
    frame = pd.concat(frames) if frames else pd.DataFrame()
    monthly = "month" in frame.columns
    columns = ("month", "price") if monthly else ("timestamp", "price")
    if not check_header(list(frame.columns), columns, problems) or frame.empty:
        if not problems:
            problems.add(None, None, "no data rows")
        _raise(problems)
    rows = np.arange(1, len(frame) + 1)
    if monthly:
        months = pd.to_datetime(frame["month"], format="%Y-%m", errors="coerce")
        bad = months.isna().to_numpy()
        if bad.any():
            problems.add_rows(rows[bad], "month", frame["month"][bad], "expected YYYY-MM")
        starts = months.dt.tz_localize(MARKET_TZ).dt.tz_convert(UTC)
        ns = starts.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        ok, resolution_s = ~bad, 0
    else:
        ns, ok = timestamps_ns(frame["timestamp"], rows, "timestamp", problems)
        resolution_s = _resolution(ns[ok], problems)
    prices = _prices(frame["price"].tolist(), problems)
    dup = pd.Series(ns).duplicated().to_numpy() & ok
    if dup.any():
        problems.add_rows(rows[dup], columns[0], frame[columns[0]][dup], "repeated interval")
    existing = uow.uploads.series(series)
    if existing is not None and (existing.currency, existing.resolution_s) != (
        currency,
        resolution_s,
    ):
        problems.add(
            None,
            None,
            f"series {series!r} is {existing.currency} at "
            f"{existing.resolution_s} s; this file is {currency} at "
            f"{resolution_s} s",
        )
    _raise(problems)
    if existing is None:
        uow.uploads.add(m.PriceSeries(name=series, currency=currency, resolution_s=resolution_s))
    _store_prices(uow, series, ns, prices)
    upload = m.Upload(
        kind="prices",
        target=series,
        idempotency_key=idempotency_key,
        content_sha256=sha256,
        row_count=len(frame),
        first_ts=_ts(int(ns.min())),
        last_ts=_ts(int(ns.max())),
        created_at=datetime.now(UTC),
        created_by=actor.key_id,
    )
    return _finish(uow, actor, upload, {"currency": currency, "resolution_s": resolution_s})


def _resolution(ns: np.ndarray, problems: Problems) -> int:
    steps = np.unique(np.diff(np.sort(ns))) // 10**9 if len(ns) > 1 else np.array([3600])
    step = int(steps.min()) if len(steps) else 3600
    if step not in (900, 3600):
        problems.add(None, "timestamp", f"intervals are {step} s apart; expected 900 or 3600")
        return 3600
    if (ns // 10**9 % step != 0).any():
        problems.add(None, "timestamp", f"timestamps are not on {step // 60}-minute boundaries")
    return step


def _prices(values: list[str], problems: Problems) -> list[Decimal | None]:
    """Prices under settlement's one price rule; an empty cell or '-' is an interval without a
    price (the fallback series applies)."""
    from settlement.price_io import parse_hundredths

    too_long = [row for row, value in enumerate(values, start=1) if len(str(value)) > PRICE_CHARS]
    for row in too_long[:20]:
        problems.add(row, "price", f"beyond ±{MAX_ABS_MARKET_PRICE} per MWh")
    if too_long:  # digits beyond any bound are not parsed at all
        return [None] * len(values)
    hundredths, ok = shared_check(problems, lambda c: parse_hundredths(values, c, "price"))
    prices = [
        Decimal(int(h)).scaleb(-2) if good else None
        for h, good in zip(hundredths.tolist(), ok.tolist(), strict=True)
    ]
    # NUMERIC(14, 2) on PostgreSQL; the same bound on SQLite, so both answer alike.
    beyond = [
        row for row, p in enumerate(prices, 1) if p is not None and abs(p) > MAX_ABS_MARKET_PRICE
    ]
    for row in beyond[:20]:
        problems.add(row, "price", f"beyond ±{MAX_ABS_MARKET_PRICE} per MWh")
    return prices


def _store_prices(
    uow: UnitOfWork, series: str, ns: np.ndarray, prices: list[Decimal | None]
) -> None:
    table = m.PricePoint.__table__
    assert isinstance(table, Table)
    rows = [
        {"series": series, "ts": pd.Timestamp(int(t), tz=UTC).to_pydatetime(), "price": p}
        for t, p in zip(ns.tolist(), prices, strict=True)
        if p is not None
    ]
    if uow.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["series", "ts"], set_={"price": statement.excluded.price}
    )
    if rows:
        uow.session.execute(statement, rows)


# --- whole-file tables (exchange rates, CPI) -----------------------------------------------------


def _small_table(body: IO[bytes], columns: tuple[str, ...], problems: Problems) -> pd.DataFrame:
    """A small CSV read whole, its header checked; a file without data rows is refused."""
    frames = list(_chunks(body, 1_000_000, problems))
    _raise(problems)
    frame = pd.concat(frames) if frames else pd.DataFrame()
    if not check_header(list(frame.columns), columns, problems) or frame.empty:
        if not problems:
            problems.add(None, None, "no data rows")
        _raise(problems)
    return frame


def _upsert(uow: UnitOfWork, table: Any, rows: list[dict[str, Any]], key: list[str]) -> None:
    """Insert the rows; a row whose key is stored already replaces the stored values (a
    corrected rate or index supersedes the earlier one)."""
    assert isinstance(table, Table)
    if uow.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(table)
    changed = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in key}
    uow.session.execute(statement.on_conflict_do_update(index_elements=key, set_=changed), rows)


def _whole_file(
    actor: Actor, kind: str, sha256: str, idempotency_key: str | None, row_count: int
) -> m.Upload:
    """The upload record of a file that is not a time series (no first or last interval)."""
    return m.Upload(
        kind=kind,
        target=kind,
        idempotency_key=idempotency_key,
        content_sha256=sha256,
        row_count=row_count,
        first_ts=None,
        last_ts=None,
        created_at=datetime.now(UTC),
        created_by=actor.key_id,
    )


# --- exchange rates ---------------------------------------------------------------------------

FX_COLUMNS = ("date", "pair", "rate")


def upload_fx_rates(
    uow: UnitOfWork, actor: Actor, body: IO[bytes], sha256: str, idempotency_key: str | None = None
) -> UploadOutcome:
    """`date,pair,rate`: official rates such as `2021-06-30,USD/GEL,3.1000` (GEL per USD)."""
    previous = _begin(uow, actor, "fx", "fx", sha256, idempotency_key)
    if previous is not None:
        return UploadOutcome(previous, replayed=True)
    problems = Problems("fx_rates.csv")
    frame = _small_table(body, FX_COLUMNS, problems)
    rates = shared_check(
        problems, lambda c: parse_fx(frame[list(FX_COLUMNS)].itertuples(index=False), c.source)
    )
    rows = [
        {"pair": pair, "day": date.fromisoformat(day), "rate": rate}
        for pair, by_day in (rates or {}).items()
        for day, rate in by_day.items()
    ]
    # NUMERIC(14, 6) on PostgreSQL (which would round a seventh decimal; SQLite keeps it).
    for row in rows:
        rate = row["rate"]
        if rate > MAX_FX_RATE or rate != rate.quantize(Decimal("0.000001")):
            problems.add(
                None,
                "rate",
                f"{row['pair']} on {row['day']}: {rate} is beyond {MAX_FX_RATE} or has more "
                "than 6 decimals",
            )
    _raise(problems)
    _upsert(uow, m.FxRate.__table__, rows, ["pair", "day"])
    upload = _whole_file(actor, "fx", sha256, idempotency_key, len(frame))
    return _finish(uow, actor, upload, {})


# --- consumer price index -----------------------------------------------------------------------

CPI_COLUMNS = ("month", "cpi")


def upload_cpi(
    uow: UnitOfWork, actor: Actor, body: IO[bytes], sha256: str, idempotency_key: str | None = None
) -> UploadOutcome:
    """`month,cpi`: the index by month (e.g. `2025-04,112.3`), for CPI-indexed strike prices."""
    previous = _begin(uow, actor, "cpi", "cpi", sha256, idempotency_key)
    if previous is not None:
        return UploadOutcome(previous, replayed=True)
    problems = Problems("cpi.csv")
    frame = _small_table(body, CPI_COLUMNS, problems)
    values = shared_check(
        problems, lambda c: parse_cpi(frame[list(CPI_COLUMNS)].itertuples(index=False), c.source)
    )
    _raise(problems)
    rows = [{"month": k, "cpi": v} for k, v in (values or {}).items()]
    _upsert(uow, m.CpiValue.__table__, rows, ["month"])
    upload = _whole_file(actor, "cpi", sha256, idempotency_key, len(frame))
    return _finish(uow, actor, upload, {})


# --- generation profiles ----------------------------------------------------------------------


def upload_profile(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    body: IO[bytes],
    sha256: str,
    idempotency_key: str | None = None,
) -> UploadOutcome:
    """`timestamp,<generation>` (or OPSD's `utc_timestamp`): a technology's output, the weights
    of references for contracts whose `weighting` names this profile."""
    from settlement.price_io import read_profile

    previous = _begin(uow, actor, "profile", name, sha256, idempotency_key)
    if previous is not None:
        return UploadOutcome(previous, replayed=True)
    problems = Problems(f"profiles/{name}.csv")
    profile = shared_check(problems, lambda c: read_profile(body, None, name, c.source))
    _raise(problems)
    starts = profile.starts_utc_ns
    uow.session.execute(delete(m.ProfilePoint).where(m.ProfilePoint.profile == name))
    uow.session.execute(
        insert(m.ProfilePoint),
        [
            {"profile": name, "ts": _ts(int(t)), "weight_milli": int(w)}
            for t, w in zip(starts.tolist(), profile.weight_milli.tolist(), strict=True)
        ],
    )
    upload = m.Upload(
        kind="profile",
        target=name,
        idempotency_key=idempotency_key,
        content_sha256=sha256,
        row_count=len(starts),
        first_ts=_ts(int(starts[0])),
        last_ts=_ts(int(starts[-1])),
        created_at=datetime.now(UTC),
        created_by=actor.key_id,
    )
    return _finish(uow, actor, upload, {"resolution_s": profile.resolution_s})
