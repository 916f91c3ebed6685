"""Contracts: a producer sees only its own; another producer's answers 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.actor import NotFound
from api.http.deps import AnyRole, Page, UowDep
from api.http.schemas import ContractList, ContractPublic
from api.limits import ID_PATTERN, MAX_ID_LENGTH

router = APIRouter(prefix="/api/contracts", tags=["contracts"])


@router.get("", response_model=ContractList)
def list_contracts(
    uow: UowDep,
    actor: AnyRole,
    page: Page,
    round_id: Annotated[str | None, Query(max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)] = None,
) -> Any:
    producer = actor.producer if actor.role == "producer" else None
    items = page.of(uow.contracts.list(producer=producer, round_id=round_id))
    return {"count": len(items), "items": items}


@router.get("/{contract_id}", response_model=ContractPublic)
def get_contract(
    contract_id: Annotated[str, Path(max_length=100)], uow: UowDep, actor: AnyRole
) -> Any:
    row = uow.contracts.get(contract_id)
    if row is None or not actor.may_see_producer(row.producer):
        raise NotFound(f"no contract {contract_id!r}")
    return row
