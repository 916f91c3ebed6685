"""GO ledger files: one row per holding, in a shape close to EECS registry exports.

Columns (README "Guarantees of origin"): the run of certificate ids and its volume, the account
and state, then every 15(12) field of the batch the GOs belong to, then what this ledger needs to
mirror the batch (its volume, metering and carried energy). Rows of one batch repeat its fields
and must agree. A batch that issued no GO (all its energy carried) or was refused on import has
one row with status ``empty`` or ``refused`` and no account.

`read_ledger_text` validates every row and reports all problems with their row and field;
`write_ledger_text` writes what `read_ledger_text` reads back to the same ledger.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from mzekari.errors import InputError, ProblemCollector
from mzekari.money import D
from settlement.guarantees import (
    COUNTRY,
    FIRST_YEAR,
    KWH_PER_GO,
    LAST_YEAR,
    RECOGNITION,
    STATUSES,
    Batch,
    Holding,
    Installation,
    check_batch_coverage,
    check_installation,
    name_problem,
    parse_go_id,
    recognise,
)

COLUMNS = (
    "certificate_id_from",
    "certificate_id_to",
    "volume_mwh",
    "account",
    "status",
    "cancelled_on",
    "beneficiary",
    "batch_id",
    "issuing_country",
    "issue_date",
    "production_period_start",
    "production_period_end",
    "energy_source",
    "energy_carrier",
    "production_device_id",
    "device_type",
    "device_location",
    "device_capacity_mw",
    "commissioning_date",
    "investment_support",
    "support_scheme",
    "production_support",
    "contract_id",
    "issued_to",
    "batch_volume_mwh",
    "metered_kwh",
    "carried_in_kwh",
    "carried_out_kwh",
    "recognition",
    "refusal_reason",
)
ROW_STATUSES = (*STATUSES, "empty", "refused")
MAX_ROWS = 200_000
_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_VOLUME = 10**9


@dataclass
class Ledger:
    """Batches by id and the holdings of their GOs (in memory: files, the command line)."""

    batches: dict[str, Batch]
    holdings: list[Holding]
    rows: dict[str, int] = field(default_factory=dict)  # a batch's first row in its file

    def apply(self, removed: Iterable[Holding], added: Iterable[Holding]) -> None:
        gone = set(removed)
        self.holdings = [h for h in self.holdings if h not in gone] + list(added)

    def sorted_holdings(self) -> list[Holding]:
        return sorted(self.holdings, key=lambda h: (h.batch_id, h.first))


def _batch_fields(batch: Batch) -> dict[str, str]:
    inst = batch.installation
    return {
        "batch_id": batch.batch_id,
        "issuing_country": inst.country,
        "issue_date": batch.issue_date.isoformat(),
        "production_period_start": batch.production_start.isoformat(),
        "production_period_end": batch.production_end.isoformat(),
        "energy_source": inst.energy_source,
        "energy_carrier": inst.energy_carrier,
        "production_device_id": inst.installation_id,
        "device_type": inst.installation_type,
        "device_location": inst.location,
        "device_capacity_mw": format(inst.capacity_mw, "f"),
        "commissioning_date": inst.commissioning_date.isoformat(),
        "investment_support": inst.investment_support,
        "support_scheme": inst.support_scheme,
        "production_support": inst.production_support,
        "contract_id": inst.contract_id or "",
        "issued_to": batch.issued_to,
        "batch_volume_mwh": str(batch.volume),
        "metered_kwh": str(batch.metered_kwh),
        "carried_in_kwh": str(batch.carried_in_kwh),
        "carried_out_kwh": str(batch.carried_out_kwh),
        "recognition": batch.recognition,
        "refusal_reason": batch.refusal_reason,
    }


def ledger_rows(ledger: Ledger) -> list[dict[str, str]]:
    held: dict[str, list[Holding]] = {}
    for h in ledger.sorted_holdings():
        held.setdefault(h.batch_id, []).append(h)
    rows = []
    for batch_id in sorted(ledger.batches):
        batch = ledger.batches[batch_id]
        common = _batch_fields(batch)
        for h in held.get(batch_id, []):
            rows.append(
                {
                    "certificate_id_from": batch.go_id(h.first),
                    "certificate_id_to": batch.go_id(h.last),
                    "volume_mwh": str(h.count),
                    "account": h.holder,
                    "status": h.status,
                    "cancelled_on": h.cancelled_on.isoformat() if h.cancelled_on else "",
                    "beneficiary": h.beneficiary or "",
                    **common,
                }
            )
        if batch_id not in held:
            status = "refused" if batch.recognition == "refused" else "empty"
            first = batch.go_id(1) if batch.volume else ""
            last = batch.go_id(batch.volume) if batch.volume else ""
            rows.append(
                {
                    "certificate_id_from": first,
                    "certificate_id_to": last,
                    "volume_mwh": str(batch.volume),
                    "account": "",
                    "status": status,
                    "cancelled_on": "",
                    "beneficiary": "",
                    **common,
                }
            )
    return rows


def write_ledger_text(ledger: Ledger) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(ledger_rows(ledger))
    return out.getvalue()


def write_ledger(path: str | Path, ledger: Ledger) -> Path:
    target = Path(path)
    target.write_text(write_ledger_text(ledger), encoding="utf-8")
    return target


class _FieldError(ValueError):
    """A bad value of one column (the reader adds source and row)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def _int(row: dict[str, str], name: str, low: int = 0, high: int = MAX_VOLUME * 1000) -> int:
    text = row[name].strip()
    try:
        value = int(text)
    except ValueError:
        raise _FieldError(name, f"{text[:40]!r} is not a whole number") from None
    if not low <= value <= high:
        raise _FieldError(name, f"{value} is not within {low} and {high}")
    return value


