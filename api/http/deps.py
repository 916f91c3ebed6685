"""Typed dependencies: the unit of work, the settings and the authenticated actor."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.actor import Actor, NotAllowed
from api.services.keys import AuthenticationError, KeyCache
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


_cache_lock = threading.Lock()


def key_cache(app: FastAPI) -> KeyCache:
    """The application's cache of verified keys, made on first use."""
    cache: KeyCache | None = getattr(app.state, "keys", None)
    if cache is not None:
        return cache
    with _cache_lock:
        cache = getattr(app.state, "keys", None)
        if cache is None:
            cache = KeyCache(app.state.settings.key_cache_seconds)
            app.state.keys = cache
        return cache


def _verify(request: Request, cache: KeyCache, presented: str) -> Actor:
    # Its own short unit of work, closed before the route opens one: a request never holds
    # two pooled connections at a time.
    with UnitOfWork(request.app.state.session_factory) as uow:
        return cache.verify(uow, presented)


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Actor:
    """A recently verified key is accepted on the event loop (a hash and a dict lookup);
    otherwise the database is asked in a worker thread."""
    if credentials is None:
        raise AuthenticationError("missing bearer API key")
    cache = key_cache(request.app)
    actor = cache.get(credentials.credentials)
    if actor is None:
        actor = await run_in_threadpool(_verify, request, cache, credentials.credentials)
    return actor


def allow(*roles: str) -> Callable[[Actor], Awaitable[Actor]]:
    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        # No I/O here, so it runs on the event loop instead of taking a worker thread.
        if actor.role not in roles:
            raise NotAllowed(f"role {actor.role!r} may not do this")
        return actor

    dependency.__name__ = "allow_" + "_".join(roles)
    return dependency


T = TypeVar("T")
MAX_PAGE = 1000


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int

    def of(self, items: Sequence[T]) -> list[T]:
        """The page of an already loaded list (where the query itself is not paged)."""
        return list(items[self.offset : self.offset + self.limit])


def pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page")] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="Items to skip")] = 0,
) -> Pagination:
    return Pagination(limit, offset)


Page = Annotated[Pagination, Depends(pagination)]
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
