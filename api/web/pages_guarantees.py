"""Guarantees of origin: a producer's account (its GOs with their ids, state and expiry) and
the forms that request a month's issuance, transfer GOs and cancel them for a consumer; the
operator sees every account and downloads the ledger. Every action is the ledger service's
(`api.services.guarantees`), the same calls as `/api/guarantees/...`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from api.services import guarantees
from api.uow import UnitOfWork
from api.web import session
from api.web.render import PageRoute, render

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)

CsrfToken = Annotated[str, Form(max_length=200)]
GoId = Annotated[str, Form(min_length=1, max_length=120)]
Account = Annotated[str, Form(max_length=200)]


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


def _today(request: Request) -> date:
    """Today in the market's zone, by the same clock as the JSON API's GO routes."""
    clock = getattr(request.app.state, "go_today", guarantees.market_today)
    today: date = clock()
    return today


def _done(what: str) -> Response:
    return RedirectResponse(f"/web/guarantees?done={what}", status_code=303)


@router.get("/guarantees")
def guarantees_page(
    request: Request,
    holder: Annotated[str | None, Query(max_length=200)] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    actor = session.actor_from_cookie(request)
    actor.require("producer", "operator", "admin")
    holder = (holder or "").strip() or None
    with _uow(request) as uow:
        installations = list(guarantees.list_installations(uow, actor))
        holdings = guarantees.account_holdings(uow, actor, holder)
    today = _today(request)
    rows: list[dict[str, Any]] = [
        {
            "batch": batch,
            "holding": holding,
            "first_id": batch.go_id(holding.first),
            "last_id": batch.go_id(holding.last),
            "expired": batch.expires_on < today,
        }
        for batch, holding in holdings
    ]
    return render(
        request,
        "guarantees.html",
        {"installations": installations, "rows": rows, "holder": holder, "done": done},
        actor=actor,
    )


@router.post("/guarantees/issue")
def issue(
    request: Request,
    csrf_token: CsrfToken = "",
    installation_id: Annotated[str, Form(min_length=1, max_length=80)] = "",
    month: Annotated[str, Form(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = "",
) -> Response:
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        guarantees.issue(uow, actor, installation_id, month, _today(request))
    return _done("issue")


@router.post("/guarantees/transfer")
def transfer(
    request: Request,
    first_id: GoId,
    last_id: GoId,
    to_account: Annotated[str, Form(min_length=1, max_length=200)],
    csrf_token: CsrfToken = "",
    account: Account = "",
) -> Response:
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        guarantees.transfer_gos(
            uow, actor, first_id, last_id, to_account, _today(request), account or None
        )
    return _done("transfer")


@router.post("/guarantees/cancel")
def cancel(
    request: Request,
    first_id: GoId,
    last_id: GoId,
    beneficiary: Annotated[str, Form(min_length=1, max_length=200)],
    csrf_token: CsrfToken = "",
    account: Account = "",
) -> Response:
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        guarantees.cancel_gos(
            uow, actor, first_id, last_id, beneficiary, _today(request), account or None
        )
    return _done("cancel")


@router.get("/guarantees/export")
def export(request: Request) -> Response:
    """The whole ledger as the registry's CSV (the same text as `GET /api/guarantees/export`)."""
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        text = guarantees.export_ledger(uow, actor)
    return PlainTextResponse(
        text,
        media_type="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="guarantees-of-origin.csv"',
            "Cache-Control": "no-store",
        },
    )
