"""Administrators: API keys (create, bound to a producer for the producer role; revoke).
A new key's secret is shown once, on the page that answers the form, and never again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.services import keys
from api.uow import UnitOfWork
from api.web import session
from api.web.render import PageRoute, render

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)

ROLES = ("producer", "operator", "treasury", "admin")
CsrfToken = Annotated[str, Form(max_length=200)]


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


@router.get("/keys")
def keys_page(request: Request, done: Annotated[str, Query(max_length=50)] = "") -> Response:
    actor = session.actor_from_cookie(request)
    actor.require("admin")
    with _uow(request) as uow:
        rows = list(reversed(uow.keys.list()))
    return render(request, "keys.html", {"keys": rows, "roles": ROLES, "done": done}, actor=actor)


@router.post("/keys")
def create_key(
    request: Request,
    csrf_token: CsrfToken = "",
    role: Annotated[str, Form(pattern=r"^(producer|operator|treasury|admin)$")] = "producer",
    producer: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    actor.require("admin")
    with _uow(request) as uow:
        issued = keys.create_key(uow, role, producer.strip() or None, name.strip(), actor=actor)
    return render(request, "key_issued.html", {"issued": issued}, status_code=201, actor=actor)


@router.post("/keys/{key_id}/revoke")
def revoke_key(key_id: str, request: Request, csrf_token: CsrfToken = "") -> Response:
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    actor.require("admin")
    with _uow(request) as uow:
        keys.revoke_key(uow, key_id, actor)
    return RedirectResponse(f"/web/keys?done={key_id}", status_code=303)
