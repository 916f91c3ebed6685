"""Sign-in for the pages: the API key, verified by the key service, kept in an HttpOnly,
SameSite=Strict cookie scoped to /web (never in a URL). Every request re-verifies it, so a
revoked key stops working at once.

Every form that changes state (sign-in and -out, rounds, bids, uploads, settlement, forecasts,
keys) is POST-only and carries a double-submit token (a random cookie repeated in a hidden
field); a request whose Origin (or Referer) names another site is refused as well.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from api.actor import Actor, NotAllowed
from api.services.keys import AuthenticationError, authenticate
from api.uow import UnitOfWork
from api.web.i18n import LANG_COOKIE

SESSION_COOKIE = "mzk_session"
CSRF_COOKIE = "mzk_csrf"
COOKIE_PATH = "/web"
HOME = "/web/"


class SignInRequired(Exception):
    """No valid key in the session cookie: the page redirects to the sign-in form."""

    def __init__(self, stale_cookie: bool = False):
        super().__init__("sign in first")
        self.stale_cookie = stale_cookie


class ForgedRequest(NotAllowed):
    """A state-changing form arrived without this site's token or from another origin."""


def actor_from_cookie(request: Request) -> Actor:
    presented = request.cookies.get(SESSION_COOKIE)
    if not presented:
        raise SignInRequired()
    with UnitOfWork(request.app.state.session_factory) as uow:
        try:
            return authenticate(uow, presented)
        except AuthenticationError as exc:
            raise SignInRequired(stale_cookie=True) from exc


def verify_key(request: Request, presented: str) -> Actor:
    with UnitOfWork(request.app.state.session_factory) as uow:
        return authenticate(uow, presented.strip())


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, key: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        key,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=COOKIE_PATH,
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def csrf_token(request: Request) -> tuple[str, bool]:
    """The request's token and whether it is new (then the response must set the cookie)."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and len(token) >= 32:
        return token, False
    return secrets.token_urlsafe(32), True


def set_csrf(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=COOKIE_PATH,
    )


def check_form(request: Request, submitted_token: str) -> None:
    """Refuse a state-changing form that is not from these pages."""
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    referer = request.headers.get("referer")
    if origin is not None and origin != "null":
        if origin != own:
            raise ForgedRequest("the form was sent from another site")
    elif referer:
        parts = urlsplit(referer)
        if f"{parts.scheme}://{parts.netloc}" != own:
            raise ForgedRequest("the form was sent from another site")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, submitted_token):
        raise ForgedRequest("the form's token is missing or stale; reload the page and retry")


def safe_next(target: str | None) -> str:
    """Only a path of these pages: never another host (no open redirect)."""
    if (
        not target
        or not target.startswith(COOKIE_PATH + "/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return HOME
    return target


def require(actor: Actor, *roles: str) -> None:
    actor.require(*roles)


def set_language(response: Response, request: Request, language: str) -> None:
    """The chosen language, kept for a year (a preference, not a secret)."""
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path=COOKIE_PATH,
    )


def safe_back(request: Request) -> str:
    """Where an error page's "back" link leads: the page the user came from when it is one of
    these pages on this site, else the home page."""
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    if f"{parts.scheme}://{parts.netloc}" != f"{request.url.scheme}://{request.url.netloc}":
        return HOME
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
