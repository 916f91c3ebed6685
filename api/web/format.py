"""How numbers and instants look on the pages: exact decimals with the separators of the
page's language (Babel's locale data), money from minor units, instants in the market's time
zone, month names in the page's language.

Display only: amounts are never rounded here beyond what the ledger already holds, except
decimals the page asks to show to fewer places (prices to 0.01, energy to 0.001), rounded
half-up like every other rounding in the system.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import NumberFormatError, format_decimal, get_group_symbol, parse_decimal

from api.services.settlements import MARKET_TZ
from api.web import i18n
from mzekari.money import from_minor_units

MINUS = "\u2212"  # a real minus sign: reads better and is what screen readers announce


def grouped(value: Decimal | int | str | None, places: int | None = None) -> str:
    """`Decimal('15190.5')` → `15,190.50` in English, `15 190,50` in Georgian with
    `places=2`; `None` → an em dash. Every digit the value has is shown."""
    if value is None or value == "":
        return "\u2014"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = MINUS if number < 0 else ""
    _, _, fraction = format(abs(number), "f").partition(".")
    pattern = "#,##0" + (f".{'0' * len(fraction)}" if fraction else "")
    return sign + format_decimal(abs(number), format=pattern, locale=i18n.locale())


def typed_number(text: str) -> str:
    """A number as typed in the page's language (`1 500,25` in Georgian, `1,500.25` in
    English) in the engine's form (`1500.25`), every digit kept. Text that is not a number of
    that language is passed on as typed, for the engine to name the problem."""
    text = text.strip()
    if not text:
        return text
    # A plain space typed between digit groups stands for the language's group separator.
    grouping = get_group_symbol(i18n.locale())
    try:
        value = parse_decimal(text.replace(" ", grouping), locale=i18n.locale(), strict=True)
    except NumberFormatError:
        return text
    return format(value, "f") if value.is_finite() else text


def money_minor(count: int, currency: str) -> str:
    return grouped(from_minor_units(count, currency))


def money(value: Decimal | str | None, places: int = 2) -> str:
    return grouped(None if value is None else Decimal(str(value)), places)


def exact(value: Decimal | str | None, min_places: int = 2) -> str:
    """All the digits a value has, but at least `min_places` (a weighted mean price may carry
    more than the 0.01 prices are quoted to; the page shows it as the ledger holds it)."""
    if value is None:
        return grouped(None)
    number = Decimal(str(value))
    exponent = number.normalize().as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) else 0)
    return grouped(number, places)


def kwh(value: int | None) -> str:
    return grouped(value)


def market_zone() -> ZoneInfo:
    return ZoneInfo(MARKET_TZ)


def local_time(value: datetime | str | None) -> str:
    """An instant in the market's time zone, e.g. `2021-02-03 14:05 +04`."""
    if value is None:
        return "\u2014"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # stored instants are UTC
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(market_zone())
    offset = local.strftime("%z")
    return (
        local.strftime("%Y-%m-%d %H:%M ") + offset[:3] + (offset[3:] if offset[3:] != "00" else "")
    )


def iso_local(value: datetime | None) -> str:
    """Machine-readable value for `<time datetime=…>`."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(market_zone()).isoformat(timespec="seconds")


def day(value: date | None) -> str:
    """A calendar day in words of the page's language, e.g. `1 January 2022`."""
    if value is None:
        return "\u2014"
    return format_date(value, format="long", locale=i18n.locale())


def month_name(value: str | None) -> str:
    """`2022-01` → `January 2022` (English) or `იანვარი 2022` (Georgian)."""
    if not value:
        return "\u2014"
    year, month = (int(part) for part in value.split("-"))
    return format_date(date(year, month, 1), format="LLLL y", locale=i18n.locale())


def percent(share: Decimal | str | None) -> str:
    """A share as an exact percentage: `0.35` → `35`."""
    if share is None or share == "":
        return grouped(None)
    return grouped((Decimal(str(share)) * 100).normalize())


FILTERS: dict[str, Any] = {
    "percent": percent,
    "grouped": grouped,
    "money_minor": money_minor,
    "money": money,
    "exact": exact,
    "kwh": kwh,
    "local_time": local_time,
    "iso_local": iso_local,
    "day": day,
    "month_name": month_name,
}
