"""Treasury forecasts as background jobs: queued → running (with progress) → done | failed.
The result's summary is stored as JSON and its files (CSV, PNG, HTML) as blobs."""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.actor import Actor, NotFound
from api.db import models as m
from api.services import audit
from api.services.settlements import contract_record
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem

# The settings a request may set: numbers, months and names. Everything that names data (price
# history, price paths, realised prices and meters) is refused: the server chooses its data, so
# no path from a request reaches the file system and no file's content reaches an answer.
HTTP_FIELDS = (
    "start_month",
    "months",
    "scenarios",
    "seed",
    "as_of",
    "currency",
    "reserve_probability",
    "reserve_precision",
    "auction_budget",
    "sensitivity",
    "price_volatility",
    "generation_volatility",
    "price_generation_correlation",
    "capacity_factors",
    "contract_technologies",
    "fx_rates",
    "cpi_inflation",
    "delivery",
    "scenario_chunk",
)
MAX_SCENARIOS = 100_000
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".png": "image/png",
    ".html": "text/html",
    ".json": "application/json",
}
log = logging.getLogger(__name__)


def _as_dict(config: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    if isinstance(config, BaseModel):
        return config.model_dump(mode="json", exclude_none=True)
    return dict(config)


def _config(config: Mapping[str, Any]) -> Any:
    from treasury import ForecastConfig
    from treasury.config import field_path

    problems = [
        Problem("forecast", None, field_path(("config", name)), "not accepted over HTTP")
        for name in sorted(str(k) for k in config if k not in HTTP_FIELDS)
    ]
    scenarios = config.get("scenarios")
    if isinstance(scenarios, int) and scenarios > MAX_SCENARIOS:
        problems.append(
            Problem("forecast", None, "config.scenarios", f"at most {MAX_SCENARIOS:,} over HTTP")
        )
    if problems:
        raise InputError(problems)
    try:
        return ForecastConfig(**config)
    except ValidationError as exc:
        raise InputError(
            [
                Problem("forecast", None, field_path(("config", *e["loc"])), e["msg"])
                for e in exc.errors()
            ]
        ) from exc


def create_job(
    uow: UnitOfWork, actor: Actor, config: Mapping[str, Any] | BaseModel
) -> m.ForecastJob:
    actor.require("treasury", "admin")
    config = _as_dict(config)
    _config(config)
    job = m.ForecastJob(
        id=str(uuid.uuid4()),
        status="queued",
        progress_done=0,
        progress_total=0,
        config=config,
        summary=None,
        error=None,
        created_at=datetime.now(UTC),
        finished_at=None,
        created_by=actor.key_id,
    )
    uow.jobs.add(job)
    audit.record(uow, actor, "forecast.create", f"forecast/{job.id}", {"config": config})
    uow.commit()
    return job


def get_job(uow: UnitOfWork, actor: Actor, job_id: str) -> m.ForecastJob:
    actor.require("treasury", "admin")
    job = uow.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no forecast job {job_id!r}")
    return job


def _update(factory: sessionmaker[Session], job_id: str, **values: Any) -> None:
    with UnitOfWork(factory) as uow:
        job = uow.jobs.get(job_id)
        assert job is not None
        for key, value in values.items():
            setattr(job, key, value)
        uow.commit()


def run_job(factory: sessionmaker[Session], job_id: str) -> None:
    """Runs in a worker thread; every state change is its own short transaction."""
    from settlement import contracts_from_records
    from treasury import run_forecast

    with UnitOfWork(factory) as uow:
        job = uow.jobs.get(job_id)
        assert job is not None
        raw_config = dict(job.config)
        rows = uow.contracts.list()
        records = [contract_record(r) for r in rows]
    _update(factory, job_id, status="running")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 0.5 or done == total:
            last[0] = time.monotonic()
            _update(factory, job_id, progress_done=done, progress_total=total)

    try:
        config = _config(raw_config)
        contracts = contracts_from_records(records, source="db:contracts") if records else []
        with UnitOfWork(factory) as uow:
            config = with_stored_fx_rates(uow, config, contracts)
        result = run_forecast(contracts, config, progress=progress)
        with tempfile.TemporaryDirectory() as out:
            paths = result.write(Path(out))
            files = [
                (p.name, MEDIA_TYPES.get(p.suffix, "application/octet-stream"), p.read_bytes())
                for p in paths
            ]
        with UnitOfWork(factory) as uow:
            job = uow.jobs.get(job_id)
            assert job is not None
            for name, media_type, content in files:
                uow.session.add(
                    m.ForecastFile(job_id=job_id, name=name, media_type=media_type, content=content)
                )
            job.summary = result.summary()
            job.status, job.finished_at = "done", datetime.now(UTC)
            uow.session.flush()
            audit.record(
                uow,
                Actor(job.created_by, "treasury"),
                "forecast.done",
                f"forecast/{job_id}",
                {"files": [f[0] for f in files]},
            )
            uow.commit()
    except InputError as exc:  # our own messages about the request and the stored data
        _fail(factory, job_id, str(exc))
    except Exception:  # a failed job is reported on the job; details stay in the server log
        log.exception("forecast job %s failed", job_id)
        _fail(factory, job_id, f"internal error in forecast job {job_id}; see the server log")


def _fail(factory: sessionmaker[Session], job_id: str, message: str) -> None:
    _update(factory, job_id, status="failed", error=message, finished_at=datetime.now(UTC))


def with_stored_fx_rates(uow: UnitOfWork, config: Any, contracts: list[Any]) -> Any:
    """Fill each strike currency the request gave no planning rate for with the latest official
    rate stored on or before the forecast's as-of date ("USD/GEL": GEL per USD)."""
    needed = {c.price_currency for c in contracts if c.price_currency != c.currency}
    rates = dict(config.fx_rates)
    filled = []
    for currency in sorted(needed - set(rates)):
        pair = f"{currency}/{config.currency}"
        row = uow.session.execute(
            select(m.FxRate.day, m.FxRate.rate)
            .where(m.FxRate.pair == pair, m.FxRate.day <= config.as_of_date)
            .order_by(m.FxRate.day.desc())
            .limit(1)
        ).first()
        if row is not None:
            rate = row.rate.normalize()  # one text for one rate on SQLite and PostgreSQL
            rates[currency] = rate
            filled.append(f"{pair} {rate:f} (official rate of {row.day.isoformat()})")
    if not filled:
        return config
    return config.model_copy(
        update={"fx_rates": rates, "fx_rate_sources": (*config.fx_rate_sources, *filled)}
    )
