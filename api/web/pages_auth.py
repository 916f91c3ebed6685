"""Sign-in, sign-out, the home page (each role's landing page) and the style sheet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.actor import NotFound
from api.services.keys import AuthenticationError
from api.web import session
from api.web.i18n import _
from api.web.render import HERE, PageRoute, error_page, render

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)

LANDING = {
    "producer": "/web/statements",
    "operator": "/web/rounds",
    "admin": "/web/rounds",
    "treasury": "/web/treasury",
}
STATIC_FILES = {"style.css": "text/css"}


@router.get("/")
def home(request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    return RedirectResponse(LANDING.get(actor.role, "/web/statements"), status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", {"next": session.safe_next(next), "error": None})


@router.post("/sign-in")
def sign_in(
    request: Request,
    api_key: Annotated[str, Form(max_length=300)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = session.HOME,
) -> Response:
    session.check_form(request, csrf_token)
    try:
        session.verify_key(request, api_key)
    except AuthenticationError:
        # The key is never echoed back.
        return render(
            request,
            "sign_in.html",
            {
                "next": session.safe_next(next),
                "error": _("That key was not accepted: it is unknown, revoked or mistyped."),
            },
            status_code=401,
        )
    response = RedirectResponse(session.safe_next(next), status_code=303)
    session.set_session(response, request, api_key.strip())
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    session.check_form(request, csrf_token)
    response = RedirectResponse("/web/sign-in", status_code=303)
    session.clear_session(response)
    return response


@router.get("/static/{name}")
def static(name: str, request: Request) -> Response:
    if name not in STATIC_FILES:
        raise NotFound(f"no file {name!r}")
    return FileResponse(
        HERE / "static" / name,
        media_type=STATIC_FILES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# Registered last (see api/web/__init__.py): any other path under /web is an HTML 404.
fallback = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)


@fallback.get("/{path:path}")
def not_found(path: str, request: Request) -> Response:
    raise NotFound(f"no page /web/{path}")


__all__ = ["error_page", "fallback", "router"]