def _date(row: dict[str, str], name: str) -> date:
    text = row[name].strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _FieldError(name, f"{text[:40]!r} is not a date YYYY-MM-DD") from None


def _decimal(row: dict[str, str], name: str) -> Decimal:
    text = row[name].strip()
    try:
        value = D(text)
    except (ValueError, ArithmeticError):
        raise _FieldError(name, f"{text[:40]!r} is not a number") from None
    return value


def _row_batch(row: dict[str, str]) -> Batch:
    """The batch a row describes (`_FieldError` or `InputError` name the field)."""
    country = row["issuing_country"].strip().upper()
    inst = Installation(
        installation_id=row["production_device_id"].strip(),
        producer=row["issued_to"].strip(),
        energy_source=row["energy_source"].strip(),
        installation_type=row["device_type"].strip(),
        location=row["device_location"].strip(),
        capacity_mw=_decimal(row, "device_capacity_mw"),
        commissioning_date=_date(row, "commissioning_date"),
        investment_support=row["investment_support"].strip() or "none",
        support_scheme=row["support_scheme"].strip() or "none",
        production_support=row["production_support"].strip() or "none",
        contract_id=row["contract_id"].strip() or None,
        country=country,
        energy_carrier=row["energy_carrier"].strip(),
    )
    check_installation(inst)
    batch_id = row["batch_id"].strip()
    recognition = row["recognition"].strip() or "recognised"
    if recognition not in RECOGNITION:
        raise _FieldError("recognition", f"{recognition!r}; known: {', '.join(RECOGNITION)}")
    if not _BATCH_ID.match(batch_id):
        raise _FieldError("batch_id", "1–100 letters, digits, '.', '_' or '-'")
    start = _date(row, "production_period_start")
    end = _date(row, "production_period_end")
    if end < start:
        raise _FieldError("production_period_end", f"{end} is before the start {start}")
    if not (start.year >= FIRST_YEAR and end.year <= LAST_YEAR):
        raise _FieldError(
            "production_period_start", f"production is not within {FIRST_YEAR} and {LAST_YEAR}"
        )
    if inst.commissioning_date > end:
        raise _FieldError("commissioning_date", f"after the production period's end {end}")
    issued_on = _date(row, "issue_date")
    if issued_on <= end:
        raise _FieldError("issue_date", f"{issued_on} is not after the production period {end}")
    reason = row["refusal_reason"].strip()
    if reason and name_problem(reason, 500):
        raise _FieldError("refusal_reason", str(name_problem(reason, 500)))
    batch = Batch(
        batch_id=batch_id,
        installation=inst,
        production_start=start,
        production_end=end,
        issue_date=issued_on,
        volume=_int(row, "batch_volume_mwh", 0, MAX_VOLUME),
        issued_to=inst.producer,
        metered_kwh=_int(row, "metered_kwh"),
        carried_in_kwh=_int(row, "carried_in_kwh", 0, KWH_PER_GO - 1),
        carried_out_kwh=_int(row, "carried_out_kwh", 0, KWH_PER_GO - 1),
        origin="issued" if country == COUNTRY else "imported",
        recognition=recognition,
        refusal_reason=reason,
        serial_width=_serial_width(row),
    )
    if batch.origin == "issued":
        _check_metering(batch)
    return batch


