"""The GO ledger kept in the database: installations, batches and holdings, changed only by the
operations of `settlement.guarantees` under one lock, each change audited in its transaction.

A producer acts on and sees only its own account; the registry operator (operator, admin) may
act on any account, import and export. Dates of actions are today's date in Asia/Tbilisi,
never a date the caller states: a GO cannot be back-dated out of its expiry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import delete, func, insert, select

from api.actor import Actor, Conflict, NotFound
from api.canonical import canonical_json
from api.db import models as m
from api.services import audit
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem
from mzekari.vocabulary import MARKET_TZ
from settlement.guarantee_io import (
    Ledger,
    batch_as_record,
    batch_from_record,
    read_ledger_text,
    write_ledger_text,
)
from settlement.guarantees import (
    Batch,
    Change,
    GoUse,
    GuaranteeNotFound,
    Holding,
    Installation,
    benefited,
    cancel,
    check_installation,
    check_month,
    check_name,
    initial_holdings,
    issue_batch,
    metered_period,
    parse_range,
    transfer,
    uses_kept,
)

LOCK = "guarantees"
INSTALLATION_FIELDS = (
    "installation_id",
    "producer",
    "energy_source",
    "installation_type",
    "location",
    "capacity_mw",
    "commissioning_date",
    "investment_support",
    "support_scheme",
    "production_support",
    "contract_id",
    "country",
    "energy_carrier",
)


def market_today() -> date:
    return datetime.now(ZoneInfo(MARKET_TZ)).date()


def _installation(row: m.GoInstallation) -> Installation:
    return Installation(**{name: getattr(row, name) for name in INSTALLATION_FIELDS})


def _batch(row: m.GoBatch) -> Batch:
    record = {c.key: getattr(row, c.key) for c in m.GoBatch.__table__.columns}
    return batch_from_record(record)


def _holding(row: m.GoHolding) -> Holding:
    return Holding(
        row.batch_id,
        row.first_serial,
        row.last_serial,
        row.holder,
        row.status,
        row.cancelled_on,
        row.beneficiary,
    )


def _holding_row(h: Holding) -> dict[str, Any]:
    return {
        "batch_id": h.batch_id,
        "first_serial": h.first,
        "last_serial": h.last,
        "holder": h.holder,
        "status": h.status,
        "cancelled_on": h.cancelled_on,
        "beneficiary": h.beneficiary,
    }


def _store_batch(uow: UnitOfWork, batch: Batch, holdings: Sequence[Holding]) -> None:
    record = batch_as_record(batch)
    uow.session.add(m.GoBatch(**record, month=batch.month, created_at=datetime.now(UTC)))
    uow.session.flush()
    if holdings:
        uow.session.execute(insert(m.GoHolding), [_holding_row(h) for h in holdings])


def register_installation(
    uow: UnitOfWork, actor: Actor, fields: dict[str, Any], today: date
) -> m.GoInstallation:
    """The registry operator registers an installation commissioned by `today`; a supported
    one names its contract, which must be the same producer's under the stated scheme and no
    other installation's."""
    actor.require("operator", "admin")
    inst = Installation(**fields)
    check_installation(inst, "installation")
    if inst.commissioning_date > today:
        raise InputError(
            Problem(
                "installation",
                None,
                "commissioning_date",
                f"{inst.commissioning_date} is after today {today}: an installation is "
                "registered once commissioned",
            )
        )
    if inst.contract_id is not None:
        contract = uow.contracts.get(inst.contract_id)
        if contract is None or contract.producer != inst.producer:
            raise InputError(
                Problem(
                    "installation",
                    None,
                    "contract_id",
                    f"no contract {inst.contract_id!r} of producer {inst.producer!r}",
                )
            )
        if contract.scheme != inst.support_scheme:
            raise InputError(
                Problem(
                    "installation",
                    None,
                    "support_scheme",
                    f"contract {inst.contract_id} is {contract.scheme}, not {inst.support_scheme}",
                )
            )
    uow.lock(LOCK)
    existing = uow.session.scalar(
        select(m.GoInstallation).where(m.GoInstallation.installation_id == inst.installation_id)
    )
    if existing is not None:
        raise Conflict(f"installation {inst.installation_id!r} is already registered")
    if inst.contract_id is not None:
        other = uow.session.scalar(
            select(m.GoInstallation.installation_id).where(
                m.GoInstallation.contract_id == inst.contract_id
            )
        )
        if other is not None:
            raise Conflict(
                f"contract {inst.contract_id} is already the contract of installation {other}: "
                "one MWh is issued once (Art. 15(5))"
            )
    row = m.GoInstallation(
        **{name: getattr(inst, name) for name in INSTALLATION_FIELDS},
        created_at=datetime.now(UTC),
    )
    uow.session.add(row)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "guarantee.installation",
        f"go_installation/{inst.installation_id}",
        {"producer": inst.producer, "contract_id": inst.contract_id},
    )
    uow.commit()
    return row


