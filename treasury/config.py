"""What a forecast is asked to do: horizon, scenario count, seeds, model inputs, outputs wanted."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from mzekari.money import MINOR_UNITS
from mzekari.vocabulary import MARKET_TZ, TECHNOLOGIES

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Every scenario keeps its monthly net cost and price (2 × 8 bytes): 25 million scenario-months
# hold 400 MB, the bound on what one forecast may ask for.
MAX_SCENARIO_MONTHS = 25_000_000
MAX_SCENARIOS = 1_000_000
STALE_HISTORY_MONTHS = 12
FIRST_YEAR, LAST_YEAR = 1990, 2200  # calendar years a forecast may start in
# Bounds that keep a forecast's numbers plausible and finite. ESCO's history fits a monthly
# log-price volatility of 0.12; 1.0 (a one-sd month more than doubles or halves the price)
# is a stress far beyond any observed market, and above it a lognormal fan's mean runs off
# to trillions on a few hundred GWh.
MAX_PRICE_VOLATILITY = 1.0
MAX_GENERATION_VOLATILITY = 1.0  # log sd of a month's capacity factor (hydro's default 0.15)
MAX_FX_RATE = Decimal(1_000_000)  # payment currency per unit of the strike currency
MAX_MONEY = Decimal("1e15")  # currency per year: far above any support budget
MAX_ANNUAL_MWH = Decimal("1e8")  # 100 TWh a year: several times Georgia's consumption
MAX_NAME_LENGTH = 100  # a contract id, technology or currency used as a key

Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)]


def shown(name: str) -> str:
    """A name from the input, quoted and cut short: a message never repeats a long input."""
    return repr(name if len(name) <= 40 else name[:40] + "…")


def field_path(location: tuple[int | str, ...]) -> str:
    """A validation error's location as a dotted field name, each part cut short."""
    return ".".join(str(p) if len(str(p)) <= 40 else str(p)[:40] + "…" for p in location)


