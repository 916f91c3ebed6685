"""Provisional results and the standstill: after clearing, results are provisional for the
round's standstill days; bidders of the round may object meanwhile, the operator answers each
objection, and the award is refused until the standstill is over and every objection answered.
Rounds without a standstill are awarded as before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.actor import Actor, Conflict, NotFound
from api.db import models as m
from api.services import audit
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem

MAX_TEXT = 5000


def _now() -> datetime:
    return datetime.now(UTC)


def _round(uow: UnitOfWork, round_id: str, for_update: bool = False) -> m.Round:
    row = uow.rounds.get(round_id, for_update=for_update)
    if row is None:
        raise NotFound(f"no round {round_id!r}")
    return row


def set_days(uow: UnitOfWork, actor: Actor, round_id: str, days: int) -> m.RoundStandstill:
    actor.require("operator", "admin")
    row = _round(uow, round_id, for_update=True)
    if row.status not in ("draft", "open", "closed"):
        raise Conflict(f"round {round_id!r} is {row.status}: the standstill is set before clearing")
    if not 0 <= days <= 90:
        raise InputError(Problem("standstill", None, "days", "must be 0..90"))
    stored = uow.session.get(m.RoundStandstill, round_id)
    if stored is None:
        stored = m.RoundStandstill(round_id=round_id)
        uow.session.add(stored)
    stored.days, stored.set_at, stored.set_by = days, _now(), actor.key_id
    uow.session.flush()
    audit.record(uow, actor, "round.standstill", f"round/{round_id}", {"days": days})
    uow.commit()
    return stored


def ends_at(uow: UnitOfWork, row: m.Round) -> datetime | None:
    """When the standstill of a cleared round ends (None: no standstill, or not cleared)."""
    stored = uow.session.get(m.RoundStandstill, row.round_id)
    if stored is None or row.cleared_at is None:
        return None
    return row.cleared_at + timedelta(days=stored.days)


def objections(uow: UnitOfWork, actor: Actor, round_id: str) -> Sequence[m.RoundObjection]:
    """Operators see every objection; a producer its own."""
    actor.require("operator", "admin", "producer")
    _round(uow, round_id)
    query = select(m.RoundObjection).where(m.RoundObjection.round_id == round_id)
    if actor.role == "producer":
        query = query.where(m.RoundObjection.producer == actor.producer)
    return uow.session.scalars(query.order_by(m.RoundObjection.id)).all()


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_TEXT:
        raise InputError(Problem("objection", None, field, f"1..{MAX_TEXT} characters"))
    return value


def file_objection(uow: UnitOfWork, actor: Actor, round_id: str, text: str) -> m.RoundObjection:
    """A bidder of the round objects to its provisional results, within the standstill."""
    actor.require("producer")
    text = _text(text, "text")
    row = _round(uow, round_id)
    end = ends_at(uow, row)
    if row.status != "cleared" or end is None:
        raise Conflict(f"round {round_id!r} has no provisional results open to objections")
    if _now() >= end:
        raise Conflict(f"the standstill of round {round_id!r} ended at {end.isoformat()}")
    if not uow.bids.for_round(round_id, bidder=actor.producer):
        raise Conflict(f"only bidders of round {round_id!r} may object")
    objection = m.RoundObjection(
        round_id=round_id,
        producer=actor.producer,
        text=text,
        filed_at=_now(),
        filed_by=actor.key_id,
    )
    uow.session.add(objection)
    uow.session.flush()
    audit.record(
        uow, actor, "round.objection", f"round/{round_id}/objection/{objection.id}", {"text": text}
    )
    uow.commit()
    return objection


def answer(
    uow: UnitOfWork, actor: Actor, round_id: str, objection_id: int, text: str, upheld: bool
) -> m.RoundObjection:
    actor.require("operator", "admin")
    text = _text(text, "answer")
    objection = uow.session.get(m.RoundObjection, objection_id, with_for_update=True)
    if objection is None or objection.round_id != round_id:
        raise NotFound(f"no objection {objection_id} in round {round_id!r}")
    if objection.answer is not None:
        raise Conflict(f"objection {objection_id} was answered on {objection.answered_at}")
    objection.answer, objection.upheld = text, upheld
    objection.answered_at, objection.answered_by = _now(), actor.key_id
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "round.objection_answer",
        f"round/{round_id}/objection/{objection_id}",
        {"answer": text, "upheld": upheld},
    )
    uow.commit()
    return objection


def check_award_allowed(uow: UnitOfWork, row: m.Round) -> None:
    """Conflict while the standstill runs or an objection waits for its answer."""
    end = ends_at(uow, row)
    if end is None:
        return
    if _now() < end:
        raise Conflict(
            f"round {row.round_id!r} is provisional: its standstill ends at {end.isoformat()}"
        )
    open_ids = uow.session.scalars(
        select(m.RoundObjection.id).where(
            m.RoundObjection.round_id == row.round_id, m.RoundObjection.answer.is_(None)
        )
    ).all()
    if open_ids:
        raise Conflict(
            f"round {row.round_id!r} has unanswered objections: {', '.join(map(str, open_ids))}"
        )
