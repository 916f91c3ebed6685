"""Privileged-producer status per contract: granted at award with the contract's own dates,
then changed only by audited status actions (settlement.lifecycle holds the rules).

Every change names a reason, an effective date and who decided it, is stored as an
append-only event and written to the audit log; a refused change writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from api.actor import Actor, Conflict, NotFound
from api.db import models as m
from api.services import audit, contract_forms, securities
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem, ProblemCollector
from settlement.lifecycle import (
    EARLIEST,
    LATEST,
    StatusEvent,
    SupportWindow,
    TransitionRefused,
    check_transition,
    support_windows,
    term_dates,
)

MARKET_TZ = ZoneInfo("Asia/Tbilisi")
MAX_REASON = 2000


@dataclass(frozen=True)
class ProjectPlan:
    """One winner's own terms: support term, commissioning deadline, milestone, longstop."""

    start: date
    end: date
    years: int
    term_from: str
    commissioning_deadline: date
    milestone_date: date | None
    longstop_date: date | None


def market_today() -> date:
    return datetime.now(MARKET_TZ).date()


def plan_terms(
    round_terms: Mapping[str, Any],
    projects: Mapping[str, Mapping[str, Any]],
    bid_ids: Iterable[str],
) -> dict[str, ProjectPlan]:
    """Each accepted bid's terms: the round's, overridden per project by `projects[bid_id]`.

    Under `term_from="commissioning"` the term is provisional (from the commissioning
    deadline) until the plant is commissioned. Every problem is reported at once."""
    problems = ProblemCollector("award")
    accepted = sorted(bid_ids)
    for bid_id in sorted(set(projects) - set(accepted)):
        problems.add(None, f"projects.{bid_id}", "not an accepted bid of this round")
    plans: dict[str, ProjectPlan] = {}
    for bid_id in accepted:
        own = {k: v for k, v in projects.get(bid_id, {}).items() if v is not None}
        merged = {**{k: v for k, v in round_terms.items() if v is not None}, **own}
        start, years, term_from = merged["start"], merged["years"], merged["term_from"]
        deadline = merged.get("commissioning_deadline", start)
        milestone, longstop = merged.get("milestone_date"), merged.get("longstop_date")
        where = f"projects.{bid_id}" if bid_id in projects else "award"
        dates = (start, deadline, milestone, longstop)
        if any(d is not None and not EARLIEST <= d <= LATEST for d in dates):
            problems.add(None, where, f"dates must lie in {EARLIEST}..{LATEST}")
            continue
        if milestone is not None and milestone > deadline:
            problems.add(None, where, f"milestone {milestone} is after the deadline {deadline}")
        if longstop is not None and longstop < deadline:
            problems.add(None, where, f"longstop {longstop} is before the deadline {deadline}")
        first = deadline if term_from == "commissioning" else start
        plans[bid_id] = ProjectPlan(
            *term_dates(first, years), years, term_from, deadline, milestone, longstop
        )
    problems.raise_if_any()
    return plans


def _record_event(
    uow: UnitOfWork,
    actor: Actor,
    contract_id: str,
    seq: int,
    action: str,
    from_status: str | None,
    to_status: str,
    effective: date,
    reason: str,
    details: Mapping[str, Any],
) -> m.ContractStatusEvent:
    entry = audit.record(
        uow,
        actor,
        f"contract.{action}",
        f"contract/{contract_id}",
        {
            "from": from_status,
            "to": to_status,
            "effective": effective.isoformat(),
            "reason": reason,
            **details,
        },
    )
    event = m.ContractStatusEvent(
        contract_id=contract_id,
        seq=seq,
        action=action,
        from_status=from_status,
        to_status=to_status,
        effective_date=effective,
        reason=reason,
        decided_by=actor.key_id,
        decided_role=actor.role,
        recorded_at=entry.at,
        audit_hash=entry.hash,
    )
    uow.session.add(event)
    return event


