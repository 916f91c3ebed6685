"""Treasury forecasts: start a background job, poll its progress, fetch its result and files."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.actor import NotFound
from api.http.deps import Treasury, UowDep
from api.http.schemas import ForecastCreate, ForecastJobPublic
from api.services import forecasts

router = APIRouter(prefix="/api/forecasts", tags=["treasury"])


def _public(uow: Any, job: Any) -> ForecastJobPublic:
    files = [f.name for f in uow.jobs.files(job.id)] if job.status == "done" else []
    return ForecastJobPublic.model_validate(job).model_copy(update={"files": files})


@router.post("", status_code=202, response_model=ForecastJobPublic)
def start_forecast(request: ForecastCreate, http: Request, uow: UowDep, actor: Treasury) -> Any:
    job = forecasts.create_job(uow, actor, request.config)
    http.app.state.jobs.submit(forecasts.run_job, http.app.state.session_factory, job.id)
    return _public(uow, job)


@router.get("/{job_id}", response_model=ForecastJobPublic)
def get_forecast(job_id: str, uow: UowDep, actor: Treasury) -> Any:
    return _public(uow, forecasts.get_job(uow, actor, job_id))


@router.get(
    "/{job_id}/files/{name}",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "image/png": {}, "text/html": {}}}},
)
def get_forecast_file(job_id: str, name: str, uow: UowDep, actor: Treasury) -> Response:
    forecasts.get_job(uow, actor, job_id)
    stored = uow.jobs.file(job_id, name)
    if stored is None:
        raise NotFound(f"no file {name!r} in forecast {job_id!r}")
    return Response(stored.content, media_type=stored.media_type)
