"""Bid securities: a round's rules (set while it is a draft), the ledger of securities held,
returned and drawn, and penalties drawn under the round's schedule (auction.securities).

Amounts are integer minor units; every entry is append-only and written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from api.actor import Actor, Conflict, NotFound
from api.db import models as m
from api.services import audit
from api.uow import UnitOfWork
from auction.securities import SecurityRules, parse_rules, penalty, security_due
from mzekari.errors import InputError, Problem
from mzekari.money import from_minor_units, to_minor_units


def _now() -> datetime:
    return datetime.now(UTC)


def rules_of(uow: UnitOfWork, round_id: str) -> SecurityRules | None:
    stored = uow.session.get(m.RoundSecurityRules, round_id)
    return None if stored is None else parse_rules(stored.rules)


def set_rules(uow: UnitOfWork, actor: Actor, round_id: str, data: Any) -> SecurityRules:
    """A round's security rules, only while it is a draft (bidders must know them)."""
    actor.require("operator", "admin")
    row = uow.rounds.get(round_id, for_update=True)
    if row is None:
        raise NotFound(f"no round {round_id!r}")
    if row.status != "draft":
        raise Conflict(f"round {round_id!r} is {row.status}: securities are set while a draft")
    rules = parse_rules(data)
    if rules.currency != row.currency:
        raise InputError(Problem("securities", None, "currency", f"the round is in {row.currency}"))
    stored = uow.session.get(m.RoundSecurityRules, round_id)
    if stored is None:
        stored = m.RoundSecurityRules(round_id=round_id)
        uow.session.add(stored)
    stored.rules, stored.set_at, stored.set_by = rules.as_json(), _now(), actor.key_id
    uow.session.flush()
    audit.record(uow, actor, "round.securities", f"round/{round_id}", rules.as_json())
    uow.commit()
    return rules


def _entry(
    uow: UnitOfWork,
    actor: Actor,
    round_id: str,
    bid_id: str,
    bidder: str,
    contract_id: str | None,
    kind: str,
    amount: Decimal,
    currency: str,
    reason: str,
) -> None:
    minor = to_minor_units(amount, currency)
    if minor <= 0:
        return
    uow.session.add(
        m.SecurityEntry(
            round_id=round_id,
            bid_id=bid_id,
            bidder=bidder,
            contract_id=contract_id,
            kind=kind,
            amount_minor=minor,
            currency=currency,
            reason=reason,
            recorded_at=_now(),
            recorded_by=actor.key_id,
        )
    )
    audit.record(
        uow,
        actor,
        f"security.{kind}",
        f"round/{round_id}/bid/{bid_id}",
        {"amount": format(amount, "f"), "currency": currency, "reason": reason},
    )


def on_award(uow: UnitOfWork, actor: Actor, round_id: str) -> None:
    """In the award's transaction: each bid's security is entered as held, and the losers'
    returned. Nothing when the round requires no security."""
    rules = rules_of(uow, round_id)
    if rules is None:
        return
    capacity = {b.bid_id: Decimal(b.payload["capacity_mw"]) for b in uow.bids.for_round(round_id)}
    for award in uow.rounds.awards(round_id):
        due = security_due(rules, capacity[award.bid_id])
        _entry(
            uow, actor, round_id, award.bid_id, award.bidder, None, "held", due, rules.currency,
            f"{capacity[award.bid_id]} MW bid × {rules.security_per_mw} {rules.currency}/MW",
        )  # fmt: skip
        if not award.accepted:
            _entry(
                uow, actor, round_id, award.bid_id, award.bidder, None, "returned", due,
                rules.currency, f"bid not awarded ({award.reason})",
            )  # fmt: skip


def held_text(uow: UnitOfWork, round_id: str, bid_id: str) -> str | None:
    """The security a bid lodged, as the contract states it (None: the round requires none)."""
    rules = rules_of(uow, round_id)
    bid = uow.bids.get(round_id, bid_id)
    if rules is None or bid is None:
        return None
    due = security_due(rules, Decimal(bid.payload["capacity_mw"]))
    return f"{due} {rules.currency}"


