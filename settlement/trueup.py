"""Annual reference basis: monthly payments on the provisional monthly value, trued up at year end.

In the year's last settled month (December, or the month the contract ends), every month of the
year is recomputed on the annual weighted value R_year, and the difference to what the monthly
values paid is one `true_up` line:  Σ_m [rate(K_m, R_year) − rate(K_m, R_m)] · q_m.
It needs the year's meter data (every month of the term) and prices.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from mzekari.errors import InputError
from mzekari.money import round_money
from mzekari.months import month_bounds_ns, months_of_year, parse_month
from settlement.compute import NO_BOUND
from settlement.ledger import make_line
from settlement.meters import MeterData
from settlement.model import Contract, Line
from settlement.prices import PriceSeries, from_hundredths, to_hundredths
from settlement.reference import div_half_up, lookup
from settlement.schemes import unit_rate


def closes_year(contract: Contract, month: str) -> bool:
    if contract.reference_basis != "annual_weighted":
        return False
    year, mon = parse_month(month)
    return mon == 12 or (contract.end.year, contract.end.month) == (year, mon)


def _annual_reference(
    c: Contract,
    prices: Mapping[str, PriceSeries],
    meters: MeterData,
    profiles: Mapping[str, Any],
    months: list[str],
    tz: str,
) -> tuple[int, str]:
    lo, _ = month_bounds_ns(months[0], tz)
    _, hi = month_bounds_ns(months[-1], tz)
    for name in (c.reference_series, c.fallback_series):
        if name is None:
            continue
        series = prices[name]
        num = den = 0
        complete = True
        for month in months:
            m_lo, m_hi = month_bounds_ns(month, tz)
            if c.weighting == "own":
                rows = meters.rows_of(c.contract_id)
                ts, g = meters.starts_utc_ns[rows], meters.energy_kwh[rows]
                res = meters.resolution_s
            else:
                profile = profiles[c.weighting]
                ts, g, res = profile.starts_utc_ns, profile.weight_milli, profile.resolution_s
            pick = (ts >= max(m_lo, lo)) & (ts < min(m_hi, hi))
            values, ok, _ = lookup(series, ts[pick], res, month)
            complete &= bool(ok.all())
            num += sum(
                int(p) * int(w) for p, w in zip(values.tolist(), g[pick].tolist(), strict=True)
            )
            den += int(g[pick].sum())
        if complete and den > 0:
            return div_half_up(num, den), name
    raise InputError(
        f"{c.contract_id}: no complete prices and generation for the annual "
        f"reference value of {months[0][:4]}"
    )


def _active_in(c: Contract, month: str) -> bool:
    year, mon = parse_month(month)
    return c.start <= date(year, mon, calendar.monthrange(year, mon)[1]) and c.end >= date(
        year, mon, 1
    )


def true_up_lines(
    contracts: Sequence[Contract],
    month: str,
    tz: str,
    prices: Mapping[str, PriceSeries],
    meters: MeterData,
    profiles: Mapping[str, Any],
    settle: Callable[[Sequence[Contract], str, MeterData, dict[str, int]], Sequence[Line]],
    price_of: Callable[[Contract, str], int],
) -> list[Line]:
    """`settle(contracts, month, meters, prior_kwh)` gives a month's lines; `price_of` its K."""
    out: list[Line] = []
    for c in (c for c in contracts if closes_year(c, month)):
        months = [m for m in months_of_year(month) if m <= month and _active_in(c, m)]
        own = meters.subset([c.contract_id])
        r_year, series = _annual_reference(c, prices, own, profiles, months, tz)
        bounds: dict[str, Any] = dict(
            cap=to_hundredths(c.cap) if c.cap is not None else NO_BOUND,
            floor=to_hundredths(c.floor) if c.floor is not None else -NO_BOUND,
            zero_floor=c.zero_floor,
            upper_price=to_hundredths(c.upper_price) if c.upper_price is not None else None,
        )
        total = eligible = 0
        paid_kwh = 0  # eligible energy of the year so far, for an annual volume cap
        for m in months:
            k = price_of(c, m)
            for line in settle([c], m, own, {c.contract_id: paid_kwh}):
                if line.kind != "support" or line.reference_price is None:
                    continue
                r_m = to_hundredths(line.reference_price)
                delta = int(unit_rate(c.scheme, k, np.int64(r_year), **bounds)) - int(
                    unit_rate(c.scheme, k, np.int64(r_m), **bounds)
                )
                total += delta * line.eligible_kwh
                eligible += line.eligible_kwh
                paid_kwh += line.eligible_kwh
        amount = round_money(Decimal(total).scaleb(-5), c.currency, c.rounding)
        out.append(
            make_line(
                contract_id=c.contract_id,
                producer=c.producer,
                month=month,
                kind="true_up",
                amount=amount,
                currency=c.currency,
                reference_price=from_hundredths(r_year),
                reference_series=series,
                eligible_kwh=eligible,
                explanation=f"annual weighted value {from_hundredths(r_year)} for "
                f"{months[0]}..{months[-1]} replaces the monthly "
                "provisional values on each month's eligible energy",
            )
        )
    return out
