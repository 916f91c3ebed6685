"""Treasury pages: the form that starts a forecast, its progress, the fan chart, the reserve
and the budget headroom, and the forecast's files to download."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.actor import NotFound
from api.services import forecasts
from api.uow import UnitOfWork
from api.web import charts, queries, session
from api.web.format import typed_number
from api.web.render import PageRoute, render

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


def _dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def forecast_context(job: Any) -> dict[str, Any]:
    summary = job.summary or {}
    currency = summary.get("currency", "GEL")
    monthly = summary.get("monthly", [])
    annual = summary.get("annual", [])
    context: dict[str, Any] = {
        "job": job,
        "summary": summary,
        "currency": currency,
        "monthly": monthly,
        "annual": annual,
        "has_budget": any(r.get("budget") is not None for r in annual),
        "dec": _dec,
    }
    if monthly:
        context["fan_chart"] = charts.fan(
            [r["month"] for r in monthly],
            [Decimal(r["p5"]) for r in monthly],
            [Decimal(r["p50"]) for r in monthly],
            [Decimal(r["p95"]) for r in monthly],
            currency,
        )
        context["peak_reserve"] = max(Decimal(r["reserve"]) for r in monthly)
    return context


@router.get("/treasury")
def treasury_page(request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    session.require(actor, "treasury", "admin")
    with _uow(request) as uow:
        jobs = list(reversed(uow.jobs.list()))
        latest = queries.latest_done_job(uow)
        files = [f.name for f in uow.jobs.files(latest.id)] if latest is not None else []
    context: dict[str, Any] = {"jobs": jobs, "latest": latest, "shown": latest, "files": files}
    if latest is not None:
        context.update(forecast_context(latest))
    return render(request, "treasury.html", context, actor=actor)


@router.post("/treasury/forecasts")
def start_forecast(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    start_month: Annotated[str, Form(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = "",
    months: Annotated[int, Form(ge=1, le=600)] = 12,
    scenarios: Annotated[int, Form(ge=1, le=100_000)] = 1000,
    seed: Annotated[int, Form(ge=0, le=2**31)] = 0,
    auction_budget: Annotated[str, Form(max_length=40)] = "",
    as_of: Annotated[date | None, Form()] = None,
) -> Response:
    """The same job as `POST /api/forecasts`, run in the background; the job's page shows its
    progress and refreshes itself until it is done."""
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    config: dict[str, Any] = {
        "start_month": start_month,
        "months": months,
        "scenarios": scenarios,
        "seed": seed,
    }
    if as_of is not None:
        config["as_of"] = as_of.isoformat()
    if auction_budget.strip():
        config["auction_budget"] = typed_number(auction_budget)
    with _uow(request) as uow:
        job = forecasts.create_job(uow, actor, config)
    request.app.state.jobs.submit(forecasts.run_job, request.app.state.session_factory, job.id)
    return RedirectResponse(f"/web/treasury/forecasts/{job.id}", status_code=303)


@router.get("/treasury/forecasts/{job_id}")
def forecast_page(job_id: str, request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        job = forecasts.get_job(uow, actor, job_id)
        jobs = list(reversed(uow.jobs.list()))
        files = [f.name for f in uow.jobs.files(job_id)] if job.status == "done" else []
    context: dict[str, Any] = {
        "jobs": jobs,
        "latest": job if job.status == "done" else None,
        "shown": job,
        "files": files,
    }
    if job.status == "done":
        context.update(forecast_context(job))
    else:
        context["pending"] = job
        context["problems"] = (job.error or "").splitlines() if job.status == "failed" else []
    return render(request, "treasury.html", context, actor=actor)


@router.get("/treasury/forecasts/{job_id}/files/{name}")
def forecast_file(job_id: str, name: str, request: Request) -> Response:
    """A stored file of a finished forecast, as a download (never rendered in the page)."""
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        forecasts.get_job(uow, actor, job_id)
        stored = uow.jobs.file(job_id, name)
        if stored is None:
            raise NotFound(f"no file {name!r} in forecast {job_id!r}")
        content, media_type = stored.content, stored.media_type
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="forecast-{job_id[:8]}-{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
