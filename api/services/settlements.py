"""Monthly settlement runs: load the month's inputs from the database, call
`settlement.settle_month`, store lines and statements in one transaction.

Re-running a month whose inputs (contracts, prices, meter data, exchange rates) hash the
same as its latest run, or with the same Idempotency-Key, returns that run and posts nothing.
Changed inputs make a new run whose lines are the engine's adjustments to what was posted.
(month, inputs, posted lines) is unique and so is `line_id`, so two concurrent runs cannot
both post: the loser rolls back and reports the winner's run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from api.actor import Actor, Conflict, NotFound
from api.canonical import canonical_json
from api.db import models as m
from api.services import audit, guarantees
from api.services.contracts import support_windows_for
from api.services.uploads import OPTIONAL_METER_COLUMNS
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem
from mzekari.money import to_minor_units
from mzekari.months import parse_month
from mzekari.vocabulary import MARKET_TZ

MARGIN = pd.Timedelta(days=1)  # a negative-price run crossing the month boundary counts whole


@dataclass(frozen=True)
class RunOutcome:
    run: m.SettlementRun
    replayed: bool


def month_bounds(month: str, tz: str = MARKET_TZ) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        parse_month(month)
    except ValueError as exc:
        raise InputError(
            Problem("settlement", None, "month", f"expected YYYY-MM, got {month!r}")
        ) from exc
    start = pd.Timestamp(f"{month}-01", tz=tz)
    return start, start + pd.offsets.MonthBegin(1)


def contract_record(row: m.Contract) -> dict[str, Any]:
    rules = {k: v for k, v in row.terms.items() if k != "annual_mwh"}
    return {
        "contract_id": row.contract_id,
        "producer": row.producer,
        "scheme": row.scheme,
        "price": format(row.strike_price, "f"),
        "currency": row.currency,
        "start": row.start_date.isoformat(),
        "end": row.end_date.isoformat(),
        "capacity_mw": format(row.capacity_mw, "f"),
        **rules,
    }


def _active_contracts(uow: UnitOfWork, start: date, end: date) -> list[m.Contract]:
    query = select(m.Contract).where(m.Contract.start_date < end, m.Contract.end_date >= start)
    return list(uow.session.scalars(query.order_by(m.Contract.contract_id)))


def _prices(
    uow: UnitOfWork, names: set[str], start: pd.Timestamp, end: pd.Timestamp, digest: Any
) -> dict[str, Any]:
    """The named series over the month's calendar year (annual references, negative runs
    crossing the month's edges), in the month's time zone."""
    from settlement import PriceSeries

    out: dict[str, Any] = {}
    for name in sorted(names):
        series = uow.uploads.series(name)
        if series is None:
            continue
        query = select(m.PricePoint.ts, m.PricePoint.price).where(m.PricePoint.series == name)
        if series.resolution_s:
            year_start = pd.Timestamp(f"{start.year}-01-01", tz=start.tz)
            lo = min(year_start, start - MARGIN).tz_convert(UTC).to_pydatetime()
            hi = max(pd.Timestamp(f"{start.year + 1}-01-01", tz=start.tz), end + MARGIN)
            query = query.where(
                m.PricePoint.ts >= lo, m.PricePoint.ts < hi.tz_convert(UTC).to_pydatetime()
            )
        rows = uow.session.execute(query.order_by(m.PricePoint.ts)).all()
        digest.update(
            canonical_json(
                [name, series.currency, series.resolution_s, [[t, p] for t, p in rows]]
            ).encode()
        )
        if not rows:
            continue
        if series.resolution_s == 0:
            monthly: dict[str, Decimal | str | int] = {
                pd.Timestamp(t).tz_convert(MARKET_TZ).strftime("%Y-%m"): p for t, p in rows
            }
            out[name] = PriceSeries.from_monthly(monthly, name, source=f"db:{name}")
        else:
            frame = pd.DataFrame(
                {
                    "timestamp": pd.to_datetime([t for t, _ in rows], utc=True),
                    "price": [p for _, p in rows],
                }
            )
            out[name] = PriceSeries.from_frame(frame, name, f"db:{name}")
    return out


def _meters(
    uow: UnitOfWork,
    contracts: list[m.Contract],
    start: pd.Timestamp,
    end: pd.Timestamp,
    digest: Any,
) -> pd.DataFrame:
    lo = start.tz_convert(UTC).to_pydatetime()
    hi = end.tz_convert(UTC).to_pydatetime()
    pks = [c.id for c in contracts]
    if uow.dialect == "postgresql":
        frame = _meters_postgres(uow, pks, lo, hi)
    else:
        reading = m.MeterReading
        rows = uow.session.execute(
            select(
                reading.contract_pk,
                reading.ts,
                reading.energy_kwh,
                reading.curtailed_kwh,
                reading.go_kwh,
            )
            .where(reading.ts >= lo, reading.ts < hi)
            .order_by(reading.contract_pk, reading.ts)
        ).all()
        frame = pd.DataFrame(
            {
                "pk": np.array([r[0] for r in rows], dtype=np.int64),
                "epoch_s": np.array([int(r[1].timestamp()) for r in rows], dtype=np.int64),
                "energy_kwh": np.array([r[2] for r in rows], dtype=np.int64),
                **{
                    name: np.array([-1 if r[i] is None else r[i] for r in rows], dtype=np.int64)
                    for i, name in ((3, "curtailed_kwh"), (4, "go_kwh"))
                },
            }
        )
    ids = {c.id: c.contract_id for c in contracts}
    frame = frame[frame["pk"].isin(list(ids))]
    for column in ("pk", "epoch_s", "energy_kwh", *OPTIONAL_METER_COLUMNS):
        digest.update(frame[column].to_numpy(dtype=np.int64).tobytes())
    out = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(frame["epoch_s"].to_numpy(), unit="s", utc=True),
            "contract_id": frame["pk"].map(ids).to_numpy(),
            "energy_kwh": frame["energy_kwh"].to_numpy(),
        }
    )
    # A column the uploads never carried (-1: NULL) is left out, as from a file without it.
    for column in OPTIONAL_METER_COLUMNS:
        values = frame[column].to_numpy(dtype=np.int64)
        if (values >= 0).any():
            out[column] = np.maximum(values, 0)
    return out


def _meters_postgres(uow: UnitOfWork, pks: list[int], lo: datetime, hi: datetime) -> pd.DataFrame:
    """Millions of readings without a Python object per row: PostgreSQL packs each contract's
    interval starts and energies as big-endian int8 byte strings, numpy reads them in place.
    Both aggregates see the same rows in the same order; MeterData sorts by time itself."""
    raw = uow.session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor(binary=True) as cursor:
        cursor.execute(
            "SELECT contract_pk, "
            "string_agg(int8send(date_part('epoch', ts)::bigint), ''::bytea ORDER BY ts), "
            "string_agg(int8send(energy_kwh), ''::bytea ORDER BY ts), "
            "string_agg(int8send(coalesce(curtailed_kwh, -1)), ''::bytea ORDER BY ts), "
            "string_agg(int8send(coalesce(go_kwh, -1)), ''::bytea ORDER BY ts) "
            "FROM meter_readings WHERE contract_pk = ANY(%s) AND ts >= %s AND ts < %s "
            "GROUP BY contract_pk ORDER BY contract_pk",
            (pks, lo, hi),
        )
        rows = cursor.fetchall()
    counts = [len(r[2]) // 8 for r in rows]

    def column(i: int) -> np.ndarray:
        return np.frombuffer(b"".join(r[i] for r in rows), dtype=">i8").astype(np.int64)

    return pd.DataFrame(
        {
            "pk": np.repeat(np.array([r[0] for r in rows], dtype=np.int64), counts),
            "epoch_s": column(1),
            "energy_kwh": column(2),
            "curtailed_kwh": column(3),
            "go_kwh": column(4),
        }
    )


def domain_line(row: m.SettlementLine) -> Any:
    from mzekari.money import from_minor_units
    from settlement import Line

    return Line(
        line_id=row.line_id,
        contract_id=row.contract_id,
        producer=row.producer,
        month=row.month,
        kind=row.kind,
        reference_price=row.reference_price,
        reference_series=row.reference_series,
        eligible_kwh=row.eligible_kwh,
        excluded_kwh=row.excluded_kwh,
        rate=row.rate,
        amount=from_minor_units(row.amount_minor, row.currency),
        currency=row.currency,
        direction=row.direction,
        corrects_line_id=row.corrects_line_id,
        explanation=row.explanation,
        adjusted_kind=row.adjusted_kind,
    )


def _fx_rates(
    uow: UnitOfWork, first_month: str, month: str, digest: Any
) -> dict[str, dict[str, Decimal]]:
    """Every stored rate dated from `first_month` to `month`, as the engine wants:
    {"USD/GEL": {day: rate}}."""
    start = date.fromisoformat(f"{first_month}-01")
    end = (pd.Timestamp(f"{month}-01") + pd.offsets.MonthBegin(1)).date()
    rows = uow.session.execute(
        select(m.FxRate.pair, m.FxRate.day, m.FxRate.rate)
        .where(m.FxRate.day >= start, m.FxRate.day < end)
        .order_by(m.FxRate.pair, m.FxRate.day)
    ).all()
    out: dict[str, dict[str, Decimal]] = {}
    for pair, day, rate in rows:
        out.setdefault(pair, {})[day.isoformat()] = rate
    digest.update(canonical_json(out).encode())
    return out


def _profiles(
    uow: UnitOfWork, names: set[str], start: pd.Timestamp, end: pd.Timestamp, digest: Any
) -> dict[str, Any]:
    """The generation profiles contracts are weighted by, over the month's calendar year."""
    from settlement.price_io import Profile
    from settlement.prices import validate_grid

    lo = pd.Timestamp(f"{start.year}-01-01", tz=start.tz).tz_convert(UTC).to_pydatetime()
    hi = max(pd.Timestamp(f"{start.year + 1}-01-01", tz=start.tz), end).tz_convert(UTC)
    out: dict[str, Any] = {}
    for name in sorted(names):
        point = m.ProfilePoint
        rows = uow.session.execute(
            select(point.ts, point.weight_milli)
            .where(point.profile == name, point.ts >= lo, point.ts < hi.to_pydatetime())
            .order_by(point.ts)
        ).all()
        starts = np.array([int(t.timestamp()) * 10**9 for t, _ in rows], dtype=np.int64)
        weights = np.array([w for _, w in rows], dtype=np.int64)
        digest.update(name.encode() + starts.tobytes() + weights.tobytes())
        if rows:
            source = f"db:profile:{name}"
            out[name] = Profile(name, source, validate_grid(starts, source), starts, weights)
    return out


