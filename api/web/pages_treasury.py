"""Treasury pages: forecast jobs, the fan chart, the reserve and the budget headroom."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.services import forecasts
from api.uow import UnitOfWork
from api.web import charts, queries, session
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
    context: dict[str, Any] = {"jobs": jobs, "latest": latest}
    if latest is not None:
        context.update(forecast_context(latest))
    return render(request, "treasury.html", context, actor=actor)


@router.get("/treasury/forecasts/{job_id}")
def forecast_page(job_id: str, request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        job = forecasts.get_job(uow, actor, job_id)
        jobs = list(reversed(uow.jobs.list()))
    context: dict[str, Any] = {"jobs": jobs, "latest": job if job.status == "done" else None}
    if job.status == "done":
        context.update(forecast_context(job))
    else:
        context["pending"] = job
    return render(request, "treasury.html", context, actor=actor)
