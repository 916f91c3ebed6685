"""Contracts and monthly statements, for every role as in the JSON API. A producer sees only
its own: another producer's statement answers 404, exactly as `GET /api/statements/{id}` does
(same service call)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from api.actor import NotFound
from api.services import settlements
from api.uow import UnitOfWork
from api.web import charts, queries, session
from api.web.render import PageRoute, render

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)

SCHEME_NAMES = {
    "cfd": "Two-way contract for difference",
    "variable_premium": "Variable premium",
    "fixed_premium": "Fixed premium",
    "feed_in": "Feed-in tariff",
    "green_certificate": "Green certificates, minimum guaranteed price",
}
DIRECTIONS = {"to_producer": "paid to the producer", "to_counterparty": "paid by the producer"}


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


@router.get("/contracts")
def contracts_page(request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    producer = actor.producer if actor.role == "producer" else None
    with _uow(request) as uow:
        rows = list(uow.contracts.list(producer=producer))
    return render(
        request, "contracts.html", {"contracts": rows, "schemes": SCHEME_NAMES}, actor=actor
    )


@router.get("/contracts/{contract_id}")
def contract_page(contract_id: str, request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        row = uow.contracts.get(contract_id)
        if row is None or not actor.may_see_producer(row.producer):
            raise NotFound(f"no contract {contract_id!r}")
        lines = queries.contract_lines(uow, contract_id)
    return render(
        request,
        "contract.html",
        {"contract": row, "schemes": SCHEME_NAMES, "lines": lines},
        actor=actor,
    )


@router.get("/statements")
def statements_page(request: Request, month: str | None = None) -> Response:
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        rows = list(settlements.list_statements(uow, actor, month=month))
    months = queries.money_by_month(rows)
    chart = None
    currencies = sorted({m.currency for m in months})
    if len(currencies) == 1 and months:
        chart = charts.money_in_out(
            [m.month for m in months],
            [m.paid_to_producer for m in months],
            [m.paid_by_producer for m in months],
            currencies[0],
        )
    return render(
        request,
        "statements.html",
        {
            "statements": sorted(rows, key=lambda s: (s.month, s.producer, s.id), reverse=True),
            "months": months,
            "chart": chart,
        },
        actor=actor,
    )


@router.get("/statements/{statement_id}")
def statement_page(statement_id: int, request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        statement = settlements.get_statement(uow, actor, statement_id)
        lines = sorted(statement.lines, key=lambda ln: ln.line_id)
    return render(
        request,
        "statement.html",
        {"statement": statement, "lines": lines, "directions": DIRECTIONS},
        actor=actor,
    )


@router.get("/statements/{statement_id}/csv")
def statement_csv(statement_id: int, request: Request) -> Response:
    """The same bytes as `GET /api/statements/{id}/csv`."""
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        statement = settlements.get_statement(uow, actor, statement_id)
        body = settlements.statement_csv(statement)
    name = f"statement-{statement.producer}-{statement.month}-{statement.id}.csv"
    return PlainTextResponse(
        body,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
