"""Pydantic schemas, one family per resource, kept apart from the ORM classes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from treasury import config as tc

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Problem(BaseModel):
    source: str
    row: int | None
    field: str | None
    message: str


class ErrorBody(BaseModel):
    type: str
    detail: str
    problems: list[Problem] = []


class Me(_Out):
    key_id: str
    role: str
    producer: str | None


# --- keys --------------------------------------------------------------------------------------
class KeyCreate(BaseModel):
    role: Literal["operator", "producer", "treasury", "admin"]
    producer: str | None = Field(default=None, max_length=200)
    name: str = Field(default="", max_length=200)


class KeyPublic(_Out):
    key_id: str
    name: str
    role: str
    producer: str | None
    created_at: datetime
    revoked_at: datetime | None


class KeyIssued(BaseModel):
    key_id: str
    role: str
    producer: str | None
    name: str
    secret_key: str = Field(description="Shown once; only its hash is stored.")


class KeyList(BaseModel):
    count: int
    items: list[KeyPublic]


# --- rounds and bids ---------------------------------------------------------------------------
class RoundPublic(_Out):
    round_id: str
    name: str
    currency: str
    status: str
    spec: dict[str, Any]
    clearing: dict[str, Any] | None
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    cleared_at: datetime | None
    awarded_at: datetime | None


class RoundList(BaseModel):
    count: int
    items: list[RoundPublic]


class BidCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bid_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    technology: str = Field(min_length=1, max_length=50)
    capacity_mw: Decimal
    annual_mwh: Decimal
    price: Decimal = Field(description="Currency of the round per MWh, two decimals at most.")
    innovative: bool = False
    grid_node: str | None = Field(default=None, max_length=100)
    alternative_group: str | None = Field(default=None, max_length=100)
    min_capacity_mw: Decimal | None = None


class BidReceipt(BaseModel):
    round_id: str
    bid_id: str
    bidder: str
    receipt: str = Field(description="SHA-256 of canonical_bid; listed in the published results.")
    canonical_bid: str
    submitted_at: datetime


class BidPublic(_Out):
    bid_id: str
    bidder: str
    receipt: str
    submitted_at: datetime
    payload: dict[str, Any]


class BidList(BaseModel):
    count: int
    items: list[BidPublic]


class AwardPublic(_Out):
    bid_id: str
    bidder: str
    technology: str
    receipt: str
    accepted: bool
    awarded_capacity_mw: Decimal
    awarded_annual_mwh: Decimal
    price_paid: Decimal | None
    budget_used: Decimal
    reason: str
    explanation: str


class RoundResults(BaseModel):
    round_id: str
    status: str
    clearing: dict[str, Any] | None
    count: int
    awards: list[AwardPublic]


class RoundAnalysisPublic(BaseModel):
    """What each method buys at the round's budget and along the budget curve, stored once
    when the round was cleared; `sha256` is the one in the clearing's audit entry."""

    model_config = ConfigDict(from_attributes=True)

    round_id: str
    sha256: str
    computed_at: datetime
    analysis: dict[str, Any]


class ClearRequest(BaseModel):
    rule: str | None = Field(
        default=None, max_length=50, description="A merit-order rule; default: the exact optimiser."
    )


class ProjectTerms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date | None = None
    years: int | None = Field(default=None, ge=1, le=40)
    commissioning_deadline: date | None = None
    milestone_date: date | None = None
    longstop_date: date | None = None


class AwardRequest(BaseModel):
    start: date
    years: int = Field(default=15, ge=1, le=40)
    payment_currency: str = Field(default="GEL", pattern=r"^[A-Z]{3}$")
    reference_series: str = Field(default="balancing", min_length=1, max_length=50)
    reference_basis: Literal[
        "interval", "monthly_baseload", "monthly_weighted", "annual_weighted"
    ] = "monthly_baseload"
    fallback_series: str | None = Field(default=None, max_length=50)
    # The engine's default (mzekari.vocabulary.DEFAULT_FX_RULE): one default, not two.
    fx_rule: Literal["last_business_day", "monthly_average"] = "last_business_day"
    term_from: Literal["start", "commissioning"] = Field(
        default="start",
        description="Support runs from `start`, or for `years` from each plant's commissioning.",
    )
    commissioning_deadline: date | None = Field(default=None, description="Default: `start`.")
    milestone_date: date | None = None
    longstop_date: date | None = None
    granted_on: date | None = Field(
        default=None, description="Date status is granted (default: today, Asia/Tbilisi)."
    )
    projects: dict[Annotated[str, Field(max_length=100)], ProjectTerms] = Field(
        default_factory=dict,
        max_length=10_000,
        description="Per accepted bid id: its own start, years and dates.",
    )


# --- contracts ---------------------------------------------------------------------------------
class ContractPublic(_Out):
    contract_id: str
    round_id: str | None
    bid_id: str | None
    producer: str
    scheme: str
    strike_price: Decimal
    currency: str
    start_date: date
    end_date: date
    capacity_mw: Decimal
    terms: dict[str, Any]


