"""Contracts: a producer sees only its own; another producer's answers 404."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.actor import NotFound
from api.http.deps import AnyRole, UowDep
from api.http.schemas import ContractList, ContractPublic

router = APIRouter(prefix="/api/contracts", tags=["contracts"])


@router.get("", response_model=ContractList)
def list_contracts(uow: UowDep, actor: AnyRole, round_id: str | None = None) -> Any:
    producer = actor.producer if actor.role == "producer" else None
    items = uow.contracts.list(producer=producer, round_id=round_id)
    return {"count": len(items), "items": items}


@router.get("/{contract_id}", response_model=ContractPublic)
def get_contract(contract_id: str, uow: UowDep, actor: AnyRole) -> Any:
    row = uow.contracts.get(contract_id)
    if row is None or not actor.may_see_producer(row.producer):
        raise NotFound(f"no contract {contract_id!r}")
    return row
