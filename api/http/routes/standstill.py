"""Provisional results: a round's standstill and the objections filed during it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.http.deps import AnyRole, BidReader, Operator, Producer, UowDep
from api.http.lifecycle_schemas import (
    ObjectionAnswer,
    ObjectionCreate,
    ObjectionList,
    ObjectionPublic,
    StandstillBody,
    StandstillPublic,
)
from api.services import rounds, standstill

router = APIRouter(prefix="/api/rounds", tags=["rounds"])


def _public(uow: Any, round_id: str) -> dict[str, Any]:
    row = rounds.get_round(uow, round_id)
    stored = uow.session.get(standstill.m.RoundStandstill, round_id)
    return {
        "round_id": round_id,
        "status": row.status,
        "days": stored.days if stored else None,
        "ends_at": standstill.ends_at(uow, row),
        "provisional": row.status == "cleared",
    }


@router.put("/{round_id}/standstill", response_model=StandstillPublic)
def set_standstill(round_id: str, body: StandstillBody, uow: UowDep, actor: Operator) -> Any:
    """Days of standstill after clearing; set before the round is cleared."""
    standstill.set_days(uow, actor, round_id, body.days)
    return _public(uow, round_id)


@router.get("/{round_id}/standstill", response_model=StandstillPublic)
def get_standstill(round_id: str, uow: UowDep, actor: AnyRole) -> Any:
    return _public(uow, round_id)


@router.post("/{round_id}/objections", status_code=201, response_model=ObjectionPublic)
def file_objection(round_id: str, body: ObjectionCreate, uow: UowDep, actor: Producer) -> Any:
    """A bidder objects to provisional results during the standstill."""
    return standstill.file_objection(uow, actor, round_id, body.text)


@router.get("/{round_id}/objections", response_model=ObjectionList)
def list_objections(round_id: str, uow: UowDep, actor: BidReader) -> Any:
    items = standstill.objections(uow, actor, round_id)
    return {"count": len(items), "items": items}


@router.post("/{round_id}/objections/{objection_id}/answer", response_model=ObjectionPublic)
def answer_objection(
    round_id: str, objection_id: int, body: ObjectionAnswer, uow: UowDep, actor: Operator
) -> Any:
    return standstill.answer(uow, actor, round_id, objection_id, body.answer, body.upheld)
