"""`create_app()`: the FastAPI application over one database."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from api.db.engine import make_engine, make_session_factory
from api.http import errors
from api.http.cache import StatementCache
from api.http.routes import (
    admin,
    contract_status,
    contracts,
    deadlines,
    forecasts,
    guarantees,
    public,
    rounds,
    securities,
    settlements,
    standstill,
    uploads,
)
from api.http.schemas import ErrorBody
from api.settings import Settings, get_settings
from mzekari import __version__

# Every error has one body shape (api.http.errors), documented for every route.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (401, "Missing, unknown or revoked API key"),
        (403, "The key's role may not do this"),
        (404, "No such resource, or not one this key may see"),
        (409, "Conflicts with the current state"),
        (422, "Invalid input; `problems` names each row and field at fault"),
    )
}


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)

    def job_pool() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(
            max_workers=settings.forecast_workers, thread_name_prefix="forecast"
        )

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        # A fresh pool per start: an app started again after a shutdown can still run jobs.
        started.state.jobs.shutdown(wait=False)
        started.state.jobs = job_pool()
        yield
        started.state.jobs.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="Mzekari",
        version=__version__,
        description="Renewable-energy support auctions and the settlement of their contracts "
        "(Georgia, Law No. 5652-RS). Authenticate with `Authorization: Bearer "
        "<API key>`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.jobs = job_pool()
    app.state.statements = StatementCache()
    errors.install(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/web/", status_code=303)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for module in (rounds, contracts, uploads, settlements, guarantees, forecasts, admin):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    for module in (contract_status, deadlines, securities, standstill, public):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    web_router = _web_router()
    if web_router is not None:
        app.include_router(web_router)
    return app


def _web_router() -> APIRouter | None:
    """The web pages (`api.web.router`, an APIRouter or a module holding `router`), when that
    optional package is present."""
    for name in ("api.web", "api.web.router"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            return router
    return None
