"""Who am I, API keys (admin) and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.http.deps import Admin, AnyRole, Auditor, UowDep
from api.http.schemas import (
    AuditList,
    AuditVerification,
    KeyCreate,
    KeyIssued,
    KeyList,
    KeyPublic,
    Me,
)
from api.services import audit, keys

router = APIRouter(prefix="/api", tags=["admin"])


@router.get("/me", response_model=Me)
def me(actor: AnyRole) -> Any:
    return actor


@router.post("/keys", status_code=201, response_model=KeyIssued)
def create_key(request: KeyCreate, uow: UowDep, actor: Admin) -> Any:
    return keys.create_key(uow, request.role, request.producer, request.name, actor=actor)


@router.get("/keys", response_model=KeyList)
def list_keys(uow: UowDep, actor: Admin) -> Any:
    items = uow.keys.list()
    return {"count": len(items), "items": items}


@router.post("/keys/{key_id}/revoke", response_model=KeyPublic)
def revoke_key(key_id: str, uow: UowDep, actor: Admin) -> Any:
    return keys.revoke_key(uow, key_id, actor)


@router.get("/audit", response_model=AuditList)
def read_audit(
    uow: UowDep,
    actor: Auditor,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    items = uow.audit.list(after_id=after_id, limit=limit)
    return {"count": len(items), "items": items}


@router.get("/audit/verify", response_model=AuditVerification)
def verify_audit(uow: UowDep, actor: Auditor) -> Any:
    return audit.verify(list(uow.audit.list(limit=10**9)))