def _cpi(uow: UnitOfWork, digest: Any) -> dict[str, Decimal]:
    """The stored CPI by month (a few hundred rows at most), for CPI-indexed contracts."""
    rows = uow.session.execute(select(m.CpiValue.month, m.CpiValue.cpi).order_by(m.CpiValue.month))
    out = {month: value for month, value in rows}
    digest.update(canonical_json(out).encode())
    return out


def run_settlement(
    uow: UnitOfWork, actor: Actor, month: str, idempotency_key: str | None = None
) -> RunOutcome:
    from settlement import MeterData, contracts_from_records, settle_month
    from settlement.trueup import closes_year

    actor.require("operator", "admin")
    start, end = month_bounds(month)
    uow.lock(f"settlement:{month}")
    if idempotency_key is not None:
        previous = uow.settlements.run_by_idempotency_key(idempotency_key)
        if previous is not None:
            if previous.month != month:
                raise Conflict("this Idempotency-Key was used for another month")
            return RunOutcome(previous, replayed=True)
    rows = _active_contracts(uow, start.date(), end.date())
    if not rows:
        raise InputError(Problem("settlement", None, "month", f"no contract is active in {month}"))
    records = [contract_record(r) for r in rows]
    contracts = contracts_from_records(records, source="db:contracts")
    # The month is a calendar month of the contracts' market (as `mzekari settle` decides).
    zones = {c.market_tz for c in contracts if c.market_tz}
    tz = zones.pop() if len(zones) == 1 else MARKET_TZ
    start, end = month_bounds(month, tz)
    # An annual reference closing in this month is trued up on the whole year's meters.
    first = start
    if any(closes_year(c, month) for c in contracts):
        first = pd.Timestamp(f"{month[:4]}-01-01", tz=tz)
    # Status: each contract's support windows are an input like its terms (contracts
    # without a status add nothing, so their runs keep the hash they had).
    windows = support_windows_for(uow, rows)
    hashed: list[Any] = [month, tz, records]
    if windows:
        hashed.append({k: [str(w) for w in ws] for k, ws in sorted(windows.items())})
    digest = hashlib.sha256(canonical_json(hashed).encode())
    names = {c.reference_series for c in contracts} | {
        c.fallback_series for c in contracts if c.fallback_series
    }
    prices = _prices(uow, names, start, end, digest)
    meter_frame = _meters(uow, rows, first, end, digest)
    fx_rates = _fx_rates(uow, first.strftime("%Y-%m"), month, digest)
    cpi = _cpi(uow, digest) if any(c.indexation == "cpi" for c in contracts) else None
    weightings = {c.weighting for c in contracts if "weighted" in c.reference_basis}
    profiles = _profiles(uow, weightings - {"own"}, start, end, digest)
    # GOs of the month's supported energy sold or cancelled: the double benefit (Art. 15(6)).
    go_uses = guarantees.month_uses(uow, month, {c.contract_id for c in contracts}, digest)
    # Lines posted earlier in the year count against annual volume caps.
    posted = uow.settlements.lines_for_year_until(month)
    input_sha256 = digest.hexdigest()
    basis_sha256 = hashlib.sha256(
        canonical_json(sorted(line.line_id for line in posted)).encode()
    ).hexdigest()
    latest = uow.settlements.latest_run(month)
    if latest is not None and latest.input_sha256 == input_sha256:
        return RunOutcome(latest, replayed=True)  # nothing changed since the last run
    meters = MeterData.from_frame(meter_frame, source=f"db:meter_readings:{month}")
    result = settle_month(
        contracts,
        prices,
        meters,
        month,
        tz=tz,
        posted_lines=[domain_line(p) for p in posted],
        fx_rates=fx_rates,
        cpi=cpi,
        profiles=profiles,
        support_windows=windows,
        guarantees=go_uses,
    )
    run = m.SettlementRun(
        month=month,
        input_sha256=input_sha256,
        basis_sha256=basis_sha256,
        idempotency_key=idempotency_key,
        line_count=len(result.lines),
        created_at=datetime.now(UTC),
        created_by=actor.key_id,
    )
    try:
        uow.settlements.add(run)
        _store(uow, run, result.statements)
        audit.record(
            uow,
            actor,
            "settlement.run",
            f"settlement/{run.id}",
            {
                "month": month,
                "inputs_sha256": input_sha256,
                "lines": len(result.lines),
                "statements": len(result.statements),
            },
        )
        uow.commit()
    except IntegrityError:
        # A concurrent run on the same inputs posted first: report that one.
        uow.rollback()
        winner = uow.settlements.latest_run(month)
        if winner is None or winner.input_sha256 != input_sha256:
            raise
        return RunOutcome(winner, replayed=True)
    return RunOutcome(run, replayed=False)