class ContractList(BaseModel):
    count: int
    items: list[ContractPublic]


# --- uploads -----------------------------------------------------------------------------------
class UploadPublic(_Out):
    id: int
    kind: str
    target: str
    row_count: int
    content_sha256: str
    first_ts: datetime | None
    last_ts: datetime | None
    created_at: datetime
    replayed: bool = False


class UploadList(BaseModel):
    count: int
    items: list[UploadPublic]


class PriceSeriesPublic(_Out):
    name: str
    currency: str
    resolution_s: int


class PriceSeriesList(BaseModel):
    count: int
    items: list[PriceSeriesPublic]


# --- settlement --------------------------------------------------------------------------------
class SettlementRequest(BaseModel):
    month: str = Field(pattern=MONTH_PATTERN, examples=["2023-06"])


class RunPublic(_Out):
    id: int
    month: str
    input_sha256: str
    line_count: int
    created_at: datetime
    replayed: bool = False


class RunList(BaseModel):
    count: int
    items: list[RunPublic]


class LinePublic(BaseModel):
    line_id: str
    contract_id: str
    kind: str
    reference_series: str | None
    reference_price: Decimal | None
    eligible_kwh: int
    excluded_kwh: int
    rate: Decimal | None
    amount: Decimal
    currency: str
    direction: str
    corrects_line_id: str | None
    explanation: str


class StatementPublic(BaseModel):
    id: int
    run_id: int
    producer: str
    month: str
    currency: str
    paid_to_producer: Decimal
    paid_by_producer: Decimal
    # Support withheld under a rule (rate cap, double benefit, …); net = to − by − reductions.
    reductions: Decimal
    net: Decimal
    lines: list[LinePublic] | None = None


class StatementList(BaseModel):
    count: int
    items: list[StatementPublic]


# --- audit -------------------------------------------------------------------------------------
class AuditEntryPublic(_Out):
    id: int
    at: datetime
    actor_key_id: str
    actor_role: str
    action: str
    entity: str
    details: str
    prev_hash: str
    hash: str


class AuditList(BaseModel):
    count: int
    items: list[AuditEntryPublic]


class AuditVerification(BaseModel):
    valid: bool
    entries: int
    first_bad_id: int | None
    message: str


# --- forecasts ---------------------------------------------------------------------------------
class ForecastDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    probability: float = Field(ge=0, le=1, description="probability the plant is built")
    delay_months: float = Field(default=0, ge=0, le=120, description="expected start delay")


class ForecastRequestConfig(BaseModel):
    """The forecast settings a request may set: numbers, months and names, never a path. The
    server picks every data source (price history, contracts, FX rates), so nothing in a
    request reaches its file system. Bounds (treasury.config's) are checked again by
    treasury.ForecastConfig; NaN and infinities are refused here, before anything is stored."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    start_month: str = Field(pattern=MONTH_PATTERN, description="first forecast month")
    months: int = Field(ge=1, le=600, description="horizon in calendar months")
    scenarios: int | None = Field(default=None, ge=1, le=100_000)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    as_of: date | None = Field(
        default=None, description="the date the forecast is made (data age is measured to it)"
    )
    currency: str | None = Field(default=None, max_length=3)
    reserve_probability: float | None = Field(default=None, ge=0.5, lt=1)
    reserve_precision: Decimal | None = Field(
        default=None, gt=0, le=Decimal("1e12"), description="wanted standard error of a reserve"
    )
    auction_budget: Decimal | None = Field(
        default=None, ge=0, le=Decimal("1e12"), description="currency per year"
    )
    sensitivity: float | None = Field(default=None, ge=0, lt=1)
    price_volatility: float | None = Field(default=None, ge=0, le=tc.MAX_PRICE_VOLATILITY)
    generation_volatility: (
        dict[tc.Name, Annotated[float, Field(ge=0, le=tc.MAX_GENERATION_VOLATILITY)]] | None
    ) = None
    price_generation_correlation: dict[tc.Name, Annotated[float, Field(ge=-1, le=1)]] | None = None
    capacity_factors: dict[tc.Name, list[Annotated[float, Field(ge=0, le=1)]]] | None = None
    contract_technologies: dict[tc.Name, tc.Name] | None = None
    fx_rates: dict[tc.Name, Annotated[Decimal, Field(gt=0, le=tc.MAX_FX_RATE)]] | None = Field(
        default=None, description="planning rates; stored official rates fill the rest"
    )
    cpi_inflation: float | None = Field(default=None, gt=-1, lt=1)
    delivery: dict[tc.Name, ForecastDelivery] | None = Field(
        default=None, description="pipeline per contract id or technology"
    )
    scenario_chunk: int | None = Field(default=None, ge=1, le=100_000)


class ForecastCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: ForecastRequestConfig


class ForecastJobPublic(_Out):
    id: str
    status: str
    progress_done: int
    progress_total: int
    config: dict[str, Any]
    summary: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    files: list[str] = []
