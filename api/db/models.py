"""The tables. Alembic migrations (api/migrations) are the only source of the schema; a test
checks that these models and the migrations agree.

Money that is summed or checked in SQL (line amounts, statement totals) is stored as integer
minor units (tetri, cents), so CHECK constraints hold exactly on both databases. Prices, rates
and capacities are exact decimals (`ExactDecimal`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from api.db.types import ExactDecimal, UTCDateTime
from settlement import guarantees as go

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("operator", "producer", "treasury", "admin")
ROUND_STATES = ("draft", "open", "closed", "cleared", "awarded")
JOB_STATES = ("queued", "running", "done", "failed")
UPLOAD_KINDS = ("prices", "meters", "fx", "cpi", "profile")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UTCDateTime()}


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("(role = 'producer') = (producer IS NOT NULL)", name="producer_binding"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    producer: Mapped[str | None] = mapped_column(String(200))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (CheckConstraint(_in("status", ROUND_STATES), name="status"),)

    round_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]]
    clearing: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    awarded_at: Mapped[datetime | None]

    bids: Mapped[list[Bid]] = relationship(back_populates="round", lazy="raise")


class Bid(Base):
    """A sealed bid. `payload` is never returned while its round is open."""

    __tablename__ = "bids"
    # A bid id is its bidder's own: two producers may use the same one.
    __table_args__ = (UniqueConstraint("round_id", "bidder", "bid_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.round_id"), index=True)
    bid_id: Mapped[str] = mapped_column(String(100))
    bidder: Mapped[str] = mapped_column(String(200), index=True)
    payload: Mapped[dict[str, Any]]
    receipt: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[str] = mapped_column(String(32))
    # An operator's recorded exclusion (closed rounds only): the bid is not cleared.
    excluded_reason: Mapped[str | None] = mapped_column(Text)
    excluded_at: Mapped[datetime | None]
    excluded_by: Mapped[str | None] = mapped_column(String(32))

    round: Mapped[Round] = relationship(back_populates="bids", lazy="raise")


class Award(Base):
    __tablename__ = "awards"
    __table_args__ = (
        UniqueConstraint("round_id", "bidder", "bid_id"),
        CheckConstraint("awarded_capacity_mw >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.round_id"), index=True)
    bid_id: Mapped[str] = mapped_column(String(100))
    bidder: Mapped[str] = mapped_column(String(200))
    technology: Mapped[str] = mapped_column(String(50))
    receipt: Mapped[str] = mapped_column(String(64))
    accepted: Mapped[bool] = mapped_column(Boolean)
    awarded_capacity_mw: Mapped[Decimal] = mapped_column(ExactDecimal(14, 3))
    awarded_annual_mwh: Mapped[Decimal] = mapped_column(ExactDecimal(16, 3))
    price_paid: Mapped[Decimal | None] = mapped_column(ExactDecimal(14, 2))
    budget_used: Mapped[Decimal] = mapped_column(ExactDecimal(23, 5))  # exact: milli-cents
    reason: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)


class RoundAnalysis(Base):
    """The optimiser against the merit-order rules, and the budget curve, computed once when
    the round is cleared (api/services/round_analysis.py); `sha256` of its canonical JSON is
    in the clearing's audit entry."""

    __tablename__ = "round_analyses"

    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.round_id"), primary_key=True)
    analysis: Mapped[dict[str, Any]]
    sha256: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="period"),
        CheckConstraint("capacity_mw > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(100), unique=True)
    round_id: Mapped[str | None] = mapped_column(ForeignKey("rounds.round_id"), index=True)
    bid_id: Mapped[str | None] = mapped_column(String(100))
    producer: Mapped[str] = mapped_column(String(200), index=True)
    scheme: Mapped[str] = mapped_column(String(32))
    strike_price: Mapped[Decimal] = mapped_column(ExactDecimal(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    capacity_mw: Mapped[Decimal] = mapped_column(ExactDecimal(14, 3))
    # Rule fields of the settlement engine's contract (reference basis, series, rates, …).
    terms: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class PriceSeries(Base):
    __tablename__ = "price_series"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    # 3600 or 900 for interval series; 0 for a monthly series (one price per month, stored
    # at the month's first instant in Asia/Tbilisi).
    resolution_s: Mapped[int] = mapped_column(Integer)


class PricePoint(Base):
    __tablename__ = "price_points"

    series: Mapped[str] = mapped_column(ForeignKey("price_series.name"), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    price: Mapped[Decimal] = mapped_column(ExactDecimal(14, 2))


class FxRate(Base):
    """Official exchange rates by date, e.g. pair "USD/GEL": GEL per USD."""

    __tablename__ = "fx_rates"
    __table_args__ = (CheckConstraint("rate > 0", name="rate_positive"),)

    pair: Mapped[str] = mapped_column(String(7), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(14, 6))


class MeterReading(Base):
    """Energy per contract per interval. No foreign key on purpose: uploads insert millions of
    rows through a join on `contracts`, which already guarantees the reference, and a per-row
    referential trigger would dominate the load time."""

    __tablename__ = "meter_readings"
    __table_args__ = (
        CheckConstraint("energy_kwh >= 0", name="energy_not_negative"),
        CheckConstraint("curtailed_kwh >= 0 AND go_kwh >= 0", name="extra_energy_not_negative"),
    )

    contract_pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    energy_kwh: Mapped[int] = mapped_column(BigInteger)
    # The meter file's optional columns: curtailed energy (Art. 16), energy that also earned
    # guarantees of origin (Art. 15(6)); NULL when the file had no such column.
    curtailed_kwh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    go_kwh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ProfilePoint(Base):
    """A generation profile (e.g. national solar feed-in) in thousandths, for contracts whose
    reference price is weighted by a technology's output (`weighting` = the profile's name)."""

    __tablename__ = "profile_points"
    __table_args__ = (CheckConstraint("weight_milli >= 0", name="weight_not_negative"),)

    profile: Mapped[str] = mapped_column(String(50), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    weight_milli: Mapped[int] = mapped_column(BigInteger)


class CpiValue(Base):
    """The consumer price index by month, for CPI-indexed strike prices."""

    __tablename__ = "cpi_values"
    __table_args__ = (CheckConstraint("cpi > 0", name="cpi_positive"),)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    cpi: Mapped[Decimal] = mapped_column(ExactDecimal(14, 6))


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint(_in("kind", UPLOAD_KINDS), name="kind"),
        Index(None, "kind", "target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(50))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    first_ts: Mapped[datetime | None]
    last_ts: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(32))


class SettlementRun(Base):
    __tablename__ = "settlement_runs"
    # Two runs of a month on the same inputs over the same posted lines are one run: a
    # concurrent duplicate fails here and reports the winner.
    __table_args__ = (UniqueConstraint("month", "input_sha256", "basis_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    # Contracts, prices, meter data and exchange rates the run read.
    input_sha256: Mapped[str] = mapped_column(String(64))
    # The lines already posted when it ran (its adjustments are relative to them).
    basis_sha256: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    line_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(32))

    statements: Mapped[list[Statement]] = relationship(back_populates="run", lazy="raise")


class Statement(Base):
    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("run_id", "producer", "currency"),
        CheckConstraint(
            "net_minor = paid_to_producer_minor - paid_by_producer_minor - reductions_minor",
            name="net_balances",
        ),
        CheckConstraint(
            "paid_to_producer_minor >= 0 AND paid_by_producer_minor >= 0", name="directions"
        ),
        Index(None, "producer", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("settlement_runs.id"), index=True)
    producer: Mapped[str] = mapped_column(String(200))
    month: Mapped[str] = mapped_column(String(7))
    currency: Mapped[str] = mapped_column(String(3))
    paid_to_producer_minor: Mapped[int] = mapped_column(BigInteger)
    paid_by_producer_minor: Mapped[int] = mapped_column(BigInteger)
    # Support withheld under a rule (rate cap, double benefit, …): less paid, not a debt.
    reductions_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")
    net_minor: Mapped[int] = mapped_column(BigInteger)

    run: Mapped[SettlementRun] = relationship(back_populates="statements", lazy="raise")
    lines: Mapped[list[SettlementLine]] = relationship(back_populates="statement", lazy="raise")


class SettlementLine(Base):
    __tablename__ = "settlement_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[str] = mapped_column(String(200), unique=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    contract_id: Mapped[str] = mapped_column(String(100), index=True)
    producer: Mapped[str] = mapped_column(String(200))
    month: Mapped[str] = mapped_column(String(7), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reference_price: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 6))
    reference_series: Mapped[str | None] = mapped_column(String(50))
    eligible_kwh: Mapped[int] = mapped_column(BigInteger)
    excluded_kwh: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 6))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    direction: Mapped[str] = mapped_column(String(32))
    corrects_line_id: Mapped[str | None] = mapped_column(String(200))
    adjusted_kind: Mapped[str | None] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text)

    statement: Mapped[Statement] = relationship(back_populates="lines", lazy="raise")


class AuditEntry(Base):
    """Append-only (a trigger rejects UPDATE and DELETE); each entry hashes its predecessor
    and is signed with a key the database does not hold."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor_key_id: Mapped[str] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 of `hash` under MZEKARI_AUDIT_KEY (kept outside the database).
    signature: Mapped[str | None] = mapped_column(String(64))


class ForecastJob(Base):
    __tablename__ = "forecast_jobs"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATES), name="status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    progress_done: Mapped[int] = mapped_column(Integer)
    progress_total: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]]
    summary: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(32))


class ForecastFile(Base):
    __tablename__ = "forecast_files"

    job_id: Mapped[str] = mapped_column(ForeignKey("forecast_jobs.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)


# --- privileged-producer status, securities (api/services/contracts.py, securities.py) -------
CONTRACT_STATUSES = ("granted", "commissioned", "suspended", "revoked", "terminated", "expired")
STATUS_ACTIONS = ("grant", "commission", "suspend", "resume", "revoke", "terminate", "expire")
TERM_FROM = ("start", "commissioning")
SECURITY_KINDS = ("held", "returned", "drawn")


class ContractLifecycle(Base):
    """A contract's privileged-producer status and its own dates; history in
    `contract_status_events`."""

    __tablename__ = "contract_lifecycles"
    __table_args__ = (
        CheckConstraint(_in("status", CONTRACT_STATUSES), name="status"),
        CheckConstraint(_in("term_from", TERM_FROM), name="term_from"),
        CheckConstraint("term_years BETWEEN 1 AND 40", name="term_years"),
    )

    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.contract_id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    term_from: Mapped[str] = mapped_column(String(16))
    term_years: Mapped[int] = mapped_column(Integer)
    granted_on: Mapped[date] = mapped_column(Date)
    commissioning_deadline: Mapped[date] = mapped_column(Date)
    milestone_date: Mapped[date | None] = mapped_column(Date)
    longstop_date: Mapped[date | None] = mapped_column(Date)
    commissioned_on: Mapped[date | None] = mapped_column(Date)
    last_effective: Mapped[date] = mapped_column(Date)


class ContractStatusEvent(Base):
    """One status change: never edited; `seq` orders a contract's history."""

    __tablename__ = "contract_status_events"
    __table_args__ = (
        UniqueConstraint("contract_id", "seq"),
        CheckConstraint(_in("action", STATUS_ACTIONS), name="action"),
        CheckConstraint(_in("to_status", CONTRACT_STATUSES), name="to_status"),
        CheckConstraint("length(reason) > 0", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.contract_id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    effective_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(32))
    decided_role: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]
    audit_hash: Mapped[str] = mapped_column(String(64))


class RoundSecurityRules(Base):
    """A round's bid security per MW and its penalty schedule (canonical JSON of
    `auction.securities.SecurityRules`)."""

    __tablename__ = "round_security_rules"

    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.round_id"), primary_key=True)
    rules: Mapped[dict[str, Any]]
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(32))


class SecurityEntry(Base):
    """The securities ledger: held at award for every bid, returned (losers at award, winners
    at commissioning) or drawn as a penalty. Entries are never edited."""

    __tablename__ = "security_ledger"
    __table_args__ = (
        CheckConstraint(_in("kind", SECURITY_KINDS), name="kind"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index(None, "round_id", "bid_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.round_id"))
    bid_id: Mapped[str] = mapped_column(String(100))
    bidder: Mapped[str] = mapped_column(String(200), index=True)
    contract_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(32))


class ContractDocument(Base):
    """The standard-form contract as rendered at award; never re-rendered."""

    __tablename__ = "contract_documents"

    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.contract_id"), primary_key=True)
    form_version: Mapped[str] = mapped_column(String(50))
    html: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class RoundStandstill(Base):
    """Days after clearing during which the results are provisional and bidders may object;
    the award waits for them and for an answer to every objection."""

    __tablename__ = "round_standstills"
    __table_args__ = (CheckConstraint("days BETWEEN 0 AND 90", name="days"),)

    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.round_id"), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(32))


class RoundObjection(Base):
    """A bidder's objection to provisional results and the operator's answer."""

    __tablename__ = "round_objections"
    __table_args__ = (
        CheckConstraint("length(text) > 0", name="text_given"),
        CheckConstraint("(answer IS NULL) = (upheld IS NULL)", name="answer_complete"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.round_id"), index=True)
    producer: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime]
    filed_by: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str | None] = mapped_column(Text)
    upheld: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(32))


