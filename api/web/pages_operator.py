"""Operator pages: uploads of prices, exchange rates, meter data, CPI and generation profiles;
settlement runs with
their amounts and the form that runs a month; the audit log and its verification.

Uploads go through `api.services.uploads` exactly as the JSON API's do: the whole file is
checked first and nothing is stored when any row is wrong; the page lists every problem by
file, row and field.
"""

from __future__ import annotations

import functools
import hashlib
from typing import IO, Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.services import audit, settlements, uploads
from api.uow import UnitOfWork
from api.web import queries, session
from api.web.i18n import _
from api.web.queries import PageNumber, RowId
from api.web.render import PageRoute, render
from mzekari.errors import InputError, Problem

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)

AUDIT_PAGE = 50
UPLOADS_PAGE = 50
HASH_BLOCK = 1 << 20
CsrfToken = Annotated[str, Form(max_length=200)]
CsvFile = Annotated[UploadFile, File()]


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


def _sha256(body: IO[bytes]) -> str:
    digest = hashlib.sha256()
    body.seek(0)
    while block := body.read(HASH_BLOCK):
        digest.update(block)
    body.seek(0)
    return digest.hexdigest()


def _require_file(upload: UploadFile) -> IO[bytes]:
    if not upload.filename:
        raise InputError(Problem(_("form"), None, "file", _("choose a CSV file to upload")))
    return upload.file


@router.get("/uploads")
def uploads_page(request: Request, done: RowId = None, page: PageNumber = 1) -> Response:
    actor = session.actor_from_cookie(request)
    actor.require("operator", "admin")
    with _uow(request) as uow:
        rows = list(reversed(uow.uploads.list()))
        series = list(uow.uploads.all_series())
    paged = queries.Page.of(rows, page, UPLOADS_PAGE)
    latest = next((u for u in rows if u.id == done), None) if done else None
    return render(
        request,
        "uploads.html",
        {"uploads": paged, "series": series, "latest": latest},
        actor=actor,
    )


async def _store(request: Request, csrf_token: str, store: Any, *args: Any) -> Response:
    """Checks the form, then runs the upload service off the event loop (the file is read,
    checked and loaded in one transaction there)."""
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    actor.require("operator", "admin")
    sha256 = await run_in_threadpool(_sha256, args[-1])
    with _uow(request) as uow:
        call = functools.partial(store, uow, actor, *args, sha256)
        outcome = await run_in_threadpool(call)
    replayed = "&replayed=1" if outcome.replayed else ""
    return RedirectResponse(f"/web/uploads?done={outcome.upload.id}{replayed}", status_code=303)


@router.post("/uploads/prices")
async def upload_prices(
    request: Request,
    file: CsvFile,
    csrf_token: CsrfToken = "",
    series: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{1,50}$")] = "balancing",
    currency: Annotated[str, Form(pattern=r"^[A-Z]{3}$")] = "GEL",
) -> Response:
    body = _require_file(file)
    return await _store(request, csrf_token, uploads.upload_prices, series, currency, body)


@router.post("/uploads/fx-rates")
async def upload_fx_rates(request: Request, file: CsvFile, csrf_token: CsrfToken = "") -> Response:
    return await _store(request, csrf_token, uploads.upload_fx_rates, _require_file(file))


@router.post("/uploads/meter-data")
async def upload_meters(request: Request, file: CsvFile, csrf_token: CsrfToken = "") -> Response:
    return await _store(request, csrf_token, uploads.upload_meters, _require_file(file))


@router.post("/uploads/cpi")
async def upload_cpi(request: Request, file: CsvFile, csrf_token: CsrfToken = "") -> Response:
    return await _store(request, csrf_token, uploads.upload_cpi, _require_file(file))


@router.post("/uploads/profiles")
async def upload_profile(
    request: Request,
    file: CsvFile,
    csrf_token: CsrfToken = "",
    name: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{1,50}$")] = "",
) -> Response:
    return await _store(request, csrf_token, uploads.upload_profile, name, _require_file(file))


@router.get("/settlements")
def settlements_page(request: Request, done: RowId = None) -> Response:
    actor = session.actor_from_cookie(request)
    actor.require("operator", "treasury", "admin")
    with _uow(request) as uow:
        runs = queries.runs_overview(uow)
    return render(request, "settlements.html", {"runs": runs, "done": done}, actor=actor)


@router.post("/settlements")
def run_settlement(
    request: Request,
    csrf_token: CsrfToken = "",
    month: Annotated[str, Form(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = "",
) -> Response:
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        outcome = settlements.run_settlement(uow, actor, month)
    return RedirectResponse(f"/web/settlements?done={outcome.run.id}", status_code=303)


@router.get("/audit")
def audit_page(request: Request, page: PageNumber = 1, verify: bool = False) -> Response:
    """The audit log, newest first, a page at a time; `verify` recomputes the whole chain."""
    actor = session.actor_from_cookie(request)
    actor.require("operator", "admin")
    with _uow(request) as uow:
        total = uow.audit.count()
        paged = queries.audit_page(uow, page, AUDIT_PAGE, total)
        check = audit.verify(list(uow.audit.list(limit=total + 1))) if verify else None
    return render(request, "audit.html", {"entries": paged, "check": check}, actor=actor)
