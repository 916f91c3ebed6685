"""Read-only queries the pages need that the service layer does not offer (yet).

Everything here only reads; authorisation stays with the page that calls it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from api.db import models as m
from api.uow import UnitOfWork
from mzekari.money import from_minor_units


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
    return [
        MonthMoney(
            month,
            cur,
            from_minor_units(t[0], cur),
            from_minor_units(t[1], cur),
            from_minor_units(t[2], cur),
            t[3],
        )
        for (month, cur), t in sorted(sums.items())
    ]


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
    statements = dict(
        uow.session.execute(
            select(m.Statement.run_id, func.count()).group_by(m.Statement.run_id)
        ).all()
    )
    adjustments = dict(
        uow.session.execute(
            select(m.Statement.run_id, func.count())
            .join(m.SettlementLine, m.SettlementLine.statement_id == m.Statement.id)
            .where(m.SettlementLine.corrects_line_id.is_not(None))
            .group_by(m.Statement.run_id)
        ).all()
    )
    latest: dict[str, int] = {}
    for run in runs:
        latest[run.month] = max(latest.get(run.month, 0), run.id)
    return [
        RunOverview(
            run,
            int(statements.get(run.id, 0)),
            int(adjustments.get(run.id, 0)),
            latest[run.month] == run.id,
        )
        for run in reversed(runs)
    ]


def latest_done_job(uow: UnitOfWork) -> m.ForecastJob | None:
    done = [job for job in uow.jobs.list() if job.status == "done"]
    return done[-1] if done else None


def contract_lines(uow: UnitOfWork, contract_id: str) -> list[m.SettlementLine]:
    """Every posted line of one contract, by month (the caller checks who may see it)."""
    query = (
        select(m.SettlementLine)
        .where(m.SettlementLine.contract_id == contract_id)
        .order_by(m.SettlementLine.month, m.SettlementLine.id)
    )
    return list(uow.session.scalars(query))
