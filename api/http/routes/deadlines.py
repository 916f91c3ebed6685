"""Contracts that have missed their dates: the operator's list for penalties and revocations."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from api.http.deps import Finance, UowDep
from api.http.lifecycle_schemas import MissedDatesList
from api.services import contracts

router = APIRouter(prefix="/api/contract-deadlines", tags=["contracts"])


@router.get("", response_model=MissedDatesList)
def missed_dates(uow: UowDep, actor: Finance, as_of: date) -> Any:
    """Contracts not commissioned whose milestone, deadline or longstop is before `as_of`."""
    items = contracts.missed_dates(uow, actor, as_of)
    return {"as_of": as_of, "count": len(items), "items": items}