def list_installations(uow: UnitOfWork, actor: Actor) -> Sequence[m.GoInstallation]:
    actor.require("producer", "operator", "admin")
    query = select(m.GoInstallation).order_by(m.GoInstallation.installation_id)
    if actor.role == "producer":
        query = query.where(m.GoInstallation.producer == actor.producer)
    return uow.session.scalars(query).all()


def _metered_kwh(uow: UnitOfWork, contract_id: str, month: str) -> int:
    """The month's metered production of a contract; the month must be fully metered."""
    contract = uow.contracts.get(contract_id)
    if contract is None:
        raise InputError(Problem("issuance", None, "contract_id", f"no contract {contract_id!r}"))
    start = pd.Timestamp(f"{month}-01", tz=MARKET_TZ)
    end = start + pd.offsets.MonthBegin(1)
    count, total = uow.session.execute(
        select(func.count(), func.coalesce(func.sum(m.MeterReading.energy_kwh), 0)).where(
            m.MeterReading.contract_pk == contract.id,
            m.MeterReading.ts >= start.tz_convert(UTC).to_pydatetime(),
            m.MeterReading.ts < end.tz_convert(UTC).to_pydatetime(),
        )
    ).one()
    hours = int((end - start) / pd.Timedelta(hours=1))
    if count not in (hours, 4 * hours):
        raise InputError(
            Problem(
                "issuance",
                None,
                "month",
                f"meter data of {contract_id} covers {count} intervals of {month}; GOs are "
                f"issued for a fully metered month ({hours} hours)",
            )
        )
    return int(total)


def issue(
    uow: UnitOfWork, actor: Actor, installation_id: str, month: str, today: date
) -> tuple[Batch, list[Holding]]:
    """GOs for a month's metered production, on the producer's request (Art. 15(2))."""
    actor.require("producer", "operator", "admin")
    check_month(month)
    uow.lock(LOCK)
    row = uow.session.scalar(
        select(m.GoInstallation).where(m.GoInstallation.installation_id == installation_id)
    )
    if row is None or not actor.may_see_producer(row.producer):
        raise NotFound(f"no installation {installation_id!r}")
    inst = _installation(row)
    if inst.contract_id is None:
        raise InputError(
            Problem(
                "issuance",
                None,
                "installation_id",
                f"{installation_id} has no contract, so no meter data here: import its GOs "
                "from the national registry instead",
            )
        )
    metered = _metered_kwh(uow, inst.contract_id, month)
    earlier = uow.session.scalars(
        select(m.GoBatch).where(
            m.GoBatch.installation_id == installation_id, m.GoBatch.origin == "issued"
        )
    ).all()
    batch = issue_batch(inst, month, metered, today, [_batch(b) for b in earlier])
    if uow.session.get(m.GoBatch, batch.batch_id) is not None:
        raise Conflict(f"batch {batch.batch_id} is already in the ledger")
    _refuse_counted_twice(uow, batch)
    holdings = initial_holdings(batch)
    _store_batch(uow, batch, holdings)
    audit.record(
        uow,
        actor,
        "guarantee.issue",
        f"go_batch/{batch.batch_id}",
        {
            "month": month,
            "metered_kwh": metered,
            "carried_in_kwh": batch.carried_in_kwh,
            "volume": batch.volume,
            "carried_out_kwh": batch.carried_out_kwh,
            "issued_to": batch.issued_to,
        },
    )
    uow.commit()
    return batch, holdings


@dataclass(frozen=True)
class Outcome:
    batch: Batch
    change: Change


def _act(
    uow: UnitOfWork,
    actor: Actor,
    first_id: str,
    last_id: str,
    account: str | None,
    action: str,
    operation: Callable[[Batch, list[Holding], int, int, str | None], Change],
    details: dict[str, Any],
) -> Outcome:
    actor.require("producer", "operator", "admin")
    batch_id, first, last = parse_range(first_id, last_id)
    if account is not None:
        check_name(account, "account")
    holder = actor.producer if actor.role == "producer" else account
    # One answer for GOs that do not exist, are not all held, or are another account's:
    # an account learns nothing of GOs it does not hold.
    not_held = NotFound("the GOs of this range are not all held in the acting account")
    uow.lock(LOCK)
    batch_row = uow.session.get(m.GoBatch, batch_id)
    if batch_row is None:
        raise not_held
    rows = uow.session.scalars(select(m.GoHolding).where(m.GoHolding.batch_id == batch_id)).all()
    ids = {_holding(r): r.id for r in rows}
    batch = _batch(batch_row)
    try:
        change = operation(batch, list(ids), first, last, holder)
    except GuaranteeNotFound:
        raise not_held from None
    # Deletes first: a replacing run may start at the same serial (unique per batch).
    uow.session.execute(
        delete(m.GoHolding).where(m.GoHolding.id.in_([ids[h] for h in change.removed]))
    )
    uow.session.execute(insert(m.GoHolding), [_holding_row(h) for h in change.added])
    audit.record(
        uow,
        actor,
        f"guarantee.{action}",
        f"go_batch/{batch_id}",
        {"first_id": first_id, "last_id": last_id, "account": holder, **details},
    )
    uow.commit()
    return Outcome(batch, change)


