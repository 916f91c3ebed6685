"""Who am I, API keys (admin) and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.http.deps import Admin, AnyRole, Auditor, Page, UowDep
from api.http.schemas import (
    AuditList,
    AuditVerification,
    KeyCreate,
    KeyIssued,
    KeyList,
    KeyPublic,
    Me,
)
from api.limits import MAX_ROW_ID
from api.services import audit, keys, rounds, settlements
from mzekari.errors import InputError, Problem

router = APIRouter(prefix="/api", tags=["admin"])


@router.get("/me", response_model=Me)
def me(actor: AnyRole) -> Any:
    return actor


@router.post("/keys", status_code=201, response_model=KeyIssued)
def create_key(request: KeyCreate, uow: UowDep, actor: Admin) -> Any:
    return keys.create_key(uow, request.role, request.producer, request.name, actor=actor)


@router.get("/keys", response_model=KeyList)
def list_keys(uow: UowDep, actor: Admin, page: Page) -> Any:
    items = uow.keys.list(limit=page.limit, offset=page.offset)
    return {"count": len(items), "items": items}


@router.post("/keys/{key_id}/revoke", response_model=KeyPublic)
def revoke_key(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$")], uow: UowDep, actor: Admin
) -> Any:
    return keys.revoke_key(uow, key_id, actor)


@router.get("/audit", response_model=AuditList)
def read_audit(
    uow: UowDep,
    actor: Auditor,
    after_id: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    items = uow.audit.list(after_id=after_id, limit=limit)
    return {"count": len(items), "items": items}


@router.get("/audit/verify", response_model=AuditVerification)
def verify_audit(
    uow: UowDep,
    actor: Auditor,
    head_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    head_hash: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
) -> Any:
    """Recompute the chain, every signature (with MZEKARI_AUDIT_KEY set), the amounts of
    every settlement run and the contracts of every award; with `head_id` and `head_hash` (an
    `audit_head` handed out earlier), also check that the log still holds that entry."""
    if (head_id is None) != (head_hash is None):
        raise InputError(Problem("query", None, "head_hash", "give head_id and head_hash together"))
    head = None if head_id is None or head_hash is None else audit.Head(head_id, head_hash)
    recompute = (
        audit.Recompute(
            "settlement.run",
            "amounts_sha256",
            lambda entry: settlements.posted_amounts_sha256(uow, _last_part_int(entry.entity)),
            "amounts the settlement run posted",
        ),
        audit.Recompute(
            "round.award",
            "contracts_sha256",
            lambda entry: rounds.contracts_sha256(uow, entry.entity.rpartition("/")[2]),
            "contracts the award made",
        ),
    )
    return audit.verify(
        list(uow.audit.list(limit=10**9)), key=uow.audit_key, head=head, recompute=recompute
    )


def _last_part_int(entity: str) -> int:
    return int(entity.rpartition("/")[2])
