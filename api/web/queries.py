"""Read-only queries the pages need that the service layer does not offer.

Everything here only reads; authorisation stays with the page that calls it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from sqlalchemy import func, select

from api.db import models as m
from api.uow import UnitOfWork
from api.web.i18n import _
from mzekari.money import from_minor_units

T = TypeVar("T")
# Bounded before any query: a page number or row id beyond these is a 422, not an overflow.
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
RowId = Annotated[int | None, Query(ge=1, le=2**62)]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a long list (1-based page numbers; a page past the end is empty)."""

    items: list[T]
    number: int
    pages: int
    total: int

    @classmethod
    def of(cls, rows: Sequence[T], number: int, size: int) -> Page[T]:
        pages = max(1, -(-len(rows) // size))
        number = max(1, number)
        return cls(list(rows[(number - 1) * size : number * size]), number, pages, len(rows))


def audit_page(uow: UnitOfWork, number: int, size: int, total: int) -> Page[m.AuditEntry]:
    """Newest first."""
    number = max(1, number)
    query = (
        select(m.AuditEntry)
        .order_by(m.AuditEntry.id.desc())
        .offset((number - 1) * size)
        .limit(size)
    )
    pages = max(1, -(-total // size))
    return Page(list(uow.session.scalars(query)), number, pages, total)


@dataclass(frozen=True)
class MonthMoney:
    """One month of a producer's statements: paid to it (in), paid by it (out), support
    withheld under a rule (reductions), net = in − out − reductions."""

    month: str
    currency: str
    paid_to_producer: Decimal
    paid_by_producer: Decimal
    reductions: Decimal
    net: Decimal
    statements: int


def money_by_month(statements: Sequence[m.Statement]) -> list[MonthMoney]:
    """Sums over every statement of a month (an adjustment run adds a second statement)."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in statements:
        total = sums[(row.month, row.currency)]
        total[0] += row.paid_to_producer_minor
        total[1] += row.paid_by_producer_minor
        total[2] += row.reductions_minor
        total[3] += row.net_minor
        total[4] += 1
    return [
        MonthMoney(
            month,
            cur,
            from_minor_units(t[0], cur),
            from_minor_units(t[1], cur),
            from_minor_units(t[2], cur),
            from_minor_units(t[3], cur),
            t[4],
        )
        for (month, cur), t in sorted(sums.items())
    ]


@dataclass(frozen=True)
class RunAmounts:
    """What one run's statements add up to, in one currency."""

    currency: str
    paid_to_producers: Decimal
    paid_by_producers: Decimal
    reductions: Decimal
    net: Decimal


@dataclass(frozen=True)
class RunOverview:
    run: m.SettlementRun
    statements: int
    adjustment_lines: int
    latest_for_month: bool
    amounts: list[RunAmounts] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.adjustment_lines:
            text = _("posted (adjustments)")
        else:
            text = _("posted (first settlement)")
        return text if self.latest_for_month else text + ", " + _("superseded")


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
    sums: dict[int, list[RunAmounts]] = defaultdict(list)
    for run_id, currency, paid_to, paid_by, reductions, net in uow.session.execute(
        select(
            m.Statement.run_id,
            m.Statement.currency,
            func.sum(m.Statement.paid_to_producer_minor),
            func.sum(m.Statement.paid_by_producer_minor),
            func.sum(m.Statement.reductions_minor),
            func.sum(m.Statement.net_minor),
        )
        .group_by(m.Statement.run_id, m.Statement.currency)
        .order_by(m.Statement.run_id, m.Statement.currency)
    ).all():
        sums[run_id].append(
            RunAmounts(
                currency,
                from_minor_units(int(paid_to), currency),
                from_minor_units(int(paid_by), currency),
                from_minor_units(int(reductions), currency),
                from_minor_units(int(net), currency),
            )
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
            sums.get(run.id, []),
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
