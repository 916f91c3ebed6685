"""Settlement runs per month and the statements they post (JSON and CSV). A statement read
touches the database only the first time this process serves that statement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from api.actor import Actor, NotFound
from api.db import models as m
from api.http.cache import RenderedStatement, StatementCache
from api.http.deps import AnyRole, Finance, Operator, Page, UowDep
from api.http.schemas import (
    MONTH_PATTERN,
    LinePublic,
    RunList,
    RunPublic,
    SettlementRequest,
    StatementList,
    StatementPublic,
)
from api.limits import ID_PATTERN, MAX_ID_LENGTH, MAX_ROW_ID, NAME_PATTERN
from api.services import audit, settlements
from api.uow import UnitOfWork
from mzekari.money import from_minor_units

router = APIRouter(prefix="/api", tags=["settlement"])
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, pattern=NAME_PATTERN)
]
# The audit log's head when the statement was rendered, `<id>:<hash>` (the CSV has no other
# place for it; the JSON body also carries it as `audit_head`).
AUDIT_HEAD = "X-Audit-Head"
RunId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
StatementId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def statement_public(row: m.Statement, with_lines: bool) -> StatementPublic:
    cur = row.currency
    lines = None
    if with_lines:
        lines = [
            LinePublic(
                line_id=ln.line_id,
                contract_id=ln.contract_id,
                kind=ln.kind,
                reference_series=ln.reference_series,
                reference_price=ln.reference_price,
                eligible_kwh=ln.eligible_kwh,
                excluded_kwh=ln.excluded_kwh,
                rate=ln.rate,
                amount=from_minor_units(ln.amount_minor, ln.currency),
                currency=ln.currency,
                direction=ln.direction,
                corrects_line_id=ln.corrects_line_id,
                explanation=ln.explanation,
            )
            for ln in sorted(row.lines, key=lambda x: x.line_id)
        ]
    return StatementPublic(
        id=row.id,
        run_id=row.run_id,
        producer=row.producer,
        month=row.month,
        currency=cur,
        paid_to_producer=from_minor_units(row.paid_to_producer_minor, cur),
        paid_by_producer=from_minor_units(row.paid_by_producer_minor, cur),
        reductions=from_minor_units(row.reductions_minor, cur),
        net=from_minor_units(row.net_minor, cur),
        lines=lines,
    )


@router.post("/settlements", status_code=201, response_model=RunPublic)
def run_settlement(
    request: SettlementRequest, uow: UowDep, actor: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    outcome = settlements.run_settlement(uow, actor, request.month, idempotency_key)
    return RunPublic.model_validate(outcome.run).model_copy(update={"replayed": outcome.replayed})


@router.get("/settlements", response_model=RunList)
def list_runs(
    uow: UowDep,
    actor: Finance,
    page: Page,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
) -> Any:
    items = uow.settlements.runs(month, limit=page.limit, offset=page.offset)
    return {"count": len(items), "items": items}


@router.get("/settlements/{run_id}", response_model=RunPublic)
def get_run(run_id: RunId, uow: UowDep, actor: Finance) -> Any:
    return settlements.get_run(uow, actor, run_id)


@router.get("/statements", response_model=StatementList)
def list_statements(
    uow: UowDep,
    actor: AnyRole,
    page: Page,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
    producer: Annotated[str | None, Query(max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)] = None,
    run_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> Any:
    rows = settlements.list_statements(
        uow, actor, month, producer, run_id, limit=page.limit, offset=page.offset
    )
    return {"count": len(rows), "items": [statement_public(r, False) for r in rows]}


def _render(request: Request, actor: Actor, statement_id: int, fmt: str) -> RenderedStatement:
    """Load, authorize and render a statement once per format (in a worker thread); later
    reads of it are served from memory."""
    with UnitOfWork(request.app.state.session_factory) as uow:
        head = audit.head(uow)
        if fmt == "csv":
            statement = settlements.get_statement(uow, actor, statement_id)
            producer, month = statement.producer, statement.month
            body = settlements.statement_csv(statement).encode()
        else:
            document = settlements.statement_document(uow, actor, statement_id)
            document["audit_head"] = head
            producer, month = document["producer"], document["month"]
            body = StatementPublic.model_validate(document).model_dump_json().encode()
        rendered = RenderedStatement(
            producer,
            body,
            f"statement-{producer}-{month}-{statement_id}.{fmt}",
            "" if head is None else f"{head.id}:{head.hash}",
        )
    request.app.state.statements.put(statement_id, fmt, rendered)
    return rendered


async def _rendered(
    request: Request, actor: Actor, statement_id: int, fmt: str
) -> RenderedStatement:
    cache: StatementCache = request.app.state.statements
    rendered = cache.get(statement_id, fmt)
    if rendered is None:
        return await run_in_threadpool(_render, request, actor, statement_id, fmt)
    if not actor.may_see_producer(rendered.producer):
        raise NotFound(f"no statement {statement_id}")
    return rendered


@router.get("/statements/{statement_id}", response_model=StatementPublic)
async def get_statement(statement_id: StatementId, request: Request, actor: AnyRole) -> Response:
    rendered = await _rendered(request, actor, statement_id, "json")
    return Response(
        rendered.body, media_type="application/json", headers={AUDIT_HEAD: rendered.audit_head}
    )


@router.get(
    "/statements/{statement_id}/csv",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_statement_csv(
    statement_id: StatementId, request: Request, actor: AnyRole
) -> PlainTextResponse:
    rendered = await _rendered(request, actor, statement_id, "csv")
    return PlainTextResponse(
        rendered.body,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{rendered.filename}"',
            AUDIT_HEAD: rendered.audit_head,
        },
    )