def _store(uow: UnitOfWork, run: m.SettlementRun, statements: Sequence[Any]) -> None:
    """Statements in one INSERT … RETURNING, then their lines in one executemany."""
    if not statements:
        return
    rows = [
        {
            "run_id": run.id,
            "producer": st.producer,
            "month": st.month,
            "currency": st.currency,
            "paid_to_producer_minor": to_minor_units(st.paid_to_producer, st.currency),
            "paid_by_producer_minor": to_minor_units(st.paid_by_producer, st.currency),
            "reductions_minor": to_minor_units(st.reductions, st.currency),
            "net_minor": to_minor_units(st.net, st.currency),
        }
        for st in statements
    ]
    ids = uow.session.scalars(
        insert(m.Statement).returning(m.Statement.id, sort_by_parameter_order=True), rows
    ).all()
    line_rows: list[dict[str, Any]] = []
    for statement_id, statement in zip(ids, statements, strict=True):
        for line in statement.lines:
            line_rows.append(
                {
                    "line_id": line.line_id,
                    "statement_id": statement_id,
                    "contract_id": line.contract_id,
                    "producer": line.producer,
                    "month": line.month,
                    "kind": line.kind,
                    "reference_price": line.reference_price,
                    "reference_series": line.reference_series,
                    "eligible_kwh": int(line.eligible_kwh),
                    "excluded_kwh": int(line.excluded_kwh),
                    "rate": line.rate,
                    "amount_minor": to_minor_units(line.amount, line.currency),
                    "currency": line.currency,
                    "direction": line.direction,
                    "corrects_line_id": line.corrects_line_id,
                    "explanation": line.explanation or "",
                    "adjusted_kind": line.adjusted_kind,
                }
            )
    if line_rows:
        uow.session.execute(insert(m.SettlementLine), line_rows)