class Delivery(BaseModel):
    """A plant not yet delivering: the probability it is built and its expected start delay."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    probability: float = Field(ge=0, le=1)
    delay_months: float = Field(default=0, ge=0, le=120)


class ForecastConfig(BaseModel):
    """A forecast request. Every field has a unit or a stated meaning; bad values are refused."""

    model_config = ConfigDict(
        arbitrary_types_allowed=True, frozen=True, extra="forbid", allow_inf_nan=False
    )

    start_month: str = Field(description="first forecast month, 'YYYY-MM' (market local time)")
    months: int = Field(ge=1, le=600, description="horizon in calendar months")
    scenarios: int = Field(default=1000, description="stochastic scenarios (>= 1)")
    seed: int = Field(default=0, ge=0)
    # The date the forecast is made: data age and new contracts' start are measured to it, never
    # to the system clock. Defaults to the first day of start_month.
    as_of: date | None = None
    currency: str = "GEL"
    reserve_probability: float = Field(
        default=0.95, description="reserve covers payments with this probability"
    )
    auction_budget: Decimal | None = Field(
        default=None, ge=0, le=MAX_MONEY, description="annual support budget, currency per year"
    )
    reserve_precision: Decimal | None = Field(
        default=None,
        gt=0,
        le=MAX_MONEY,
        description="wanted Monte Carlo standard error of a year's reserve, currency; "
        "default 1 % of that reserve",
    )
    sensitivity: float = Field(
        default=0.10, ge=0, lt=1, description="price shift for the ± sensitivity"
    )
    # Price model inputs. `price_history` calibrates the monthly model (ESCO monthly CSV, or an
    # hourly day-ahead file, or a pandas Series indexed by month/timestamp); `hourly_history`
    # gives the within-month hourly shape (negative hours, capture prices). Without either
    # history or paths the shipped ESCO history is used; without an hourly history, no hour
    # of a month differs from its mean (no negative hours, capture price = baseload).
    price_history: Path | Any | None = None
    hourly_history: Path | Any | None = None
    hourly_history_column: str = "Deutschland/Luxemburg"
    # User-supplied monthly price paths (CSV or DataFrame: scenario, month, price) replace the
    # stochastic prices; generation still follows the weather model.
    price_paths: Path | Any | None = None
    # Realised prices (settlement price file) and meter data: the exact single-path mode,
    # settled with settlement's money rules (see treasury.exact).
    realised_prices: Path | Any | None = None
    realised_meters: Path | Any | None = None
    market_tz: str = MARKET_TZ
    price_volatility: float | None = Field(
        default=None,
        ge=0,
        le=MAX_PRICE_VOLATILITY,
        description="override of the monthly log-price volatility",
    )
    generation_volatility: dict[
        Name, Annotated[float, Field(ge=0, le=MAX_GENERATION_VOLATILITY)]
    ] = Field(default_factory=dict)
    price_generation_correlation: dict[Name, Annotated[float, Field(ge=-1, le=1)]] = Field(
        default_factory=dict
    )
    capacity_factors: dict[Name, list[Annotated[float, Field(ge=0, le=1)]]] = Field(
        default_factory=dict, description="12 monthly means per technology"
    )
    # Contracts carry no technology field; name it here (or via a technology weighting profile).
    contract_technologies: dict[Name, str] = Field(default_factory=dict)
    # Strike currency -> payment currency per unit, for strikes quoted in another currency.
    fx_rates: dict[Name, Annotated[Decimal, Field(gt=0, le=MAX_FX_RATE)]] = Field(
        default_factory=dict
    )
    # Where fx_rates came from when a caller filled them (e.g. stored official rates); reported.
    fx_rate_sources: tuple[str, ...] = ()
    # Exact mode: generation profiles by weighting name (a settlement profile file each, or a
    # settlement.price_io.Profile); foreign strikes use the planning rates in fx_rates.
    profiles: dict[str, Path | Any] = Field(default_factory=dict)
    # Contracts not yet delivering, keyed by contract id or technology (a contract id wins).
    delivery: dict[Name, Delivery] = Field(default_factory=dict)
    # Expected energy per year for contracts whose own estimate replaces capacity × capacity
    # factor (e.g. a bid's annual_mwh); the weather model still sets the monthly shape.
    contract_annual_mwh: dict[Name, Annotated[Decimal, Field(gt=0, le=MAX_ANNUAL_MWH)]] = Field(
        default_factory=dict
    )
    # Planning CPI growth per year for indexed strikes (a deterministic path, not a scenario).
    cpi_inflation: float = Field(default=0.03, gt=-1, lt=1)
    scenario_chunk: int = Field(
        default=1000, ge=1, le=100_000, description="scenarios per chunk (bounds memory)"
    )
    contract_chunk: int = Field(
        default=256, ge=1, description="contracts per block in the dense kernel"
    )
    method: Literal["aggregated", "dense"] = "aggregated"

    @field_validator("start_month")
    @classmethod
    def _month(cls, value: str) -> str:
        if not _MONTH.match(value):
            raise ValueError(f"start_month must be 'YYYY-MM', got {value!r}")
        if not FIRST_YEAR <= int(value[:4]) <= LAST_YEAR:
            raise ValueError(f"start_month must be in {FIRST_YEAR}..{LAST_YEAR}, got {value!r}")
        return value

    @field_validator("scenarios")
    @classmethod
    def _scenarios(cls, value: int) -> int:
        if value < 1:
            raise ValueError("at least one scenario is needed (scenarios >= 1)")
        if value > MAX_SCENARIOS:
            raise ValueError(f"at most {MAX_SCENARIOS:,} scenarios, got {value:,}")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value.upper() not in MINOR_UNITS:
            raise ValueError(f"unknown currency {value!r}; known: {sorted(MINOR_UNITS)}")
        return value.upper()

    @field_validator("reserve_probability")
    @classmethod
    def _probability(cls, value: float) -> float:
        if not 0.5 <= value < 1.0:
            raise ValueError("reserve_probability must be in [0.5, 1), e.g. 0.95 for 19 in 20")
        return value

    @field_validator("auction_budget", mode="before")
    @classmethod
    def _budget(cls, value: object) -> object:
        if isinstance(value, float):
            # Money enters from text or integers only.
            raise ValueError("auction_budget must be given as text or an integer, not a float")
        return value

    @field_validator("generation_volatility", "price_generation_correlation", "capacity_factors")
    @classmethod
    def _technology_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = [shown(tech) for tech in value if tech not in TECHNOLOGIES]
        if unknown:
            raise ValueError(f"unknown technology {', '.join(unknown[:5])}; known: {TECHNOLOGIES}")
        return value

    @field_validator("capacity_factors")
    @classmethod
    def _twelve_months(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        short = [shown(tech) for tech, factors in value.items() if len(factors) != 12]
        if short:
            raise ValueError(f"{', '.join(short)}: needs 12 monthly values in [0, 1]")
        return value

    @field_validator("contract_technologies")
    @classmethod
    def _technology_values(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [
            f"{shown(cid)}: {shown(tech)}"
            for cid, tech in value.items()
            if tech not in TECHNOLOGIES
        ]
        if unknown:
            raise ValueError(
                f"unknown technology for {', '.join(unknown[:5])}; known: {TECHNOLOGIES}"
            )
        return value

    @model_validator(mode="after")
    def _size(self) -> ForecastConfig:
        if self.scenarios * self.months > MAX_SCENARIO_MONTHS:
            raise ValueError(
                f"scenarios × months = {self.scenarios * self.months:,} exceeds "
                f"{MAX_SCENARIO_MONTHS:,} (about 400 MB of scenario results); "
                "use fewer scenarios or a shorter horizon"
            )
        return self

    @property
    def as_of_date(self) -> date:
        return self.as_of or date(int(self.start_month[:4]), int(self.start_month[5:]), 1)

    @property
    def month_labels(self) -> list[str]:
        year, month = (int(x) for x in self.start_month.split("-"))
        labels = []
        for k in range(self.months):
            y, m = divmod(month - 1 + k, 12)
            labels.append(f"{year + y:04d}-{m + 1:02d}")
        return labels
