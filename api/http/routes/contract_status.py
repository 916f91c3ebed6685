"""Privileged-producer status of a contract: operators change it, its producer reads it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.http.deps import AnyRole, Operator, UowDep
from api.http.lifecycle_schemas import (
    ActionBody,
    ContractStatus,
    PenaltyDrawn,
    PenaltyRequest,
    StatusChange,
)
from api.services import contract_forms, contracts, securities

router = APIRouter(prefix="/api/contracts", tags=["contracts"])


def _status(uow: Any, actor: Any, contract_id: str) -> dict[str, Any]:
    state, events = contracts.history(uow, actor, contract_id)
    contract = uow.contracts.get(contract_id)
    return {
        "contract_id": contract_id,
        "status": state.status,
        "term_from": state.term_from,
        "term_years": state.term_years,
        "granted_on": state.granted_on,
        "commissioning_deadline": state.commissioning_deadline,
        "milestone_date": state.milestone_date,
        "longstop_date": state.longstop_date,
        "commissioned_on": state.commissioned_on,
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "history": events,
    }


@router.get("/{contract_id}/status", response_model=ContractStatus)
def get_status(contract_id: str, uow: UowDep, actor: AnyRole) -> Any:
    """Status and every change; a producer sees only its own contracts (404 otherwise)."""
    return _status(uow, actor, contract_id)


@router.post("/{contract_id}/status", response_model=ContractStatus)
def change_status(contract_id: str, change: StatusChange, uow: UowDep, actor: Operator) -> Any:
    """commission, suspend, resume, revoke, terminate or expire; refused changes are 409."""
    contracts.change_status(
        uow, actor, contract_id, change.action, change.effective_date, change.reason
    )
    return _status(uow, actor, contract_id)


def _action_route(action: str) -> None:
    def route(contract_id: str, change: ActionBody, uow: UowDep, actor: Operator) -> Any:
        contracts.change_status(
            uow, actor, contract_id, action, change.effective_date, change.reason
        )
        return _status(uow, actor, contract_id)

    route.__name__ = f"{action}_contract"
    route.__doc__ = f"The same as POST …/status with action `{action}`."
    router.post(f"/{{contract_id}}/{action}", response_model=ContractStatus)(route)


for _action in ("commission", "suspend", "resume", "revoke", "terminate", "expire"):
    _action_route(_action)


@router.post("/{contract_id}/penalty", response_model=PenaltyDrawn)
def draw_penalty(contract_id: str, request: PenaltyRequest, uow: UowDep, actor: Operator) -> Any:
    """Draw the round's penalty for capacity not commissioned by `as_of` from the security."""
    return securities.draw_penalty(
        uow, actor, contract_id, request.as_of, request.commissioned_mw, request.reason
    )


@router.get(
    "/{contract_id}/document",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The contract as rendered"}},
)
def get_document(contract_id: str, uow: UowDep, actor: AnyRole) -> Response:
    """The standard-form contract rendered at award; `X-Document-SHA256` is the hash recorded
    then (and in the grant's audit entry). A producer sees only its own."""
    signed = contracts.document(uow, actor, contract_id)
    return Response(
        signed.html,
        media_type="text/html; charset=utf-8",
        headers={
            "X-Document-SHA256": signed.sha256,
            "X-Form-Version": signed.form_version,
            "Content-Security-Policy": "default-src 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/{contract_id}/document.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The contract as PDF"}},
)
def get_document_pdf(contract_id: str, uow: UowDep, actor: AnyRole) -> Response:
    """The stored contract rendered as PDF; `X-Document-SHA256` is the recorded HTML's hash,
    `X-PDF-SHA256` this rendering's."""
    signed = contracts.document(uow, actor, contract_id)
    state, _ = contracts.history(uow, actor, contract_id)
    content = contract_forms.pdf(signed.html, state.granted_on)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "X-Document-SHA256": signed.sha256,
            "X-PDF-SHA256": contract_forms.sha256_of_bytes(content),
            "X-Form-Version": signed.form_version,
        },
    )
