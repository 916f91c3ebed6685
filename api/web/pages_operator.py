"""Operator pages: rounds and their state, a cleared round's awards, rejections, budget curve
and merit-order comparison, and the settlement runs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from api.services import rounds
from api.uow import UnitOfWork
from api.web import charts, queries, session
from api.web.render import PageRoute, render

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)

STATE_STEPS = ("draft", "open", "closed", "cleared", "awarded")


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


@router.get("/rounds")
def rounds_page(request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    session.require(actor, "operator", "admin")
    with _uow(request) as uow:
        rows = list(uow.rounds.list())
        bid_counts = {r.round_id: len(uow.bids.for_round(r.round_id)) for r in rows}
    return render(request, "rounds.html", {"rounds": rows, "bid_counts": bid_counts}, actor=actor)


@router.get("/rounds/{round_id}")
def round_page(round_id: str, request: Request) -> Response:
    """Reads what clearing stored (awards and the analysis); never runs a solver."""
    actor = session.actor_from_cookie(request)
    session.require(actor, "operator", "admin")
    context: dict[str, object] = {"steps": STATE_STEPS}
    with _uow(request) as uow:
        row = rounds.get_round(uow, round_id)
        context["round"] = row
        context["bid_count"] = len(uow.bids.for_round(round_id))
        if row.status in ("cleared", "awarded"):
            _, awards = rounds.results(uow, round_id)
            context["accepted"] = [a for a in awards if a.accepted]
            context["rejected"] = [a for a in awards if not a.accepted]
            context["contracts"] = list(uow.contracts.list(round_id=round_id))
            stored = rounds.stored_analysis(uow, round_id)
            analysis = stored.analysis if stored is not None else None
            context["analysis"] = analysis
            context["analysis_sha256"] = stored.sha256 if stored is not None else None
            context["analysis_at"] = stored.computed_at if stored is not None else None
    if row.status in ("cleared", "awarded"):
        from auction import REJECTION_REASONS

        context["reasons"] = REJECTION_REASONS
        if analysis and analysis["curve"]:
            context["curve_chart"] = _curve_chart(analysis, row.currency)
    return render(request, "round.html", context, actor=actor)


def _percent(share: str) -> str:
    return format((Decimal(share) * 100).normalize(), "f")


def _curve_chart(analysis: dict[str, Any], currency: str) -> Markup:
    series: dict[str, list[tuple[Decimal, Decimal]]] = {}
    for point in analysis["curve"]:
        series.setdefault(point["method"], []).append(
            (Decimal(point["budget"]), Decimal(point["energy_mwh"]))
        )
    shares = analysis["curve_shares"]
    return charts.lines(
        series,
        f"budget ({currency})",
        "annual energy (MWh)",
        "Budget curve: annual energy bought for each budget",
        f"Annual energy the exact optimiser and each merit-order rule buy at budgets from "
        f"{_percent(shares[0])} % to {_percent(shares[-1])} % of the round's "
        f"budget. The table below lists the same values.",
        "curve-chart",
    )


@router.get("/settlements")
def settlements_page(request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    session.require(actor, "operator", "treasury", "admin")
    with _uow(request) as uow:
        runs = queries.runs_overview(uow)
    return render(request, "settlements.html", {"runs": runs}, actor=actor)
