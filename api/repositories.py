"""Repositories: add and flush, query; never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from api.db import models as m


def _page(query: Select[Any], limit: int | None, offset: int) -> Select[Any]:
    """One page of an ordered query (all of it when `limit` is None)."""
    return query.offset(offset).limit(limit) if limit is not None or offset else query


class _Repository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()


class KeyRepository(_Repository):
    def by_key_id(self, key_id: str) -> m.ApiKey | None:
        return self.session.scalar(select(m.ApiKey).where(m.ApiKey.key_id == key_id))

    def list(self, *, limit: int | None = None, offset: int = 0) -> Sequence[m.ApiKey]:
        query = _page(select(m.ApiKey).order_by(m.ApiKey.id), limit, offset)
        return self.session.scalars(query).all()

    def active_count(self) -> int:
        query = select(func.count()).select_from(m.ApiKey).where(m.ApiKey.revoked_at.is_(None))
        return int(self.session.scalar(query) or 0)


class RoundRepository(_Repository):
    def get(self, round_id: str, *, for_update: bool = False) -> m.Round | None:
        query = select(m.Round).where(m.Round.round_id == round_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def list(self, *, limit: int | None = None, offset: int = 0) -> Sequence[m.Round]:
        query = select(m.Round).order_by(m.Round.created_at, m.Round.round_id)
        return self.session.scalars(_page(query, limit, offset)).all()

    def awards(self, round_id: str) -> Sequence[m.Award]:
        query = (
            select(m.Award)
            .where(m.Award.round_id == round_id)
            .order_by(m.Award.bidder, m.Award.bid_id)
        )
        return self.session.scalars(query).all()


class BidRepository(_Repository):
    def get(self, round_id: str, bidder: str, bid_id: str) -> m.Bid | None:
        query = select(m.Bid).where(
            m.Bid.round_id == round_id, m.Bid.bidder == bidder, m.Bid.bid_id == bid_id
        )
        return self.session.scalar(query)

    def for_round(
        self,
        round_id: str,
        bidder: str | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Sequence[m.Bid]:
        query = select(m.Bid).where(m.Bid.round_id == round_id)
        if bidder is not None:
            query = query.where(m.Bid.bidder == bidder)
        query = query.order_by(m.Bid.bidder, m.Bid.bid_id)
        return self.session.scalars(_page(query, limit, offset)).all()

    def delete(self, bid: m.Bid) -> None:
        self.session.delete(bid)
        self.session.flush()


class ContractRepository(_Repository):
    def get(self, contract_id: str) -> m.Contract | None:
        query = select(m.Contract).where(m.Contract.contract_id == contract_id)
        return self.session.scalar(query)

    def list(
        self, producer: str | None = None, round_id: str | None = None
    ) -> Sequence[m.Contract]:
        query = select(m.Contract)
        if producer is not None:
            query = query.where(m.Contract.producer == producer)
        if round_id is not None:
            query = query.where(m.Contract.round_id == round_id)
        return self.session.scalars(query.order_by(m.Contract.contract_id)).all()

    def ids_by_contract_id(self) -> dict[str, int]:
        rows = self.session.execute(select(m.Contract.contract_id, m.Contract.id))
        return {contract_id: pk for contract_id, pk in rows}


class UploadRepository(_Repository):
    def by_idempotency_key(self, key: str) -> m.Upload | None:
        return self.session.scalar(select(m.Upload).where(m.Upload.idempotency_key == key))

    def latest(self, kind: str, target: str) -> m.Upload | None:
        query = (
            select(m.Upload)
            .where(m.Upload.kind == kind, m.Upload.target == target)
            .order_by(m.Upload.id.desc())
            .limit(1)
        )
        return self.session.scalar(query)

    def list(self, *, limit: int | None = None, offset: int = 0) -> Sequence[m.Upload]:
        query = _page(select(m.Upload).order_by(m.Upload.id), limit, offset)
        return self.session.scalars(query).all()

    def series(self, name: str) -> m.PriceSeries | None:
        return self.session.get(m.PriceSeries, name)

    def all_series(self, *, limit: int | None = None, offset: int = 0) -> Sequence[m.PriceSeries]:
        query = _page(select(m.PriceSeries).order_by(m.PriceSeries.name), limit, offset)
        return self.session.scalars(query).all()


class SettlementRepository(_Repository):
    def run(self, run_id: int) -> m.SettlementRun | None:
        return self.session.get(m.SettlementRun, run_id)

    def latest_run(self, month: str) -> m.SettlementRun | None:
        query = (
            select(m.SettlementRun)
            .where(m.SettlementRun.month == month)
            .order_by(m.SettlementRun.id.desc())
            .limit(1)
        )
        return self.session.scalar(query)

    def run_by_idempotency_key(self, key: str) -> m.SettlementRun | None:
        query = select(m.SettlementRun).where(m.SettlementRun.idempotency_key == key)
        return self.session.scalar(query)

    def runs(
        self, month: str | None = None, *, limit: int | None = None, offset: int = 0
    ) -> Sequence[m.SettlementRun]:
        query = select(m.SettlementRun).order_by(m.SettlementRun.id)
        if month is not None:
            query = query.where(m.SettlementRun.month == month)
        return self.session.scalars(_page(query, limit, offset)).all()

    def lines_for_year_until(self, month: str) -> Sequence[m.SettlementLine]:
        """Posted lines of `month` and of the earlier months of its calendar year."""
        query = select(m.SettlementLine).where(
            m.SettlementLine.month >= f"{month[:4]}-01", m.SettlementLine.month <= month
        )
        return self.session.scalars(query.order_by(m.SettlementLine.id)).all()

    def statement(self, statement_id: int) -> m.Statement | None:
        query = (
            select(m.Statement)
            .where(m.Statement.id == statement_id)
            .options(selectinload(m.Statement.lines))
        )
        return self.session.scalar(query)

    def statements(
        self,
        producer: str | None = None,
        month: str | None = None,
        run_id: int | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Sequence[m.Statement]:
        query = select(m.Statement)
        if producer is not None:
            query = query.where(m.Statement.producer == producer)
        if month is not None:
            query = query.where(m.Statement.month == month)
        if run_id is not None:
            query = query.where(m.Statement.run_id == run_id)
        return self.session.scalars(_page(query.order_by(m.Statement.id), limit, offset)).all()


class AuditRepository(_Repository):
    def last(self) -> m.AuditEntry | None:
        return self.session.scalar(select(m.AuditEntry).order_by(m.AuditEntry.id.desc()).limit(1))

    def list(self, after_id: int = 0, limit: int = 100) -> Sequence[m.AuditEntry]:
        query = (
            select(m.AuditEntry)
            .where(m.AuditEntry.id > after_id)
            .order_by(m.AuditEntry.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(m.AuditEntry)) or 0)


class JobRepository(_Repository):
    def get(self, job_id: str) -> m.ForecastJob | None:
        return self.session.get(m.ForecastJob, job_id)

    def list(self) -> Sequence[m.ForecastJob]:
        return self.session.scalars(select(m.ForecastJob).order_by(m.ForecastJob.created_at)).all()

    def file(self, job_id: str, name: str) -> m.ForecastFile | None:
        return self.session.get(m.ForecastFile, (job_id, name))

    def files(self, job_id: str) -> Sequence[m.ForecastFile]:
        query = select(m.ForecastFile).where(m.ForecastFile.job_id == job_id)
        return self.session.scalars(query.order_by(m.ForecastFile.name)).all()