def grant(
    uow: UnitOfWork,
    actor: Actor,
    contracts: Sequence[m.Contract],
    plans: Mapping[str, ProjectPlan],
    granted_on: date,
) -> None:
    """Status `granted` for each new contract and its standard-form contract rendered, in
    the award's transaction (no commit here; a refusal rolls the award back)."""
    if not EARLIEST <= granted_on <= LATEST:
        raise InputError(Problem("award", None, "granted_on", f"must lie in {EARLIEST}..{LATEST}"))
    for contract in contracts:
        assert contract.bid_id is not None and contract.round_id is not None
        plan = plans[contract.bid_id]
        state = m.ContractLifecycle(
            contract_id=contract.contract_id,
            status="granted",
            term_from=plan.term_from,
            term_years=plan.years,
            granted_on=granted_on,
            commissioning_deadline=plan.commissioning_deadline,
            milestone_date=plan.milestone_date,
            longstop_date=plan.longstop_date,
            commissioned_on=None,
            last_effective=granted_on,
        )
        uow.session.add(state)
        signed = contract_forms.document(
            contract, state, securities.held_text(uow, contract.round_id, contract.bid_id)
        )
        uow.session.add(signed)
        _record_event(
            uow,
            actor,
            contract.contract_id,
            0,
            "grant",
            None,
            "granted",
            granted_on,
            f"awarded in round {contract.round_id}",
            {
                "term_from": plan.term_from,
                "start": plan.start.isoformat(),
                "end": plan.end.isoformat(),
                "commissioning_deadline": plan.commissioning_deadline.isoformat(),
                "form_version": signed.form_version,
                "document_sha256": signed.sha256,
            },
        )


def _visible_contract(uow: UnitOfWork, actor: Actor, contract_id: str) -> m.Contract:
    row = uow.contracts.get(contract_id)
    if row is None or not actor.may_see_producer(row.producer):
        raise NotFound(f"no contract {contract_id!r}")
    return row


def _lifecycle(uow: UnitOfWork, contract_id: str, for_update: bool = False) -> m.ContractLifecycle:
    query = select(m.ContractLifecycle).where(m.ContractLifecycle.contract_id == contract_id)
    row = uow.session.scalars(query.with_for_update() if for_update else query).first()
    if row is None:
        raise Conflict(
            f"contract {contract_id!r} has no privileged-producer status: it was created "
            "before statuses were recorded"
        )
    return row


def change_status(
    uow: UnitOfWork, actor: Actor, contract_id: str, action: str, effective: date, reason: str
) -> m.ContractLifecycle:
    """Apply one status action; 409 (Conflict) when the rules refuse it, writing nothing."""
    actor.require("operator", "admin")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InputError(
            Problem("status", None, "reason", f"a reason of 1..{MAX_REASON} characters is required")
        )
    if not EARLIEST <= effective <= LATEST:
        raise InputError(
            Problem("status", None, "effective_date", f"must lie in {EARLIEST}..{LATEST}")
        )
    uow.lock(f"contract-status:{contract_id}")
    contract = _visible_contract(uow, actor, contract_id)
    state = _lifecycle(uow, contract_id, for_update=True)
    try:
        target = check_transition(
            state.status,
            action,
            effective,
            last_effective=state.last_effective,
            term_end=contract.end_date,
        )
    except TransitionRefused as exc:
        raise Conflict(f"contract {contract_id}: {exc}") from exc
    details: dict[str, Any] = {}
    if action == "commission":
        state.commissioned_on = effective
        if state.term_from == "commissioning":
            start, end = term_dates(effective, state.term_years)
            details["term"] = {
                "from": [contract.start_date.isoformat(), contract.end_date.isoformat()],
                "to": [start.isoformat(), end.isoformat()],
            }
            contract.start_date, contract.end_date = start, end
    seq = uow.session.scalar(
        select(func.max(m.ContractStatusEvent.seq)).where(
            m.ContractStatusEvent.contract_id == contract_id
        )
    )
    from_status = state.status
    state.status, state.last_effective = target, effective
    uow.session.flush()
    _record_event(
        uow, actor, contract_id, (seq or 0) + 1, action, from_status, target, effective, reason,
        details,
    )  # fmt: skip
    if action == "commission":
        securities.return_to_winner(uow, actor, contract, effective)
    uow.commit()
    return state


