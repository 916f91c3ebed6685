"""Guarantees of origin (law Art. 15): installations, issuance, account, transfer,
cancellation, and the registry's CSV export and import."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from api.http.deps import BidReader, Operator, UowDep
from api.http.routes.uploads import CSV_BODY
from api.http.schemas_guarantees import (
    BatchPublic,
    CancelRequest,
    HoldingList,
    HoldingPublic,
    ImportPublic,
    InstallationCreate,
    InstallationList,
    InstallationPublic,
    IssuanceRequest,
    TransferRequest,
)
from api.services import guarantees
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem

router = APIRouter(prefix="/api/guarantees", tags=["guarantees of origin"])
MAX_IMPORT_BYTES = 32 << 20


def _today(request: Request) -> date:
    """The date of an action: today in the market's zone (`app.state.go_today` replaces
    the clock where a fixed date is needed)."""
    clock = getattr(request.app.state, "go_today", guarantees.market_today)
    today: date = clock()
    return today


@router.post("/installations", status_code=201, response_model=InstallationPublic)
def register_installation(
    body: InstallationCreate, request: Request, uow: UowDep, actor: Operator
) -> Any:
    return guarantees.register_installation(uow, actor, body.model_dump(), _today(request))


@router.get("/installations", response_model=InstallationList)
def list_installations(uow: UowDep, actor: BidReader) -> Any:
    items = guarantees.list_installations(uow, actor)
    return {"count": len(items), "items": items}


@router.post("/issuance", status_code=201, response_model=BatchPublic)
def issue(body: IssuanceRequest, request: Request, uow: UowDep, actor: BidReader) -> Any:
    batch, _ = guarantees.issue(uow, actor, body.installation_id, body.month, _today(request))
    return BatchPublic.from_batch(batch)


@router.get("/account", response_model=HoldingList)
def account(
    uow: UowDep,
    actor: BidReader,
    holder: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Any:
    items = [
        HoldingPublic.from_holding(b, h) for b, h in guarantees.account_holdings(uow, actor, holder)
    ]
    return {"count": len(items), "items": items}


def _changed(outcome: guarantees.Outcome) -> dict[str, Any]:
    items = [HoldingPublic.from_holding(outcome.batch, h) for h in outcome.change.added]
    return {"count": len(items), "items": items}


@router.post("/transfer", response_model=HoldingList)
def transfer(body: TransferRequest, request: Request, uow: UowDep, actor: BidReader) -> Any:
    outcome = guarantees.transfer_gos(
        uow, actor, body.first_id, body.last_id, body.to_account, _today(request), body.account
    )
    return _changed(outcome)


@router.post("/cancel", response_model=HoldingList)
def cancel(body: CancelRequest, request: Request, uow: UowDep, actor: BidReader) -> Any:
    outcome = guarantees.cancel_gos(
        uow, actor, body.first_id, body.last_id, body.beneficiary, _today(request), body.account
    )
    return _changed(outcome)


@router.get(
    "/export",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export(uow: UowDep, actor: Operator) -> PlainTextResponse:
    return PlainTextResponse(
        guarantees.export_ledger(uow, actor),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="guarantees.csv"'},
    )


@router.post("/import", response_model=ImportPublic, openapi_extra=CSV_BODY)
async def import_records(request: Request, actor: Operator) -> Any:
    """The body is read on the event loop, bounded; the import runs in a worker thread with
    its own unit of work, opened only once the whole body has arrived."""
    body = bytearray()
    async for block in request.stream():
        body += block
        if len(body) > MAX_IMPORT_BYTES:
            raise InputError(Problem("import", None, None, f"larger than {MAX_IMPORT_BYTES} bytes"))
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem("import", None, None, f"not UTF-8: {exc}")) from exc

    today = _today(request)

    def run() -> guarantees.ImportOutcome:
        with UnitOfWork(request.app.state.session_factory) as uow:
            return guarantees.import_ledger(uow, actor, text, today)

    outcome = await run_in_threadpool(run)
    return {
        "added": outcome.added,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "refused": outcome.refused,
    }
