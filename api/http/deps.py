"""Typed dependencies: the unit of work, the settings and the authenticated actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.actor import Actor, NotAllowed
from api.services.keys import AuthenticationError, authenticate
from api.settings import Settings
from api.uow import UnitOfWork

bearer = HTTPBearer(auto_error=False, description="An API key from `mzekari admin create-key`.")


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    # Synchronous on purpose: its queries may wait for a pooled connection, and that wait must
    # happen in a worker thread; on the event loop it would block the very teardown that
    # returns connections to the pool.
    with UnitOfWork(request.app.state.session_factory) as uow:
        yield uow


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def current_actor(
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Actor:
    """Checked on the request's own unit of work: one session and connection per request."""
    if credentials is None:
        raise AuthenticationError("missing bearer API key")
    return authenticate(uow, credentials.credentials)


def allow(*roles: str) -> Callable[[Actor], Awaitable[Actor]]:
    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        # No I/O here, so it runs on the event loop instead of taking a worker thread.
        if actor.role not in roles:
            raise NotAllowed(f"role {actor.role!r} may not do this")
        return actor

    dependency.__name__ = "allow_" + "_".join(roles)
    return dependency


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AnyRole = Annotated[Actor, Depends(allow("operator", "producer", "treasury", "admin"))]
Operator = Annotated[Actor, Depends(allow("operator", "admin"))]
Producer = Annotated[Actor, Depends(allow("producer"))]
BidReader = Annotated[Actor, Depends(allow("operator", "admin", "producer"))]
Finance = Annotated[Actor, Depends(allow("operator", "admin", "treasury"))]
Auditor = Annotated[Actor, Depends(allow("operator", "admin"))]
Admin = Annotated[Actor, Depends(allow("admin"))]
Treasury = Annotated[Actor, Depends(allow("treasury", "admin"))]
