"""Pydantic schemas of the GO ledger's resources (installations, batches, holdings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.http.schemas import MONTH_PATTERN
from settlement.guarantees import Batch, Holding

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
GO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}-[0-9]{1,12}$"
EnergySource = Literal[
    "solar",
    "wind",
    "hydro",
    "geothermal",
    "biomass",
    "biogas",
    "landfill_gas",
    "sewage_gas",
    "ambient",
    "marine",
]
SupportScheme = Literal[
    "none", "cfd", "variable_premium", "fixed_premium", "feed_in", "green_certificate"
]
Text200 = Field(min_length=1, max_length=200)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstallationCreate(_In):
    installation_id: str = Field(pattern=ID_PATTERN)
    producer: str = Text200
    energy_source: EnergySource
    installation_type: str = Text200
    location: str = Text200
    capacity_mw: Decimal = Field(gt=0, le=100_000, max_digits=14, decimal_places=3)
    commissioning_date: date
    investment_support: str = Field(default="none", min_length=1, max_length=500)
    support_scheme: SupportScheme = "none"
    production_support: str = Field(default="none", min_length=1, max_length=200)
    contract_id: str | None = Field(default=None, max_length=100)


class InstallationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    installation_id: str
    producer: str
    energy_source: str
    energy_carrier: str
    installation_type: str
    location: str
    capacity_mw: Decimal
    commissioning_date: date
    investment_support: str
    support_scheme: str
    production_support: str
    contract_id: str | None
    country: str


class InstallationList(BaseModel):
    count: int
    items: list[InstallationPublic]


class IssuanceRequest(_In):
    installation_id: str = Field(pattern=ID_PATTERN)
    month: str = Field(pattern=MONTH_PATTERN, examples=["2025-06"])


class TransferRequest(_In):
    first_id: str = Field(pattern=GO_ID_PATTERN, max_length=120)
    last_id: str = Field(pattern=GO_ID_PATTERN, max_length=120)
    to_account: str = Text200
    account: str | None = Field(default=None, min_length=1, max_length=200)


class CancelRequest(_In):
    first_id: str = Field(pattern=GO_ID_PATTERN, max_length=120)
    last_id: str = Field(pattern=GO_ID_PATTERN, max_length=120)
    beneficiary: str = Field(min_length=1, max_length=200, description="the named consumer")
    account: str | None = Field(default=None, min_length=1, max_length=200)


class BatchFields(BaseModel):
    """Every field of law Art. 15(12) for the GOs of one batch."""

    batch_id: str
    energy_source: str
    energy_carrier: str
    production_start: date
    production_end: date
    installation_id: str
    location: str
    installation_type: str
    capacity_mw: Decimal
    investment_support: str
    support_scheme: str
    production_support: str
    commissioning_date: date
    issue_date: date
    country: str
    expires_on: date
    recognition: str

    @classmethod
    def of(cls, batch: Batch) -> dict[str, object]:
        inst = batch.installation
        return {
            "batch_id": batch.batch_id,
            "energy_source": inst.energy_source,
            "energy_carrier": inst.energy_carrier,
            "production_start": batch.production_start,
            "production_end": batch.production_end,
            "installation_id": inst.installation_id,
            "location": inst.location,
            "installation_type": inst.installation_type,
            "capacity_mw": inst.capacity_mw,
            "investment_support": inst.investment_support,
            "support_scheme": inst.support_scheme,
            "production_support": inst.production_support,
            "commissioning_date": inst.commissioning_date,
            "issue_date": batch.issue_date,
            "country": inst.country,
            "expires_on": batch.expires_on,
            "recognition": batch.recognition,
        }


class BatchPublic(BatchFields):
    month: str
    issued_to: str
    volume: int
    metered_kwh: int
    carried_in_kwh: int
    carried_out_kwh: int
    first_id: str | None
    last_id: str | None

    @classmethod
    def from_batch(cls, batch: Batch) -> BatchPublic:
        return cls.model_validate(
            {
                **BatchFields.of(batch),
                "month": batch.month,
                "issued_to": batch.issued_to,
                "volume": batch.volume,
                "metered_kwh": batch.metered_kwh,
                "carried_in_kwh": batch.carried_in_kwh,
                "carried_out_kwh": batch.carried_out_kwh,
                "first_id": batch.go_id(1) if batch.volume else None,
                "last_id": batch.go_id(batch.volume) if batch.volume else None,
            }
        )


class HoldingPublic(BatchFields):
    first_id: str
    last_id: str
    count: int
    holder: str
    status: str
    cancelled_on: date | None
    beneficiary: str | None

    @classmethod
    def from_holding(cls, batch: Batch, h: Holding) -> HoldingPublic:
        return cls.model_validate(
            {
                **BatchFields.of(batch),
                "first_id": batch.go_id(h.first),
                "last_id": batch.go_id(h.last),
                "count": h.count,
                "holder": h.holder,
                "status": h.status,
                "cancelled_on": h.cancelled_on,
                "beneficiary": h.beneficiary,
            }
        )


class HoldingList(BaseModel):
    count: int
    items: list[HoldingPublic]


class ImportPublic(BaseModel):
    added: list[str]
    updated: list[str] = Field(description="known batches whose holdings moved on")
    unchanged: list[str]
    refused: dict[str, str] = Field(description="batch id → the reason it is not recognised")