class GoInstallation(Base):
    """An installation registered for guarantees of origin (law Art. 15(12) fields)."""

    __tablename__ = "go_installations"
    __table_args__ = (CheckConstraint("capacity_mw > 0", name="capacity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(80), unique=True)
    producer: Mapped[str] = mapped_column(String(200), index=True)
    energy_source: Mapped[str] = mapped_column(String(32))
    installation_type: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200))
    capacity_mw: Mapped[Decimal] = mapped_column(ExactDecimal(14, 3))
    commissioning_date: Mapped[date] = mapped_column(Date)
    investment_support: Mapped[str] = mapped_column(String(500))
    support_scheme: Mapped[str] = mapped_column(String(32))
    production_support: Mapped[str] = mapped_column(String(200))
    # One installation per contract: two would be issued GOs for the same metered MWh.
    contract_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    energy_carrier: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class GoBatch(Base):
    """GOs issued (or imported) together, numbered 1…volume, with every 15(12) field as it
    stood at issue (`settlement.guarantees.Batch`)."""

    __tablename__ = "go_batches"
    __table_args__ = (
        CheckConstraint("volume >= 0 AND metered_kwh >= 0", name="volume_not_negative"),
        CheckConstraint(
            "carried_in_kwh BETWEEN 0 AND 999 AND carried_out_kwh BETWEEN 0 AND 999",
            name="carried_below_one_mwh",
        ),
        CheckConstraint("production_end >= production_start", name="period"),
        CheckConstraint(_in("origin", go.ORIGINS), name="origin"),
        CheckConstraint(_in("recognition", go.RECOGNITION), name="recognition"),
        Index(None, "installation_id", "production_end"),
    )

    batch_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(80))
    producer: Mapped[str] = mapped_column(String(200))
    energy_source: Mapped[str] = mapped_column(String(32))
    energy_carrier: Mapped[str] = mapped_column(String(32))
    installation_type: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200))
    capacity_mw: Mapped[Decimal] = mapped_column(ExactDecimal(14, 3))
    commissioning_date: Mapped[date] = mapped_column(Date)
    investment_support: Mapped[str] = mapped_column(String(500))
    support_scheme: Mapped[str] = mapped_column(String(32))
    production_support: Mapped[str] = mapped_column(String(200))
    contract_id: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    month: Mapped[str] = mapped_column(String(7), index=True)
    production_start: Mapped[date] = mapped_column(Date)
    production_end: Mapped[date] = mapped_column(Date)
    issue_date: Mapped[date] = mapped_column(Date)
    volume: Mapped[int] = mapped_column(BigInteger)
    issued_to: Mapped[str] = mapped_column(String(200))
    metered_kwh: Mapped[int] = mapped_column(BigInteger)
    carried_in_kwh: Mapped[int] = mapped_column(Integer)
    carried_out_kwh: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))
    recognition: Mapped[str] = mapped_column(String(16))
    refusal_reason: Mapped[str] = mapped_column(String(500))
    serial_width: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class GoHolding(Base):
    """GOs first…last of a batch held by one account; every serial of a batch is in exactly
    one holding (law Art. 15(5)); a cancelled run names its date and consumer (15(9))."""

    __tablename__ = "go_holdings"
    __table_args__ = (
        UniqueConstraint("batch_id", "first_serial"),
        CheckConstraint("first_serial >= 1 AND last_serial >= first_serial", name="run"),
        CheckConstraint(_in("status", go.STATUSES), name="status"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_on IS NOT NULL AND beneficiary IS NOT NULL)",
            name="cancellation_named",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("go_batches.batch_id"))
    first_serial: Mapped[int] = mapped_column(BigInteger)
    last_serial: Mapped[int] = mapped_column(BigInteger)
    holder: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16))
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    beneficiary: Mapped[str | None] = mapped_column(String(200))