def transfer_gos(
    uow: UnitOfWork,
    actor: Actor,
    first_id: str,
    last_id: str,
    to_account: str,
    today: date,
    account: str | None = None,
) -> Outcome:
    return _act(
        uow,
        actor,
        first_id,
        last_id,
        account,
        "transfer",
        lambda b, hs, f, la, who: transfer(b, hs, f, la, to_account, today, who),
        {"to_account": to_account, "on": today.isoformat()},
    )


def cancel_gos(
    uow: UnitOfWork,
    actor: Actor,
    first_id: str,
    last_id: str,
    beneficiary: str,
    today: date,
    account: str | None = None,
) -> Outcome:
    return _act(
        uow,
        actor,
        first_id,
        last_id,
        account,
        "cancel",
        lambda b, hs, f, la, who: cancel(b, hs, f, la, beneficiary, today, who),
        {"beneficiary": beneficiary, "on": today.isoformat()},
    )


def account_holdings(
    uow: UnitOfWork, actor: Actor, holder: str | None = None
) -> list[tuple[Batch, Holding]]:
    """Holdings of one account (a producer's own only), oldest production first."""
    actor.require("producer", "operator", "admin")
    if holder is not None:
        check_name(holder, "holder")
    if actor.role == "producer":
        if holder is not None and holder != actor.producer:
            return []
        holder = actor.producer
    query = select(m.GoHolding, m.GoBatch).join(
        m.GoBatch, m.GoBatch.batch_id == m.GoHolding.batch_id
    )
    if holder is not None:
        query = query.where(m.GoHolding.holder == holder)
    query = query.order_by(m.GoBatch.production_end, m.GoHolding.batch_id, m.GoHolding.first_serial)
    return [(_batch(b), _holding(h)) for h, b in uow.session.execute(query).all()]


def _ledger(uow: UnitOfWork, batch_filter: Any = None) -> Ledger:
    query = select(m.GoBatch)
    if batch_filter is not None:
        query = query.where(batch_filter)
    batches = {row.batch_id: _batch(row) for row in uow.session.scalars(query)}
    holdings = [
        _holding(row)
        for row in uow.session.scalars(
            select(m.GoHolding).where(m.GoHolding.batch_id.in_(list(batches)))
        )
    ]
    return Ledger(batches, holdings)


def export_ledger(uow: UnitOfWork, actor: Actor) -> str:
    actor.require("operator", "admin")
    return write_ledger_text(_ledger(uow))


@dataclass(frozen=True)
class ImportOutcome:
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    refused: dict[str, str]


