"""Templates, the page responses and how a page reports errors (as HTML, not JSON).

`PageRoute` turns the domain errors the services raise into pages with the same status codes
the JSON API uses (403 for a role that may not, 404 for another producer's resource), and a
missing or revoked key into a redirect to the sign-in form.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from api.actor import Actor, Conflict, NotAllowed, NotFound
from api.web import session
from api.web.format import FILTERS
from mzekari.errors import InputError

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(FILTERS)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True

# No scripts at all; styles only from our own file; never framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/web/contracts", "Contracts", ("producer", "operator", "treasury", "admin")),
    ("/web/statements", "Statements", ("producer", "operator", "treasury", "admin")),
    ("/web/rounds", "Rounds", ("operator", "admin")),
    ("/web/settlements", "Settlement runs", ("operator", "treasury", "admin")),
    ("/web/treasury", "Treasury forecast", ("treasury", "admin")),
)


def nav_for(actor: Actor | None) -> list[tuple[str, str]]:
    if actor is None:
        return []
    return [(href, label) for href, label, roles in NAV if actor.role in roles]


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    actor: Actor | None = None,
) -> Response:
    token, new_token = session.csrf_token(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "actor": actor,
            "nav": nav_for(actor),
            "csrf_token": token,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    if new_token:
        session.set_csrf(response, request, token)
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(
    request: Request, status_code: int, title: str, detail: str, actor: Actor | None = None
) -> Response:
    return render(
        request,
        "error.html",
        {"title": title, "detail": detail},
        status_code=status_code,
        actor=actor,
    )


def _actor_or_none(request: Request) -> Actor | None:
    try:
        return session.actor_from_cookie(request)
    except session.SignInRequired:
        return None


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except session.SignInRequired as exc:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response: Response = RedirectResponse(
                    f"/web/sign-in?next={quote(target, safe='/')}", status_code=303
                )
                if exc.stale_cookie:
                    session.clear_session(response)
                return response
            except NotAllowed as exc:
                return error_page(request, 403, "Not allowed", str(exc), _actor_or_none(request))
            except NotFound as exc:
                return error_page(request, 404, "Not found", str(exc), _actor_or_none(request))
            except Conflict as exc:
                return error_page(
                    request, 409, "Not available yet", str(exc), _actor_or_none(request)
                )
            except InputError as exc:
                return error_page(
                    request, 422, "Invalid request", str(exc), _actor_or_none(request)
                )

        return page_handler
