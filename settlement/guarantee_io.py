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
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

from mzekari.errors import InputError, ProblemCollector
from mzekari.money import D
from settlement.guarantees import (
    COUNTRY,
    RECOGNITION,
    STATUSES,
    Batch,
    Holding,
    Installation,
    check_batch_coverage,
    check_installation,
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


def _int(text: str, low: int = 0, high: int = MAX_VOLUME * 1000) -> int:
    value = int(text.strip())
    if not low <= value <= high:
        raise ValueError(f"{value} is not within {low} and {high}")
    return value


def _row_batch(row: dict[str, str]) -> Batch:
    """The batch a row describes (ValueError names nothing: the caller adds row and field)."""
    country = row["issuing_country"].strip().upper()
    inst = Installation(
        installation_id=row["production_device_id"].strip(),
        producer=row["issued_to"].strip(),
        energy_source=row["energy_source"].strip(),
        installation_type=row["device_type"].strip(),
        location=row["device_location"].strip(),
        capacity_mw=D(row["device_capacity_mw"]),
        commissioning_date=date.fromisoformat(row["commissioning_date"].strip()),
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
        raise ValueError(f"recognition {recognition!r}; known: {', '.join(RECOGNITION)}")
    if not _BATCH_ID.match(batch_id):
        raise ValueError(f"batch_id {batch_id!r}: 1–100 letters, digits, '.', '_' or '-'")
    start = date.fromisoformat(row["production_period_start"].strip())
    end = date.fromisoformat(row["production_period_end"].strip())
    if end < start:
        raise ValueError(f"production ends {end}, before it starts {start}")
    reason = row["refusal_reason"].strip()
    if len(reason) > 500:
        raise ValueError("refusal_reason: at most 500 characters")
    return Batch(
        batch_id=batch_id,
        installation=inst,
        production_start=start,
        production_end=end,
        issue_date=date.fromisoformat(row["issue_date"].strip()),
        volume=_int(row["batch_volume_mwh"], 0, MAX_VOLUME),
        issued_to=inst.producer,
        metered_kwh=_int(row["metered_kwh"]),
        carried_in_kwh=_int(row["carried_in_kwh"], 0, 999),
        carried_out_kwh=_int(row["carried_out_kwh"], 0, 999),
        origin="issued" if country == COUNTRY else "imported",
        recognition=recognition,
        refusal_reason=reason,
        serial_width=_serial_width(row),
    )


def _serial_width(row: dict[str, str]) -> int:
    first = row["certificate_id_from"].strip()
    return len(first.rsplit("-", 1)[1]) if first else 7


def _row_holding(row: dict[str, str], batch: Batch) -> Holding | None:
    status = row["status"].strip()
    if status not in ROW_STATUSES:
        raise ValueError(f"status {status!r}; known: {', '.join(ROW_STATUSES)}")
    first_id, last_id = row["certificate_id_from"].strip(), row["certificate_id_to"].strip()
    volume = _int(row["volume_mwh"], 0, MAX_VOLUME)
    if status == "empty":
        if batch.volume or first_id or last_id or volume:
            raise ValueError("an empty batch issued no GO")
        return None
    batch_a, first = parse_go_id(first_id)
    batch_b, last = parse_go_id(last_id)
    if batch_a != batch.batch_id or batch_b != batch.batch_id:
        raise ValueError(f"certificate ids are not of batch {batch.batch_id!r}")
    if last - first + 1 != volume or volume <= 0:
        raise ValueError(f"{first_id}…{last_id} is not {volume} GOs")
    if status == "refused":
        if batch.recognition != "refused" or (first, last) != (1, batch.volume):
            raise ValueError("a refused row covers its whole batch, marked refused")
        return None
    cancelled = row["cancelled_on"].strip()
    beneficiary = row["beneficiary"].strip() or None
    if (status == "cancelled") != bool(cancelled) or (status == "cancelled") != bool(beneficiary):
        raise ValueError("a cancelled run, and only one, names its date and consumer")
    account = row["account"].strip()
    if not 0 < len(account) <= 200 or len(beneficiary or "") > 200:
        raise ValueError("account and beneficiary: 1–200 characters")
    return Holding(
        batch.batch_id,
        first,
        last,
        account,
        status,
        date.fromisoformat(cancelled) if cancelled else None,
        beneficiary,
    )


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
        row = {k.strip(): (v or "") for k, v in raw.items() if k is not None}
        try:
            batch = recognise(_row_batch(row))
        except InputError as exc:
            for p in exc.problems:
                problems.add(row_no, p.field, p.message)
            continue
        except (ValueError, ArithmeticError, IndexError) as exc:
            problems.add(row_no, None, f"batch fields: {exc}")
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
        except InputError as exc:
            problems.add(row_no, "certificate_id_from", exc.problems[0].message)
            continue
        except ValueError as exc:
            problems.add(row_no, "status", str(exc))
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
    return Ledger(batches, holdings)


def read_ledger(path: str | Path) -> Ledger:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc}") from exc
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
