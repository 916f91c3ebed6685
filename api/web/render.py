"""Templates, the page responses and how a page reports errors (as HTML, not JSON).

`PageRoute` sets the request's language and turns the domain errors the services raise into
pages with the same status codes the JSON API uses (403 for a role that may not, 404 for
another producer's resource, 422 listing each problem by file, row and field), a malformed
path or form field into a 422 page (never JSON), and a missing or revoked key into a redirect
to the sign-in form.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from api.actor import Actor, Conflict, NotAllowed, NotFound
from api.web import i18n, round_terms, session
from api.web.format import FILTERS
from api.web.i18n import N_, _
from mzekari.errors import InputError, Problem

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(FILTERS)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)
templates.env.globals.update(
    reason_text=round_terms.reason_text, method_text=round_terms.method_text
)

# No scripts at all (progress pages refresh themselves with a meta refresh); styles only from
# our own file; forms post only to this site; never framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

EVERYONE = ("producer", "operator", "treasury", "admin")
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/web/rounds", N_("Rounds"), EVERYONE),
    ("/web/contracts", N_("Contracts"), EVERYONE),
    ("/web/statements", N_("Statements"), EVERYONE),
    ("/web/uploads", N_("Uploads"), ("operator", "admin")),
    ("/web/settlements", N_("Settlement runs"), ("operator", "treasury", "admin")),
    ("/web/treasury", N_("Treasury forecast"), ("treasury", "admin")),
    ("/web/guarantees", N_("Guarantees of origin"), ("producer", "operator", "admin")),
    ("/web/keys", N_("API keys"), ("admin",)),
    ("/web/audit", N_("Audit log"), ("operator", "admin")),
    ("/web/results", N_("Published results"), EVERYONE),
)
PUBLIC_NAV = (("/web/results", N_("Published results")),)
ROLE_NAMES = {
    "producer": N_("producer"),
    "operator": N_("operator"),
    "treasury": N_("treasury"),
    "admin": N_("administrator"),
}

# Words stored in the database (states of rounds and jobs) that the pages print translated.
STATE_WORDS = (
    N_("draft"),
    N_("open"),
    N_("closed"),
    N_("cleared"),
    N_("awarded"),
    N_("queued"),
    N_("running"),
    N_("done"),
    N_("failed"),
    N_("active"),
)


def nav_for(actor: Actor | None) -> list[tuple[str, str]]:
    if actor is None:
        return [(href, _(label)) for href, label in PUBLIC_NAV]
    return [(href, _(label)) for href, label, roles in NAV if actor.role in roles]


def language_links(request: Request) -> list[tuple[str, str, str, bool]]:
    """(code, name, href, is current) for the switch: the same page in the other language."""
    links = []
    for code in i18n.LANGUAGES:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        href = request.url.path + "?" + urlencode([*query, ("lang", code)])
        links.append((code, i18n.LANGUAGE_NAMES[code], href, code == i18n.current()))
    return links


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    actor: Actor | None = None,
) -> Response:
    token, new_token = session.csrf_token(request)
    language, chosen = i18n.language_of(request)
    i18n.use(language)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "actor": actor,
            "nav": nav_for(actor),
            "role_names": ROLE_NAMES,
            "csrf_token": token,
            "path": request.url.path,
            "lang": language,
            "languages": language_links(request),
            **context,
        },
        status_code=status_code,
    )
    if new_token:
        session.set_csrf(response, request, token)
    if chosen:
        session.set_language(response, request, language)
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(
    request: Request,
    status_code: int,
    title: str,
    detail: str,
    actor: Actor | None = None,
    problems: list[Problem] | None = None,
) -> Response:
    back = session.safe_back(request)
    return render(
        request,
        "error.html",
        {"title": title, "detail": detail, "problems": problems or [], "back": back},
        status_code=status_code,
        actor=actor,
    )


def _request_problems(exc: RequestValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        source = {"path": _("address"), "query": _("address"), "body": _("form")}.get(
            location[0] if location else "", _("request")
        )
        problems.append(
            Problem(source, None, ".".join(location[1:]) or None, str(error.get("msg", "invalid")))
        )
    return problems


def actor_or_none(request: Request) -> Actor | None:
    try:
        return session.actor_from_cookie(request)
    except session.SignInRequired:
        return None


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            i18n.use(i18n.language_of(request)[0])
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
            except session.ForgedRequest as exc:
                return error_page(request, 403, _("Not allowed"), str(exc), actor_or_none(request))
            except NotAllowed:
                actor = actor_or_none(request)
                role = _(ROLE_NAMES.get(actor.role, actor.role)) if actor else ""
                detail = _("Your role ({role}) may not open this page or do this.").format(
                    role=role
                )
                return error_page(request, 403, _("Not allowed"), detail, actor)
            except NotFound as exc:
                return error_page(request, 404, _("Not found"), str(exc), actor_or_none(request))
            except Conflict as exc:
                return error_page(
                    request, 409, _("Not possible now"), str(exc), actor_or_none(request)
                )
            except InputError as exc:
                return error_page(
                    request,
                    422,
                    _("Invalid input"),
                    _("Nothing was stored. Each problem is listed below by file, row and field."),
                    actor_or_none(request),
                    exc.problems,
                )
            except RequestValidationError as exc:
                return error_page(
                    request,
                    422,
                    _("Invalid request"),
                    _("Nothing was stored. Each problem is listed below."),
                    actor_or_none(request),
                    _request_problems(exc),
                )

        return page_handler