def get_run(uow: UnitOfWork, actor: Actor, run_id: int) -> m.SettlementRun:
    actor.require("operator", "admin", "treasury")
    run = uow.settlements.run(run_id)
    if run is None:
        raise NotFound(f"no settlement run {run_id}")
    return run


def get_statement(uow: UnitOfWork, actor: Actor, statement_id: int) -> m.Statement:
    statement = uow.settlements.statement(statement_id)
    if statement is None or not actor.may_see_producer(statement.producer):
        raise NotFound(f"no statement {statement_id}")
    return statement


LINE_FIELDS = (
    "line_id",
    "contract_id",
    "kind",
    "reference_series",
    "reference_price",
    "eligible_kwh",
    "excluded_kwh",
    "rate",
    "currency",
    "direction",
    "corrects_line_id",
    "explanation",
)


def statement_document(uow: UnitOfWork, actor: Actor, statement_id: int) -> dict[str, Any]:
    """A statement and its lines (amounts in currency units) from one query, no ORM objects:
    the shape of the API's statement body. NotFound as `get_statement`."""
    from mzekari.money import from_minor_units

    st, ln = m.Statement.__table__, m.SettlementLine.__table__
    query = (
        select(
            st.c.id,
            st.c.run_id,
            st.c.producer,
            st.c.month,
            st.c.currency,
            st.c.paid_to_producer_minor,
            st.c.paid_by_producer_minor,
            st.c.reductions_minor,
            st.c.net_minor,
            ln.c.amount_minor.label("line_amount_minor"),
            *(ln.c[name].label(f"line_{name}") for name in LINE_FIELDS),
        )
        .select_from(st.outerjoin(ln, ln.c.statement_id == st.c.id))
        .where(st.c.id == statement_id)
        .order_by(ln.c.line_id)
    )
    rows = uow.session.execute(query).mappings().all()
    if not rows or not actor.may_see_producer(rows[0]["producer"]):
        raise NotFound(f"no statement {statement_id}")
    head, currency = rows[0], rows[0]["currency"]
    lines = [
        {
            **{name: row[f"line_{name}"] for name in LINE_FIELDS},
            "amount": from_minor_units(row["line_amount_minor"], row["line_currency"]),
        }
        for row in rows
        if row["line_line_id"] is not None
    ]
    return {
        "id": head["id"],
        "run_id": head["run_id"],
        "producer": head["producer"],
        "month": head["month"],
        "currency": currency,
        "paid_to_producer": from_minor_units(head["paid_to_producer_minor"], currency),
        "paid_by_producer": from_minor_units(head["paid_by_producer_minor"], currency),
        "reductions": from_minor_units(head["reductions_minor"], currency),
        "net": from_minor_units(head["net_minor"], currency),
        "lines": lines,
    }


