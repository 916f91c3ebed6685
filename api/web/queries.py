"""Read-only queries the pages need that the service layer does not offer (yet).

Everything here only reads; authorisation stays with the services it calls (`rounds.list_bids`
checks role and round state) or with the page that calls it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from api.actor import Actor
from api.canonical import canonical_json
from api.db import models as m
from api.services import rounds
from api.uow import UnitOfWork
from mzekari.money import from_minor_units

# Budgets of the curve, as shares of the round's own budget.
CURVE_SHARES = (Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal("1"),
                Decimal("1.25"), Decimal("1.5"))
CURVE_RULE = "uk_skip"


@dataclass(frozen=True)
class MonthMoney:
    """One month of a producer's statements: paid to it (in), paid by it (out), net."""

    month: str
    currency: str
    paid_to_producer: Decimal
    paid_by_producer: Decimal
    net: Decimal
    statements: int


def money_by_month(statements: Sequence[m.Statement]) -> list[MonthMoney]:
    """Sums over every statement of a month (an adjustment run adds a second statement)."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in statements:
        total = sums[(row.month, row.currency)]
        total[0] += row.paid_to_producer_minor
        total[1] += row.paid_by_producer_minor
        total[2] += row.net_minor
        total[3] += 1
    return [MonthMoney(month, cur, from_minor_units(t[0], cur), from_minor_units(t[1], cur),
                       from_minor_units(t[2], cur), t[3])
            for (month, cur), t in sorted(sums.items())]


@dataclass(frozen=True)
class RunOverview:
    run: m.SettlementRun
    statements: int
    adjustment_lines: int
    latest_for_month: bool

    @property
    def status(self) -> str:
        kind = "adjustments" if self.adjustment_lines else "first settlement"
        return f"posted ({kind})" if self.latest_for_month else f"posted ({kind}), superseded"


def runs_overview(uow: UnitOfWork) -> list[RunOverview]:
    runs = list(uow.settlements.runs())
    statements = dict(uow.session.execute(
        select(m.Statement.run_id, func.count()).group_by(m.Statement.run_id)).all())
    adjustments = dict(uow.session.execute(
        select(m.Statement.run_id, func.count())
        .join(m.SettlementLine, m.SettlementLine.statement_id == m.Statement.id)
        .where(m.SettlementLine.corrects_line_id.is_not(None))
        .group_by(m.Statement.run_id)).all())
    latest: dict[str, int] = {}
    for run in runs:
        latest[run.month] = max(latest.get(run.month, 0), run.id)
    return [RunOverview(run, int(statements.get(run.id, 0)), int(adjustments.get(run.id, 0)),
                        latest[run.month] == run.id) for run in reversed(runs)]


def domain_bids(uow: UnitOfWork, actor: Actor, round_id: str) -> list[Any]:
    """The round's sealed bids as auction `Bid`s (the service refuses while the round is open)."""
    from auction.bids import Bid

    def dec(value: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    out = []
    for row in rounds.list_bids(uow, actor, round_id):
        p = row.payload
        out.append(Bid(bid_id=p["bid_id"], bidder=p["bidder"], technology=p["technology"],
                       capacity_mw=Decimal(str(p["capacity_mw"])),
                       annual_mwh=Decimal(str(p["annual_mwh"])), price=Decimal(str(p["price"])),
                       innovative=bool(p["innovative"]), grid_node=p.get("grid_node"),
                       alternative_group=p.get("alternative_group"),
                       min_capacity_mw=dec(p.get("min_capacity_mw"))))
    return out


@dataclass(frozen=True)
class Analysis:
    """What the optimiser and each merit-order rule buy from the same bids."""

    comparison: list[dict[str, Any]]  # one row per method at the round's budget
    curve: list[dict[str, Any]]  # auction.budget_curve rows (optimiser and CURVE_RULE)
    curve_rule: str


_CACHE: OrderedDict[str, Analysis] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def round_analysis(row: m.Round, bids: list[Any]) -> Analysis:
    """Cleared rounds never change, so their analysis is computed once per process (the
    curve runs the optimiser a dozen times)."""
    from auction import RULES, budget_curve, clear, parse_round

    key = hashlib.sha256(canonical_json(
        [row.round_id, row.spec, sorted(repr(b) for b in bids)]).encode()).hexdigest()
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    spec = parse_round(row.spec, source="round")
    comparison = []
    for method in (None, *RULES):
        result = clear(spec, bids, method)
        comparison.append({"method": method or "optimiser", **_totals(result)})
    curve: list[dict[str, Any]] = []
    if spec.budget is not None:
        curve = budget_curve(spec, bids, [spec.budget.amount * s for s in CURVE_SHARES],
                             rule=CURVE_RULE)
    analysis = Analysis(comparison, curve, CURVE_RULE)
    with _CACHE_LOCK:
        _CACHE[key] = analysis
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return analysis


def _totals(result: Any) -> dict[str, Any]:
    return {"status": result.status, "accepted_bids": len(result.accepted),
            "capacity_mw": result.capacity_mw, "energy_mwh": result.energy_mwh,
            "budget_used": result.budget_used,
            "accepted": sorted(a.bid_id for a in result.accepted)}


def latest_done_job(uow: UnitOfWork) -> m.ForecastJob | None:
    done = [job for job in uow.jobs.list() if job.status == "done"]
    return done[-1] if done else None


def contract_lines(uow: UnitOfWork, contract_id: str) -> list[m.SettlementLine]:
    """Every posted line of one contract, by month (the caller checks who may see it)."""
    query = (select(m.SettlementLine).where(m.SettlementLine.contract_id == contract_id)
             .order_by(m.SettlementLine.month, m.SettlementLine.id))
    return list(uow.session.scalars(query))