def _check_metering(batch: Batch) -> None:
    """A domestic batch issues whole MWh of its metered and carried energy, and its
    installation cannot have metered more than its capacity over the production period."""
    counted = batch.volume * KWH_PER_GO + batch.carried_out_kwh
    if counted != batch.metered_kwh + batch.carried_in_kwh:
        raise _FieldError(
            "batch_volume_mwh",
            f"{batch.volume} MWh and {batch.carried_out_kwh} kWh carried out are not the "
            f"{batch.metered_kwh} kWh metered and {batch.carried_in_kwh} kWh carried in",
        )
    hours = (batch.production_end - batch.production_start).days * 24 + 25
    if batch.metered_kwh > int(batch.installation.capacity_mw * 1000) * hours:
        raise _FieldError(
            "metered_kwh",
            f"{batch.metered_kwh} kWh is above capacity {batch.installation.capacity_mw} MW × "
            "the production period's hours",
        )


def _serial_width(row: dict[str, str]) -> int:
    first = row["certificate_id_from"].strip()
    return len(first.rsplit("-", 1)[1]) if "-" in first else 7


def _row_holding(row: dict[str, str], batch: Batch) -> Holding | None:
    status = row["status"].strip()
    if status not in ROW_STATUSES:
        raise _FieldError("status", f"{status!r}; known: {', '.join(ROW_STATUSES)}")
    first_id, last_id = row["certificate_id_from"].strip(), row["certificate_id_to"].strip()
    volume = _int(row, "volume_mwh", 0, MAX_VOLUME)
    if status == "empty":
        if batch.volume or first_id or last_id or volume:
            raise _FieldError("status", "an empty batch issued no GO")
        return None
    if batch.recognition == "refused" and status != "refused":
        raise _FieldError(
            "status",
            f"batch {batch.batch_id} is refused ({batch.refusal_reason}): its one row has "
            "status 'refused' and no account",
        )
    batch_a, first = _go_id(first_id, "certificate_id_from")
    batch_b, last = _go_id(last_id, "certificate_id_to")
    if batch_a != batch.batch_id or batch_b != batch.batch_id:
        raise _FieldError("certificate_id_from", f"ids are not of batch {batch.batch_id!r}")
    if last - first + 1 != volume or volume <= 0:
        raise _FieldError("volume_mwh", f"{first_id}…{last_id} is not {volume} GOs")
    if status == "refused":
        if batch.recognition != "refused" or (first, last) != (1, batch.volume):
            raise _FieldError("status", "a refused row covers its whole batch, marked refused")
        return None
    cancelled = row["cancelled_on"].strip()
    beneficiary = row["beneficiary"].strip() or None
    if (status == "cancelled") != bool(cancelled) or (status == "cancelled") != bool(beneficiary):
        raise _FieldError(
            "cancelled_on", "a cancelled run, and only one, names its date and consumer"
        )
    account = row["account"].strip()
    for name, value in (("account", account), ("beneficiary", beneficiary)):
        problem = None if value is None else name_problem(value)
        if problem:
            raise _FieldError(name, problem)
    cancelled_on = _date(row, "cancelled_on") if cancelled else None
    if cancelled_on is not None and not batch.issue_date <= cancelled_on <= batch.expires_on:
        raise _FieldError(
            "cancelled_on",
            f"{cancelled_on} is not within the issue date {batch.issue_date} and the expiry "
            f"{batch.expires_on} (Art. 15(8))",
        )
    return Holding(batch.batch_id, first, last, account, status, cancelled_on, beneficiary)


