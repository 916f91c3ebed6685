"""Domain objects of the settlement: contracts, statement lines and statements.

Everything here is immutable; a correction is a new `Line` of kind ``adjustment`` (never an edit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from mzekari.money import quantum
from mzekari.vocabulary import DEFAULT_FX_RULE, REDUCTION_KINDS


@dataclass(frozen=True)
class Contract:
    """A support contract held by exactly one producer.

    `price` is the strike K (cfd, variable_premium), the premium P (fixed_premium), the
    tariff T (feed_in) or the guaranteed certificate price G (green_certificate), per MWh in
    `strike_currency` (defaults to `currency`, the payment currency). `start` and `end` are
    inclusive local dates of the term.
    """

    contract_id: str
    producer: str
    scheme: str
    price: Decimal
    currency: str
    start: date
    end: date
    capacity_mw: Decimal
    # What R is: "interval", "monthly_baseload", "monthly_weighted", "annual_weighted".
    reference_basis: str = "interval"
    reference_series: str = "dam"
    # Weighting of monthly/annual weighted R: "own" metering or the name of a generation profile.
    weighting: str = "own"
    fallback_series: str | None = None
    # UK standard terms: R floored at 0, so a CfD never pays more than K per MWh.
    zero_floor: bool = False
    # Bounds on the unit rate per MWh (payment currency), e.g. Georgia 2020 hydro cap 15 USD/MWh.
    cap: Decimal | None = None
    floor: Decimal | None = None
    # Cap-and-floor CfD: pays max(K - R, 0) - max(R - upper_price, 0); None means upper = K.
    upper_price: Decimal | None = None
    negative_price_rule: str = "none"  # "none" | "any" | "run:N" (N hours)
    excluded_months: tuple[int, ...] = ()
    # CPI indexation: K_t = K_0 * (1 - s + s * CPI_t / CPI_base), re-set each `index_month`.
    indexation: str = "none"  # "none" | "cpi"
    index_base_month: str | None = None  # "YYYY-MM" of CPI_base
    index_month: int = 4
    indexed_share: Decimal = Decimal(1)
    # Strike in another currency, converted at an official rate under `fx_rule`.
    strike_currency: str | None = None
    fx_rule: str = DEFAULT_FX_RULE  # one of vocabulary.FX_RULES
    interval_cap: bool = False
    annual_cap_mwh: Decimal | None = None
    curtailment_compensated: bool = False
    double_benefit_share: Decimal = Decimal(0)
    rounding: str = "half_up"
    # Market time zone whose calendar months are settled; a run for another zone is refused.
    market_tz: str | None = None
    # Generation technology (vocabulary.TECHNOLOGIES), for forecasts; settlement ignores it.
    technology: str | None = None

    @property
    def price_currency(self) -> str:
        return self.strike_currency or self.currency

    def negative_run_hours(self) -> int | None:
        """N of a ``run:N`` rule, 0 for ``any``, None for ``none``."""
        if self.negative_price_rule == "none":
            return None
        if self.negative_price_rule == "any":
            return 0
        return int(self.negative_price_rule.split(":", 1)[1])


@dataclass(frozen=True)
class Line:
    """One line of a statement. amount > 0: counterparty pays the producer; < 0: the reverse."""

    line_id: str
    contract_id: str
    producer: str
    month: str
    kind: str
    reference_price: Decimal | None
    reference_series: str | None
    eligible_kwh: int
    excluded_kwh: int
    rate: Decimal | None
    amount: Decimal
    currency: str
    direction: str
    corrects_line_id: str | None = None
    explanation: str = ""
    # The kind of line an adjustment corrects (None for every other kind).
    adjusted_kind: str | None = None


@dataclass(frozen=True)
class Statement:
    """A producer's statement for a month in one currency; totals are sums of rounded lines."""

    producer: str
    month: str
    currency: str
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def _zero(self) -> Decimal:
        return Decimal(0).quantize(quantum(self.currency))

    def _sum(self, lines: Iterable[Line]) -> Decimal:
        return sum((ln.amount for ln in lines), self._zero)

    def _is_reduction(self, line: Line) -> bool:
        kind = line.adjusted_kind if line.kind == "adjustment" else line.kind
        return kind in REDUCTION_KINDS

    @property
    def paid_to_producer(self) -> Decimal:
        """Payments to the producer (support, floors, curtailment, true-ups owed to it)."""
        return self._sum(ln for ln in self.lines if ln.amount > 0 and not self._is_reduction(ln))

    @property
    def paid_by_producer(self) -> Decimal:
        """Payments by the producer: a two-way CfD's difference when R > K (a positive figure)."""
        return (
            -self._sum(ln for ln in self.lines if ln.amount < 0 and not self._is_reduction(ln))
            + self._zero
        )

    @property
    def reductions(self) -> Decimal:
        """Support withheld under a rule (rate cap, double benefit, …): less paid, not a debt."""
        return -self._sum(ln for ln in self.lines if self._is_reduction(ln)) + self._zero

    @property
    def net(self) -> Decimal:
        """paid_to_producer − paid_by_producer − reductions."""
        return self._sum(self.lines)
