"""Exact money: every amount enters as a `Decimal` from text or an integer, never a float.

Rounding happens in one place, with an explicit mode, once per line (settlement.md "Money").
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor units of the currencies the schemes use.
MINOR_UNITS: dict[str, int] = {"GEL": 2, "EUR": 2, "USD": 2, "GBP": 2}

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def D(value: str | int | Decimal) -> Decimal:
    """The one constructor for exact numbers. Floats are refused: they are not exact."""
    if isinstance(value, bool | float):
        kind = type(value).__name__
        raise TypeError(f"exact numbers are built from str, int or Decimal, not {kind}")
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def parse_decimal(text: str) -> Decimal:
    """Parse a decimal from a data file; raises ValueError with a readable message."""
    if text is None or str(text).strip() == "":
        raise ValueError("empty value")
    return D(str(text))


def quantum(currency: str) -> Decimal:
    """The currency's minor unit as a Decimal quantum, e.g. Decimal('0.01') for GEL."""
    try:
        places = MINOR_UNITS[currency.upper()]
    except KeyError as exc:
        raise ValueError(f"unknown currency {currency!r}; known: {sorted(MINOR_UNITS)}") from exc
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, currency: str, mode: str = "half_up") -> Decimal:
    """Round an exact amount to the currency's minor unit (the one rounding of a line)."""
    try:
        rounding = ROUNDING_MODES[mode]
    except KeyError as exc:
        known = sorted(ROUNDING_MODES)
        raise ValueError(f"unknown rounding mode {mode!r}; known: {known}") from exc
    return amount.quantize(quantum(currency), rounding=rounding)


def for_people(amount: str | int | Decimal, currency: str) -> str:
    """`44999952.63966` USD → `44,999,952.64`: half-up to the minor unit, thousands separated.

    Display only; files and ledgers keep the exact value.
    """
    return format(round_money(D(amount), currency), ",f")


def to_minor_units(amount: Decimal, currency: str) -> int:
    """An already-rounded amount as an integer count of minor units (tetri, cents)."""
    places = MINOR_UNITS[currency.upper()]
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of {currency} minor units")
    return int(scaled)


def from_minor_units(count: int, currency: str) -> Decimal:
    return Decimal(count).scaleb(-MINOR_UNITS[currency.upper()])