def history(
    uow: UnitOfWork, actor: Actor, contract_id: str
) -> tuple[m.ContractLifecycle, list[m.ContractStatusEvent]]:
    """A contract's status and every change, oldest first: a producer sees only its own."""
    _visible_contract(uow, actor, contract_id)
    state = _lifecycle(uow, contract_id)
    events = uow.session.scalars(
        select(m.ContractStatusEvent)
        .where(m.ContractStatusEvent.contract_id == contract_id)
        .order_by(m.ContractStatusEvent.seq)
    ).all()
    return state, list(events)


def support_windows_for(
    uow: UnitOfWork, contracts: Sequence[m.Contract]
) -> dict[str, tuple[SupportWindow, ...]]:
    """For settlement: the support windows of every contract that has a status (contracts
    without one are paid over their whole term). Both tables are read whole: one row per
    contract and one per status change, where a list of ids could pass a driver's limit."""
    if not contracts:
        return {}
    states = {s.contract_id: s for s in uow.session.scalars(select(m.ContractLifecycle))}
    events: dict[str, list[StatusEvent]] = {}
    for contract_id, action, effective in uow.session.execute(
        select(
            m.ContractStatusEvent.contract_id,
            m.ContractStatusEvent.action,
            m.ContractStatusEvent.effective_date,
        )
        .where(m.ContractStatusEvent.action != "grant")
        .order_by(m.ContractStatusEvent.contract_id, m.ContractStatusEvent.seq)
    ):
        events.setdefault(contract_id, []).append(StatusEvent(action, effective))
    return {
        c.contract_id: support_windows(
            c.start_date,
            c.end_date,
            states[c.contract_id].term_from,
            events.get(c.contract_id, []),
        )
        for c in contracts
        if c.contract_id in states
    }


def register(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every contract with its current status (public: no prices beyond the award's)."""
    rows = uow.session.execute(
        select(m.Contract, m.ContractLifecycle)
        .outerjoin(m.ContractLifecycle, m.ContractLifecycle.contract_id == m.Contract.contract_id)
        .order_by(m.Contract.contract_id)
    ).all()
    out = []
    for contract, state in rows:
        out.append(
            {
                "contract_id": contract.contract_id,
                "round_id": contract.round_id,
                "producer": contract.producer,
                "technology": contract.terms.get("technology"),
                "capacity_mw": contract.capacity_mw,
                "strike_price": contract.strike_price,
                "price_currency": contract.terms.get("strike_currency", contract.currency),
                "start_date": contract.start_date,
                "end_date": contract.end_date,
                "status": state.status if state else None,
                "status_since": state.last_effective if state else None,
                "commissioning_deadline": state.commissioning_deadline if state else None,
                "commissioned_on": state.commissioned_on if state else None,
            }
        )
    return out


def document(uow: UnitOfWork, actor: Actor, contract_id: str) -> m.ContractDocument:
    """The contract as rendered at award: a producer sees only its own."""
    _visible_contract(uow, actor, contract_id)
    signed = uow.session.get(m.ContractDocument, contract_id)
    if signed is None:
        raise NotFound(f"contract {contract_id!r} has no rendered document")
    return signed


def missed_dates(uow: UnitOfWork, actor: Actor, as_of: date) -> list[dict[str, Any]]:
    """Contracts not yet commissioned whose milestone, commissioning deadline or longstop
    is before `as_of`: the cases for a penalty, a revocation or a termination."""
    actor.require("operator", "admin", "treasury")
    rows = uow.session.execute(
        select(m.Contract, m.ContractLifecycle)
        .join(m.ContractLifecycle, m.ContractLifecycle.contract_id == m.Contract.contract_id)
        .where(m.ContractLifecycle.status == "granted")
        .order_by(m.Contract.contract_id)
    ).all()
    out = []
    for contract, state in rows:
        dates = {
            "milestone": state.milestone_date,
            "commissioning_deadline": state.commissioning_deadline,
            "longstop": state.longstop_date,
        }
        missed = [name for name, day in dates.items() if day is not None and day < as_of]
        if missed:
            out.append(
                {
                    "contract_id": contract.contract_id,
                    "producer": contract.producer,
                    "capacity_mw": contract.capacity_mw,
                    "granted_on": state.granted_on,
                    **dates,
                    "missed": missed,
                }
            )
    return out
