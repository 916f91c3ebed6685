"""The double-benefit reduction fed from the GO ledger (law Art. 15(6)).

The ledger says, per contract and month, how many MWh had their GOs sold or cancelled for the
producer's benefit (`settlement.guarantees.benefited`). Support on that energy is reduced by the
contract's `double_benefit_share`. GOs are counted per month, not per interval, so the energy is
priced at the month's mean positive support per kWh of eligible energy; with a monthly reference
that is the month's rate itself. The reduction is at most the eligible energy, and is rounded
once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

from mzekari.money import MINOR_UNITS
from settlement.compute import AMOUNT_SCALE
from settlement.guarantees import GoUse
from settlement.ledger import new_line
from settlement.model import Contract, Line
from settlement.resolve import References


def reduction(share: Decimal, positive_support: int, go_kwh: int, eligible_kwh: int) -> Fraction:
    """−share × go_kwh × (positive support per eligible kWh), in currency units, exact."""
    if eligible_kwh <= 0:
        return Fraction(0)
    kwh = min(go_kwh, eligible_kwh)
    return -Fraction(share) * positive_support * kwh / (eligible_kwh * AMOUNT_SCALE)


def round_exact(value: Fraction, currency: str, mode: str) -> Decimal:
    """The one rounding of an exact amount to minor units: half away from zero (half_up) or
    half to even, as `mzekari.money.ROUNDING_MODES`."""
    places = MINOR_UNITS[currency]
    scaled = abs(value) * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest > scaled.denominator or (
        2 * rest == scaled.denominator and (mode == "half_up" or whole % 2 == 1)
    ):
        whole += 1
    return Decimal(-whole if value < 0 else whole).scaleb(-places)


def ledger_lines(
    contracts: Sequence[Contract],
    month: str,
    refs: References,
    sums: Mapping[str, list[int]],
    guarantees: Mapping[str, GoUse],
) -> list[Line]:
    lines = []
    for j, c in enumerate(contracts):
        use = guarantees.get(c.contract_id)
        if use is None or not c.double_benefit_share:
            continue
        eligible = sums["eligible_kwh"][j] + sums["eligible_fb_kwh"][j]
        exact = reduction(c.double_benefit_share, sums["positive_support"][j], use.kwh, eligible)
        amount = round_exact(exact, c.currency, c.rounding)
        series = (
            c.fallback_series
            if refs.monthly_r[j] is not None and refs.fallback_rows[j]
            else c.reference_series
        )
        kwh = min(use.kwh, eligible)
        lines.append(
            new_line(
                c.contract_id,
                c.producer,
                month,
                "double_benefit",
                None,
                series,
                kwh,
                0,
                None,
                amount,
                c.currency,
                None,
                f"support reduced by {c.double_benefit_share} on {Decimal(kwh) / 1000} MWh whose "
                f"guarantees of origin were sold or cancelled for the producer (law Art. "
                f"15(6)); GO ids {use.describe()}"
                + (
                    f"; {use.kwh - kwh} kWh above the eligible energy not reduced"
                    if kwh < use.kwh
                    else ""
                ),
                None,
            )
        )
    return lines