def list_statements(
    uow: UnitOfWork,
    actor: Actor,
    month: str | None = None,
    producer: str | None = None,
    run_id: int | None = None,
) -> Sequence[m.Statement]:
    if actor.role == "producer":
        if producer is not None and producer != actor.producer:
            return []
        producer = actor.producer
    return uow.settlements.statements(producer=producer, month=month, run_id=run_id)


def statement_csv(statement: m.Statement) -> str:
    from mzekari.money import from_minor_units

    columns = [
        "line_id",
        "contract_id",
        "producer",
        "month",
        "kind",
        "reference_series",
        "reference_price",
        "eligible_kwh",
        "excluded_kwh",
        "rate",
        "amount",
        "currency",
        "direction",
        "corrects_line_id",
        "explanation",
    ]
    frame = pd.DataFrame(
        [
            {
                **{c: getattr(line, c) for c in columns if c != "amount"},
                "amount": format(from_minor_units(line.amount_minor, line.currency), "f"),
            }
            for line in sorted(statement.lines, key=lambda ln: ln.line_id)
        ],
        columns=columns,
    )
    for column in ("reference_price", "rate"):
        frame[column] = frame[column].map(lambda v: "" if v is None else format(Decimal(v), "f"))
    return str(frame.to_csv(index=False, lineterminator="\n"))
