"""Unit of work: one transaction per use case. Only `commit()` commits; leaving the block
without it rolls back, so a failed upload or run leaves the database unchanged."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.db.engine import make_session_factory
from api.repositories import (
    AuditRepository,
    BidRepository,
    ContractRepository,
    JobRepository,
    KeyRepository,
    RoundRepository,
    SettlementRepository,
    UploadRepository,
)


class UnitOfWork:
    session: Session

    def __init__(self, factory: sessionmaker[Session]):
        self._factory = factory

    @classmethod
    def for_engine(cls, engine: Engine, audit_key: bytes | None = None) -> UnitOfWork:
        return cls(make_session_factory(engine, audit_key))

    def __enter__(self) -> Self:
        self.session = self._factory()
        self.audit_key: bytes | None = self.session.info.get("audit_key")
        self.keys = KeyRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.bids = BidRepository(self.session)
        self.contracts = ContractRepository(self.session)
        self.uploads = UploadRepository(self.session)
        self.settlements = SettlementRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.jobs = JobRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Detach first so objects a service returned stay readable (rollback would expire
        # them); then anything not committed is rolled back.
        self.session.expunge_all()
        self.session.rollback()
        self.session.close()

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def lock(self, name: str) -> None:
        """Serialise writers of one resource until commit: a PostgreSQL advisory lock; on
        SQLite the database's write lock, taken now (BEGIN IMMEDIATE) rather than at the first
        write, so two writers never both act on what they read before either wrote. Callers
        lock before they read what they decide on."""
        if self.dialect == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})
            return
        raw = self.session.connection().connection.driver_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
