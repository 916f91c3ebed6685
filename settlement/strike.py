"""The contract price for a month: CPI indexation, then conversion to the payment currency.

Both steps round to 0.01 per MWh, half-up, and the values used are recorded in the line's
explanation (settlement.md: "The indexed price is rounded to 0.01 per MWh and recorded";
"record the rate used").

fx_rates: {"USD/GEL": {"2025-06-30": Decimal("2.7012"), …}} — official rates by date
(the National Bank of Georgia publishes one per business day; the latest date of the month in the
table is the month's last business day). cpi: {"2025-04": Decimal("112.3"), …}.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from mzekari.months import parse_month
from settlement.model import Contract

CENT = Decimal("0.01")


class MonthPrice(NamedTuple):
    price: Decimal  # per MWh in the payment currency, a whole number of hundredths
    note: str


class PriceRuleError(ValueError):
    """A contract rule lacks an input (CPI value, exchange rate); carries the field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def plain(value: Decimal) -> str:
    """A recorded figure as written, whatever its stored scale: 100.0 and 100.000 read 100."""
    return format(value.normalize(), "f")


def index_month_for(contract: Contract, month: str) -> str:
    """The CPI month in force: the latest re-set month (index_month) not after `month`."""
    year, mon = parse_month(month)
    if mon < contract.index_month:
        year -= 1
    return f"{year:04d}-{contract.index_month:02d}"


def fx_rate(
    rates: Mapping[str, Mapping[Any, Any]] | None, pair: str, month: str, rule: str
) -> tuple[Fraction, str]:
    """The month's rate under `rule`, exact: the last business day's, or the unrounded mean."""
    table = (rates or {}).get(pair)
    if not table:
        raise PriceRuleError("strike_currency", f"no official {pair} exchange rates supplied")
    in_month = sorted(
        (str(d if not isinstance(d, date) else d.isoformat()), Decimal(str(v)))
        for d, v in table.items()
        if str(d).startswith(month)
    )
    if not in_month:
        raise PriceRuleError("strike_currency", f"no official {pair} rate dated in {month}")
    if rule == "last_business_day":
        day, rate = in_month[-1]
        return Fraction(rate), f"{pair} {plain(rate)} of {day} (last business day)"
    total = sum((r for _, r in in_month), Decimal(0))
    return Fraction(total) / len(in_month), (
        f"{pair} mean of {len(in_month)} official rates in {month} = {plain(total)} / "
        f"{len(in_month)}, unrounded"
    )


def round_cents(value: Fraction) -> Decimal:
    """An exact value to 0.01, half away from zero (the one rounding of a converted price)."""
    cents = (abs(value) * 100 + Fraction(1, 2)).__floor__()
    return Decimal(cents if value >= 0 else -cents).scaleb(-2)


def month_price(
    contract: Contract, month: str, *, fx_rates: Any = None, cpi: Mapping[str, Any] | None = None
) -> MonthPrice:
    """The contract's price (K, P or T) in force for `month`, in the payment currency."""
    if contract.indexation == "none" and contract.strike_currency in (None, contract.currency):
        return MonthPrice(contract.price, "")
    price = contract.price
    notes = []
    if contract.indexation == "cpi":
        base_month = contract.index_base_month or ""
        now_month = index_month_for(contract, month)
        table = cpi or {}
        for m in (base_month, now_month):
            if m not in table:
                raise PriceRuleError("indexation", f"no CPI value for {m}")
        cpi_base, cpi_now = Decimal(str(table[base_month])), Decimal(str(table[now_month]))
        share = contract.indexed_share
        indexed = price * (1 - share + share * cpi_now / cpi_base)
        price = indexed.quantize(CENT, rounding=ROUND_HALF_UP)
        part = "" if share == 1 else f" on {share * 100:g}% of it"
        notes.append(
            f"price {plain(contract.price)} indexed by CPI {now_month} {plain(cpi_now)} / "
            f"{base_month} {plain(cpi_base)}{part} = {price} {contract.price_currency}/MWh"
        )
    if contract.strike_currency and contract.strike_currency != contract.currency:
        pair = f"{contract.strike_currency}/{contract.currency}"
        rate, rate_note = fx_rate(fx_rates, pair, month, contract.fx_rule)
        converted = round_cents(Fraction(price) * rate)
        notes.append(
            f"{plain(price)} {contract.strike_currency}/MWh at {rate_note} = "
            f"{converted} {contract.currency}/MWh"
        )
        price = converted
    return MonthPrice(price, "; ".join(notes))