def balance(uow: UnitOfWork, round_id: str, bid_id: str) -> int:
    """Minor units still held for a bid."""
    sign = {"held": 1, "returned": -1, "drawn": -1}
    rows = uow.session.execute(
        select(m.SecurityEntry.kind, m.SecurityEntry.amount_minor).where(
            m.SecurityEntry.round_id == round_id, m.SecurityEntry.bid_id == bid_id
        )
    ).all()
    return sum(sign[kind] * amount for kind, amount in rows)


def return_to_winner(
    uow: UnitOfWork, actor: Actor, contract: m.Contract, commissioned: date
) -> None:
    """At commissioning, what is still held for the winning bid goes back (no commit)."""
    if contract.round_id is None or contract.bid_id is None:
        return
    rules = rules_of(uow, contract.round_id)
    if rules is None:
        return
    held = from_minor_units(balance(uow, contract.round_id, contract.bid_id), rules.currency)
    _entry(
        uow, actor, contract.round_id, contract.bid_id, contract.producer, contract.contract_id,
        "returned", held, rules.currency, f"commissioned on {commissioned}",
    )  # fmt: skip


def draw_penalty(
    uow: UnitOfWork,
    actor: Actor,
    contract_id: str,
    as_of: date,
    commissioned_mw: Decimal,
    reason: str,
) -> dict[str, Any]:
    """Draw the schedule's penalty for capacity not commissioned by `as_of` (late, or given
    back), capped at what is held; the shortfall is reported, not hidden."""
    actor.require("operator", "admin")
    if not reason.strip():
        raise InputError(Problem("penalty", None, "reason", "a reason is required"))
    contract = uow.contracts.get(contract_id)
    if contract is None or contract.round_id is None or contract.bid_id is None:
        raise NotFound(f"no awarded contract {contract_id!r}")
    rules = rules_of(uow, contract.round_id)
    if rules is None:
        raise Conflict(f"round {contract.round_id!r} requires no security")
    state = uow.session.get(m.ContractLifecycle, contract_id)
    if state is None:
        raise Conflict(f"contract {contract_id!r} has no privileged-producer status")
    uow.lock(f"security:{contract.round_id}:{contract.bid_id}")
    try:
        due = penalty(rules, contract.capacity_mw, commissioned_mw, state.granted_on, as_of)
    except InputError as exc:
        message = exc.problems[0].message
        raise InputError(Problem("penalty", None, "commissioned_mw", message)) from exc
    held = from_minor_units(balance(uow, contract.round_id, contract.bid_id), rules.currency)
    drawn = min(due.amount, held)
    _entry(
        uow, actor, contract.round_id, contract.bid_id, contract.producer, contract_id, "drawn",
        drawn, rules.currency, f"{reason.strip()}: {due.explanation}",
    )  # fmt: skip
    uow.commit()
    return {
        "contract_id": contract_id,
        "currency": rules.currency,
        "months_since_award": due.months_since_award,
        "per_kw": due.per_kw,
        "penalised_kw": due.penalised_kw,
        "penalty": due.amount,
        "drawn": drawn,
        "shortfall": due.amount - drawn,
        "explanation": due.explanation,
    }


def ledger(
    uow: UnitOfWork, actor: Actor, round_id: str
) -> tuple[SecurityRules | None, Sequence[m.SecurityEntry]]:
    """A round's rules and entries; a producer sees only its own bids' entries."""
    if uow.rounds.get(round_id) is None:
        raise NotFound(f"no round {round_id!r}")
    query = select(m.SecurityEntry).where(m.SecurityEntry.round_id == round_id)
    if actor.role == "producer":
        query = query.where(m.SecurityEntry.bidder == actor.producer)
    return rules_of(uow, round_id), uow.session.scalars(query.order_by(m.SecurityEntry.id)).all()
