"""Contracts and monthly statements, for every role as in the JSON API. A producer sees only
its own: another producer's statement answers 404, exactly as `GET /api/statements/{id}` does
(same service call)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.actor import Conflict, NotFound
from api.services import contracts as lifecycle
from api.services import settlements
from api.uow import UnitOfWork
from api.web import charts, queries, session
from api.web.format import grouped, market_zone
from api.web.i18n import N_, _
from api.web.queries import PageNumber
from api.web.render import PageRoute, render
from mzekari.errors import InputError, Problem

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)

SCHEME_NAMES = {
    "cfd": N_("Two-way contract for difference"),
    "variable_premium": N_("Variable premium"),
    "fixed_premium": N_("Fixed premium"),
    "feed_in": N_("Feed-in tariff"),
    "green_certificate": N_("Green certificates, minimum guaranteed price"),
}
DIRECTIONS = {
    "to_producer": N_("paid to the producer"),
    "to_counterparty": N_("paid by the producer"),
}
LINE_KINDS = (N_("cfd"), N_("adjustment"), N_("true up"), N_("no payment"))
TERM_LABELS = {
    "technology": N_("Technology"),
    "annual_mwh": N_("Annual energy awarded"),
    "reference_series": N_("Reference price series"),
    "reference_basis": N_("Reference price basis"),
    "fallback_series": N_("Fallback price series"),
    "strike_currency": N_("Strike price currency"),
    "fx_rule": N_("Exchange rate rule"),
}
TERM_VALUES = {
    "interval": N_("each metering interval's price"),
    "monthly_baseload": N_("the month's average price over all hours"),
    "monthly_weighted": N_("the month's price weighted by the plant's output"),
    "annual_weighted": N_("the year's price weighted by the plant's output"),
    "last_business_day": N_("the official rate of the month's last business day"),
    "monthly_average": N_("the month's average official rate"),
}
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
STATEMENTS_PAGE = 50


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


def contract_state(start: date, end: date) -> str:
    """In force, not yet started or ended, from the contract's term and today in Tbilisi."""
    today = datetime.now(market_zone()).date()
    if today < start:
        return _("not yet started")
    if today > end:
        return _("ended")
    return _("in force")


def terms_in_words(terms: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, value in sorted(terms.items()):
        label = _(TERM_LABELS[key]) if key in TERM_LABELS else key.replace("_", " ")
        if key == "annual_mwh":
            text = f"{grouped(Decimal(str(value)), 3)} MWh"
        elif isinstance(value, str) and value in TERM_VALUES:
            text = _(TERM_VALUES[value])
        else:
            text = str(value)
        out.append((label, text))
    return out


@router.get("/contracts")
def contracts_page(request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    producer = actor.producer if actor.role == "producer" else None
    with _uow(request) as uow:
        rows = list(uow.contracts.list(producer=producer))
    return render(
        request,
        "contracts.html",
        {"contracts": rows, "schemes": SCHEME_NAMES, "state": contract_state},
        actor=actor,
    )


@router.get("/contracts/{contract_id}")
def contract_page(contract_id: str, request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        row = uow.contracts.get(contract_id)
        if row is None or not actor.may_see_producer(row.producer):
            raise NotFound(f"no contract {contract_id!r}")
        lines = queries.contract_lines(uow, contract_id)
        try:
            recorded, events = lifecycle.history(uow, actor, contract_id)
            status, history = recorded.status.replace("_", " "), events
        except Conflict:  # created before statuses were recorded: only the term says
            status, history = (
                _("{state} (from the term dates)").format(
                    state=contract_state(row.start_date, row.end_date)
                ),
                [],
            )
    return render(
        request,
        "contract.html",
        {
            "contract": row,
            "schemes": SCHEME_NAMES,
            "lines": lines,
            "terms": terms_in_words(row.terms),
            "state": status,
            "history": history,
        },
        actor=actor,
    )


@router.get("/statements")
def statements_page(
    request: Request,
    month: Annotated[str | None, Query(max_length=20)] = None,
    page: PageNumber = 1,
) -> Response:
    """Every statement the actor may see, newest month first, a page at a time; `month`
    filters to one month (a malformed one is an error, not an empty list)."""
    actor = session.actor_from_cookie(request)
    month = (month or "").strip() or None
    if month is not None and not MONTH.match(month):
        raise InputError(
            Problem(_("address"), None, "month", _("expected a month as YYYY-MM, e.g. 2022-01"))
        )
    with _uow(request) as uow:
        rows = list(settlements.list_statements(uow, actor, month=month))
        every = rows if month is None else settlements.list_statements(uow, actor)
        all_months = sorted({s.month for s in every})
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
            "statements": queries.Page.of(
                sorted(rows, key=lambda s: (s.month, s.producer, s.id), reverse=True),
                page,
                STATEMENTS_PAGE,
            ),
            "months": months,
            "chart": chart,
            "month": month,
            "all_months": list(reversed(all_months)),
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
