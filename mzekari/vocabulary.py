"""The domain's words, defined once: schemes, reference bases, rules, roles, line kinds,
technologies, the market's time zone and how an awarded contract is named.

Every package (auction, settlement, treasury, the service and its pages) imports these; a
word spelled anywhere else is a second truth.
"""

from __future__ import annotations

# Georgia's electricity market settles calendar months in Tbilisi time (UTC+4, no DST).
MARKET_TZ = "Asia/Tbilisi"

SCHEMES = ("cfd", "variable_premium", "fixed_premium", "feed_in", "green_certificate")
REFERENCE_BASES = ("interval", "monthly_baseload", "monthly_weighted", "annual_weighted")
FX_RULES = ("last_business_day", "monthly_average")
DEFAULT_FX_RULE = "last_business_day"
INDEXATIONS = ("none", "cpi")
ROUNDING_RULES = ("half_up", "half_even")

# Kinds of statement line. Support is the scheme's payment; the others are one rule's effect.
LINE_KINDS = (
    "support",
    "negative_price_exclusion",
    "seasonal_exclusion",
    "volume_cap",
    "annual_cap",
    "rate_cap",
    "rate_floor",
    "curtailment",
    "double_benefit",
    "true_up",
    "adjustment",
)
# Lines that take money away from what a scheme would otherwise pay (never a payment by the
# producer for energy sold: that is a negative `support` or `true_up` of a two-way CfD).
REDUCTION_KINDS = (
    "negative_price_exclusion",
    "seasonal_exclusion",
    "volume_cap",
    "annual_cap",
    "rate_cap",
    "double_benefit",
)

ROLES = ("operator", "producer", "treasury", "admin")

# Generation technologies of the forecast's weather model; auction technology names map onto them.
TECHNOLOGIES = ("hydro", "solar", "wind", "other")
_TECHNOLOGY_MARKS = (("hydro", ("hydro", "hpp")), ("solar", ("solar", "pv")), ("wind", ("wind",)))


def technology_class(name: str) -> str:
    """The forecast technology of an auction technology name ("Small HPP" → "hydro")."""
    lowered = name.lower()
    for tech, marks in _TECHNOLOGY_MARKS:
        if any(mark in lowered for mark in marks):
            return tech
    return "other"


def award_contract_id(round_id: str, bid_id: str) -> str:
    """The contract id of an awarded bid: `ROUND-BID`, the same in the service and forecast."""
    return f"{round_id}-{bid_id}"