def import_ledger(uow: UnitOfWork, actor: Actor, text: str, today: date) -> ImportOutcome:
    """GO records from a registry export (the `export_ledger` shape), so the ledger can mirror
    the national registry. A new batch is added; a known one with the same fields takes the
    file's holdings when they only move GOs on (`uses_kept`: a cancellation is never undone);
    other fields, or an undone use, are a conflict and nothing is written. A new domestic
    batch describes its registered installation as registered, and counts no production
    already counted for that installation or contract."""
    actor.require("operator", "admin")
    incoming = read_ledger_text(text, "import")
    for h in incoming.holdings:
        if h.cancelled_on is not None and h.cancelled_on > today:
            raise InputError(
                Problem(
                    "import",
                    incoming.rows.get(h.batch_id),
                    "cancelled_on",
                    f"batch {h.batch_id}: {h.cancelled_on} is after today {today}",
                )
            )
    uow.lock(LOCK)
    present = _ledger(uow, m.GoBatch.batch_id.in_(list(incoming.batches)))
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    incoming_runs, present_runs = _by_batch(incoming.holdings), _by_batch(present.holdings)
    for batch_id, batch in sorted(incoming.batches.items()):
        theirs = incoming_runs.get(batch_id, [])
        if batch_id in present.batches:
            ours = present_runs.get(batch_id, [])
            if present.batches[batch_id] != batch:
                raise Conflict(f"batch {batch_id} is already in the ledger with other fields")
            if ours == theirs:
                unchanged.append(batch_id)
                continue
            undone = uses_kept(batch, ours, theirs)
            if undone:
                raise Conflict(undone[0])
            uow.session.execute(delete(m.GoHolding).where(m.GoHolding.batch_id == batch_id))
            uow.session.execute(insert(m.GoHolding), [_holding_row(h) for h in theirs])
            updated.append(batch_id)
            continue
        cid = batch.installation.contract_id
        if cid is not None and batch.origin == "issued":
            contract = uow.contracts.get(cid)
            if contract is None or contract.producer != batch.issued_to:
                raise InputError(
                    Problem(
                        "import",
                        None,
                        "contract_id",
                        f"batch {batch_id}: no contract {cid!r} of {batch.issued_to!r} here",
                    )
                )
        if batch.origin == "issued":
            _check_registered(uow, batch)
            _refuse_counted_twice(uow, batch)
        _store_batch(uow, batch, theirs)
        added.append(batch_id)
    refused = {
        b.batch_id: b.refusal_reason
        for b in incoming.batches.values()
        if b.recognition == "refused" and b.batch_id in added
    }
    audit.record(
        uow,
        actor,
        "guarantee.import",
        "go_ledger",
        {
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "added": added,
            "updated": updated,
            "unchanged": len(unchanged),
            "refused": refused,
        },
    )
    uow.commit()
    return ImportOutcome(added, updated, unchanged, refused)


def _check_registered(uow: UnitOfWork, batch: Batch) -> None:
    """A domestic batch of a registered installation describes it as registered; a batch
    naming a contract names the installation registered on it."""
    inst = batch.installation
    row = uow.session.scalar(
        select(m.GoInstallation).where(m.GoInstallation.installation_id == inst.installation_id)
    )
    if row is not None and _installation(row) != inst:
        differ = [n for n in INSTALLATION_FIELDS if getattr(inst, n) != getattr(row, n)]
        raise Conflict(
            f"batch {batch.batch_id}: installation {inst.installation_id} is registered with "
            f"other {', '.join(differ)}"
        )
    if inst.contract_id is not None:
        owner = uow.session.scalar(
            select(m.GoInstallation.installation_id).where(
                m.GoInstallation.contract_id == inst.contract_id
            )
        )
        if owner is not None and owner != inst.installation_id:
            raise Conflict(
                f"batch {batch.batch_id}: contract {inst.contract_id} is the contract of "
                f"installation {owner}, not {inst.installation_id}"
            )


def _refuse_counted_twice(uow: UnitOfWork, batch: Batch) -> None:
    """No domestic batch counts metered production another batch of the same installation
    or contract already counts (Art. 15(5)): one MWh is counted once."""
    inst = batch.installation
    same = m.GoBatch.installation_id == inst.installation_id
    if inst.contract_id is not None:
        same = same | (m.GoBatch.contract_id == inst.contract_id)
    start, end = metered_period(batch)
    for row in uow.session.scalars(
        select(m.GoBatch).where(
            same,
            m.GoBatch.origin == "issued",
            m.GoBatch.production_end >= start,
            m.GoBatch.batch_id != batch.batch_id,
        )
    ):
        other_start, other_end = metered_period(_batch(row))
        if other_start <= end and start <= other_end:
            raise Conflict(
                f"batch {batch.batch_id}: production {start}…{end} is already counted in "
                f"{row.batch_id} ({other_start}…{other_end}): one MWh is counted once"
            )


def _by_batch(holdings: Sequence[Holding]) -> dict[str, list[Holding]]:
    """Holdings grouped by batch, each group in serial order."""
    out: dict[str, list[Holding]] = {}
    for h in sorted(holdings, key=lambda x: (x.batch_id, x.first)):
        out.setdefault(h.batch_id, []).append(h)
    return out


def month_uses(
    uow: UnitOfWork, month: str, contract_ids: set[str], digest: Any
) -> dict[str, GoUse]:
    """For settlement: per contract, the month's GOs sold or cancelled for the producer."""
    ledger = _ledger(
        uow,
        (m.GoBatch.month == month)
        & (m.GoBatch.origin == "issued")
        & m.GoBatch.contract_id.in_(sorted(contract_ids)),
    )
    uses = benefited(ledger.batches.values(), ledger.holdings, month)
    if uses:  # a month without GOs hashes as it did before the ledger existed
        digest.update(
            canonical_json(
                [[cid, u.kwh, list(u.ranges)] for cid, u in sorted(uses.items())]
            ).encode()
        )
    return uses