def _go_id(text: str, name: str) -> tuple[str, int]:
    try:
        return parse_go_id(text)
    except InputError as exc:
        raise _FieldError(name, exc.problems[0].message) from None


def read_ledger_text(text: str, source: str = "guarantees.csv") -> Ledger:
    """A ledger from its CSV: every row checked, batches complete, imports recognised."""
    problems = ProblemCollector(source)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    for name in missing:
        problems.add(None, name, "missing column")
    for name in unknown:
        problems.add(None, name, "unknown column")
    problems.raise_if_any()
    batches: dict[str, Batch] = {}
    first_row: dict[str, int] = {}
    holdings: list[Holding] = []
    for row_no, raw in enumerate(reader, start=1):
        if row_no > MAX_ROWS:
            problems.add(row_no, None, f"more than {MAX_ROWS} rows")
            break
        if None in raw:
            problems.add(row_no, None, f"more cells than the header's {len(header)} columns")
            continue
        row = {k.strip(): (v or "") for k, v in raw.items()}
        try:
            batch = recognise(_row_batch(row))
        except InputError as exc:
            for p in exc.problems:
                problems.add(row_no, p.field, p.message)
            continue
        except _FieldError as exc:
            problems.add(row_no, exc.field, str(exc))
            continue
        known = batches.setdefault(batch.batch_id, batch)
        first_row.setdefault(batch.batch_id, row_no)
        if known != batch:
            problems.add(
                row_no,
                "batch_id",
                f"batch fields differ from row {first_row[batch.batch_id]} of the same batch",
            )
            continue
        try:
            holding = _row_holding(row, batch)
        except _FieldError as exc:
            problems.add(row_no, exc.field, str(exc))
            continue
        if holding is not None:
            holdings.append(holding)
    problems.raise_if_any()
    by_batch: dict[str, list[Holding]] = {}
    for h in holdings:
        by_batch.setdefault(h.batch_id, []).append(h)
    for batch in batches.values():
        for message in check_batch_coverage(batch, by_batch.get(batch.batch_id, [])):
            problems.add(first_row[batch.batch_id], "certificate_id_from", message)
    problems.raise_if_any()
    return Ledger(batches, holdings, first_row)


def check_contract_producers(
    ledger: Ledger, producers: Mapping[str, str], month: str, source: str
) -> None:
    """The month's domestic batches name a known contract and were issued to its producer:
    GOs held by anyone else would count as sold (Art. 15(6))."""
    problems = ProblemCollector(source)
    for batch_id, batch in sorted(ledger.batches.items()):
        cid = batch.installation.contract_id
        if batch.month != month or batch.origin != "issued" or cid is None:
            continue
        row = ledger.rows.get(batch_id)
        if cid not in producers:
            problems.add(row, "contract_id", f"batch {batch_id}: no contract {cid!r}")
        elif batch.issued_to != producers[cid]:
            problems.add(
                row,
                "issued_to",
                f"batch {batch_id}: {batch.issued_to!r} is not the producer "
                f"{producers[cid]!r} of contract {cid}",
            )
    problems.raise_if_any()


def read_ledger(path: str | Path) -> Ledger:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not UTF-8 text (byte {exc.start}); save the ledger as UTF-8 CSV"
        ) from exc
    return read_ledger_text(text, source)


def batch_as_record(batch: Batch) -> dict[str, Any]:
    """The batch's fields by name (the service stores them column for column)."""
    inst = batch.installation
    return {
        **{f.name: getattr(batch, f.name) for f in fields(Batch) if f.name != "installation"},
        **{f.name: getattr(inst, f.name) for f in fields(Installation)},
    }


def batch_from_record(record: dict[str, Any]) -> Batch:
    inst_names = {f.name for f in fields(Installation)}
    inst = Installation(**{k: v for k, v in record.items() if k in inst_names})
    rest = {f.name: record[f.name] for f in fields(Batch) if f.name != "installation"}
    return Batch(installation=inst, **rest)
