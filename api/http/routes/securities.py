"""A round's bid-security rules and its ledger of securities held, returned and drawn."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.http.deps import BidReader, Operator, UowDep
from api.http.lifecycle_schemas import SecurityLedger, SecurityRulesBody
from api.services import securities

router = APIRouter(prefix="/api/rounds", tags=["rounds"])


@router.put("/{round_id}/securities", response_model=SecurityLedger)
def set_rules(round_id: str, body: SecurityRulesBody, uow: UowDep, actor: Operator) -> Any:
    """Security per MW and penalty schedule; only while the round is a draft."""
    securities.set_rules(uow, actor, round_id, body.model_dump(mode="json"))
    return _ledger(uow, actor, round_id)


@router.get("/{round_id}/securities", response_model=SecurityLedger)
def get_ledger(round_id: str, uow: UowDep, actor: BidReader) -> Any:
    """The rules and the ledger; a producer sees only its own bids' entries."""
    return _ledger(uow, actor, round_id)


def _ledger(uow: Any, actor: Any, round_id: str) -> dict[str, Any]:
    rules, entries = securities.ledger(uow, actor, round_id)
    return {
        "round_id": round_id,
        "rules": rules.as_json() if rules else None,
        "count": len(entries),
        "items": entries,
    }
