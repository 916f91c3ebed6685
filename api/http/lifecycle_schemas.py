"""Schemas of privileged-producer status, securities and the public results."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["commission", "suspend", "resume", "revoke", "terminate", "expire"]
    effective_date: date = Field(description="Local date (Asia/Tbilisi) the change takes effect.")
    reason: str = Field(min_length=1, max_length=2000)


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_date: date = Field(description="Local date (Asia/Tbilisi) the change takes effect.")
    reason: str = Field(min_length=1, max_length=2000)


class MissedDates(BaseModel):
    contract_id: str
    producer: str
    capacity_mw: Decimal
    granted_on: date
    milestone: date | None
    commissioning_deadline: date
    longstop: date | None
    missed: list[str]


class MissedDatesList(BaseModel):
    as_of: date
    count: int
    items: list[MissedDates]


class StatusEventPublic(_Out):
    seq: int
    action: str
    from_status: str | None
    to_status: str
    effective_date: date
    reason: str
    decided_by: str
    decided_role: str
    recorded_at: datetime
    audit_hash: str


class ContractStatus(BaseModel):
    contract_id: str
    status: str
    term_from: str
    term_years: int
    granted_on: date
    commissioning_deadline: date
    milestone_date: date | None
    longstop_date: date | None
    commissioned_on: date | None
    start_date: date
    end_date: date
    history: list[StatusEventPublic]


class SecurityRulesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    security_per_mw: Decimal = Field(ge=0, le=Decimal("1e9"))
    tolerance_share: Decimal = Field(default=Decimal(0), ge=0, le=1)
    steps: list[dict[str, Any]] = Field(default_factory=list, max_length=24)


class SecurityEntryPublic(_Out):
    id: int
    bid_id: str
    bidder: str
    contract_id: str | None
    kind: str
    amount_minor: int
    currency: str
    reason: str
    recorded_at: datetime


class SecurityLedger(BaseModel):
    round_id: str
    rules: dict[str, Any] | None
    count: int
    items: list[SecurityEntryPublic]


class PenaltyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date
    commissioned_mw: Decimal = Field(ge=0, le=Decimal("100000"))
    reason: str = Field(min_length=1, max_length=2000)


class PenaltyDrawn(BaseModel):
    contract_id: str
    currency: str
    months_since_award: int
    per_kw: Decimal
    penalised_kw: Decimal
    penalty: Decimal
    drawn: Decimal
    shortfall: Decimal
    explanation: str


class StandstillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(ge=0, le=90)


class StandstillPublic(BaseModel):
    round_id: str
    status: str
    days: int | None
    ends_at: datetime | None
    provisional: bool


class ObjectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)


class ObjectionAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=5000)
    upheld: bool


class ObjectionPublic(_Out):
    id: int
    round_id: str
    producer: str
    text: str
    filed_at: datetime
    answer: str | None
    upheld: bool | None
    answered_at: datetime | None


class ObjectionList(BaseModel):
    count: int
    items: list[ObjectionPublic]
