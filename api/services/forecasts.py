"""Treasury forecasts as background jobs: queued → running (with progress) → done | failed.
The result's summary is stored as JSON and its files (CSV, PNG, HTML) as blobs."""

from __future__ import annotations

import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from api.actor import Actor, NotFound
from api.db import models as m
from api.services import audit
from api.services.settlements import contract_record
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem

# Paths would let a caller read files on the server; history comes from stored series instead.
REFUSED_FIELDS = ("price_history", "hourly_history", "price_paths")
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".png": "image/png",
    ".html": "text/html",
    ".json": "application/json",
}


def _config(config: dict[str, Any]) -> Any:
    from treasury import ForecastConfig

    problems = [
        Problem("forecast", None, f"config.{name}", "not accepted over HTTP")
        for name in REFUSED_FIELDS
        if name in config
    ]
    if problems:
        raise InputError(problems)
    try:
        return ForecastConfig(**config)
    except ValidationError as exc:
        raise InputError(
            [
                Problem("forecast", None, "config." + ".".join(str(p) for p in e["loc"]), e["msg"])
                for e in exc.errors()
            ]
        ) from exc


def create_job(uow: UnitOfWork, actor: Actor, config: dict[str, Any]) -> m.ForecastJob:
    actor.require("treasury", "admin")
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
    except Exception as exc:  # a failed job is reported on the job, not lost in a thread
        _update(
            factory,
            job_id,
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
            finished_at=datetime.now(UTC),
        )
