"""Per-contract parameters for the vectorised core, and the statement lines built from its sums.

Each line is rounded once, to the contract currency's minor unit with the contract's mode.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal

import numpy as np

from mzekari.money import MINOR_UNITS, round_money
from mzekari.months import parse_month
from settlement.compute import AMOUNT_SCALE, NO_BOUND, ContractParams
from settlement.ledger import new_line
from settlement.model import Contract, Line
from settlement.prices import to_hundredths
from settlement.reference import div_half_up
from settlement.resolve import References, needs_prices
from settlement.schemes import SCHEME_CODES, USES_REFERENCE, unit_rate
from settlement.strike import MonthPrice

CENT = Decimal("0.01")
CENT_CURRENCIES = {cur for cur, places in MINOR_UNITS.items() if places == 2}
FORMULA = {
    "cfd": "(K − R) · q, two-way",
    "variable_premium": "max(0, K − R) · q",
    "fixed_premium": "P · q",
    "feed_in": "T · q",
    "green_certificate": "max(0, G − R) · certificates (1 per MWh), R the certificate market price",
}


def contract_params(
    contracts: Sequence[Contract],
    month_prices: Mapping[str, MonthPrice],
    month: str,
    resolution_s: int,
    prior_kwh: Mapping[str, int],
    go_from_ledger: frozenset[str] = frozenset(),
) -> ContractParams:
    _, mon = parse_month(month)

    def arr(values: Sequence[object], dtype: type) -> np.ndarray:
        return np.array(values, dtype=dtype)

    k = [to_hundredths(month_prices[c.contract_id].price) for c in contracts]
    return ContractParams(
        scheme_code=arr([SCHEME_CODES[c.scheme] for c in contracts], np.int64),
        price=arr(k, np.int64),
        upper_price=arr(
            [
                to_hundredths(c.upper_price) if c.upper_price is not None else kk
                for c, kk in zip(contracts, k, strict=True)
            ],
            np.int64,
        ),
        zero_floor=arr([c.zero_floor for c in contracts], bool),
        cap=arr(
            [to_hundredths(c.cap) if c.cap is not None else NO_BOUND for c in contracts], np.int64
        ),
        floor=arr(
            [to_hundredths(c.floor) if c.floor is not None else -NO_BOUND for c in contracts],
            np.int64,
        ),
        # capacity × interval, whole kWh (rounded down: a meter cannot report a fraction).
        interval_cap_kwh=arr(
            [
                int(c.capacity_mw * 1000 * resolution_s // 3600) if c.interval_cap else -1
                for c in contracts
            ],
            np.int64,
        ),
        season_excluded=arr([mon in c.excluded_months for c in contracts], bool),
        annual_remaining_kwh=arr(
            [
                max(0, int(c.annual_cap_mwh * 1000) - prior_kwh.get(c.contract_id, 0))
                if c.annual_cap_mwh is not None
                else -1
                for c in contracts
            ],
            np.int64,
        ),
        curtailment_compensated=arr([c.curtailment_compensated for c in contracts], bool),
        go_from_ledger=arr([c.contract_id in go_from_ledger for c in contracts], bool)
        if go_from_ledger
        else None,
    )


def _effect_text(kind: str, c: Contract) -> str:
    """Built only for lines that exist: most contracts have none of these effects."""
    if kind == "status_exclusion":
        return (
            "energy outside the contract's support windows is not paid (not yet "
            "commissioned, suspended, revoked, terminated or expired)"
        )
    if kind == "negative_price_exclusion":
        return f"rule {c.negative_price_rule}: energy in intervals with negative prices is not paid"
    if kind == "seasonal_exclusion":
        return f"months {','.join(map(str, c.excluded_months))} carry no support"
    if kind == "volume_cap":
        # Normalised: the same capacity reads the same whether stored as 5 or 5.000.
        capacity = format(c.capacity_mw.normalize(), "f")
        return f"energy above capacity {capacity} MW × interval length is not paid"
    if kind == "annual_cap":
        return f"annual eligible volume {c.annual_cap_mwh} MWh reached"
    if kind == "rate_cap":
        return f"rate capped at {c.cap} {c.currency}/MWh"
    return f"rate floored at {c.floor} {c.currency}/MWh"


@functools.lru_cache(maxsize=1024)
def _terms_note(
    scheme: str, basis: str, weighting: str, zero_floor: bool, upper_price: Decimal | None
) -> str:
    """The contract's formula and reference basis, shared by many contracts (cached)."""
    note = f"{scheme}: {FORMULA[scheme]}"
    if scheme in USES_REFERENCE:
        note += (
            f"; R basis {basis}"
            + (f" weighted by {weighting}" if "weighted" in basis else "")
            + (", R floored at 0" if zero_floor else "")
            + (f", upper price {upper_price}" if upper_price is not None else "")
        )
    if basis == "annual_weighted":
        note += "; provisional monthly value; trued up on the year's annual value"
    return note


def _divided(numerators: list[int], denominators: list[int] | int) -> list[int | None]:
    """numerator / denominator rounded half away from zero, vectorised; None where den is 0."""
    den = (
        np.asarray(denominators, dtype=np.int64)
        if not isinstance(denominators, int)
        else np.full(len(numerators), denominators, dtype=np.int64)
    )
    if numerators and max(numerators) < (1 << 61) and min(numerators) > -(1 << 61):
        num = np.asarray(numerators, dtype=np.int64)
        safe = np.maximum(den, 1)
        q = (2 * np.abs(num) + safe) // (2 * safe)
        out = np.where(num < 0, -q, q).tolist()
    else:
        out = [
            div_half_up(n, max(int(d), 1)) for n, d in zip(numerators, den.tolist(), strict=True)
        ]
    return [v if d > 0 else None for v, d in zip(out, den.tolist(), strict=True)]


def _decimal(hundredths: int | None) -> Decimal | None:
    return None if hundredths is None else Decimal(hundredths).scaleb(-2)


def _money(units: int, currency: str, mode: str) -> Decimal:
    """One rounding of an exact amount in 10⁻⁵ currency units."""
    if mode == "half_up" and currency in CENT_CURRENCIES:  # integer path, same result
        return Decimal(div_half_up(units, AMOUNT_SCALE // 100)).scaleb(-2)
    return round_money(Decimal(units).scaleb(-5), currency, mode)


EFFECTS = (
    ("status_exclusion", "status_kwh"),
    ("negative_price_exclusion", "negative_kwh"),
    ("seasonal_exclusion", "seasonal_kwh"),
    ("volume_cap", "over_cap_kwh"),
    ("annual_cap", "annual_cap_kwh"),
)
INTERVAL_NOTE = (
    "; R shown is the eligible-energy-weighted mean of interval prices; rate shown "
    "is amount per MWh"
)


def build_lines(
    contracts: Sequence[Contract],
    month: str,
    month_prices: Mapping[str, MonthPrice],
    refs: References,
    sums: Mapping[str, list[int]],
) -> list[Line]:
    """The statement lines of a batch of contracts (hot path: written for speed)."""
    lines: list[Line] = []
    add = lines.append
    # Whole-batch integer work first: cents of support (half-up), interval-basis means.
    per_cent = AMOUNT_SCALE // 100
    support = {"": sums["support"], "_fb": sums["support_fb"]}
    eligible_of = {"": sums["eligible_kwh"], "_fb": sums["eligible_fb_kwh"]}
    cents = {sfx: _divided(support[sfx], per_cent) for sfx in ("", "_fb")}
    mean_r = {sfx: _divided(sums["r_weighted" + sfx], eligible_of[sfx]) for sfx in ("", "_fb")}
    mean_rate = {sfx: _divided(support[sfx], eligible_of[sfx]) for sfx in ("", "_fb")}
    effects = [(kind, sums[key]) for kind, key in EFFECTS]
    bounds = [("rate_cap", sums["cap_cut"]), ("rate_floor", sums["floor_lift"])]
    curtailed, curtailment = sums["curtailed_kwh"], sums["curtailment"]
    go_kwh, double_benefit = sums["go_kwh"], sums["double_benefit"]
    for j, c in enumerate(contracts):
        mode, cur, cid, producer = c.rounding, c.currency, c.contract_id, c.producer
        fast_money = mode == "half_up" and cur in CENT_CURRENCIES
        mp = month_prices[cid]
        uses_r = c.scheme in USES_REFERENCE
        terms = _terms_note(c.scheme, c.reference_basis, c.weighting, c.zero_floor, c.upper_price)
        notes = (
            terms
            + ("; K = " if uses_r else "; price = ")
            + str(mp.price.quantize(CENT))  # 70 and 70.00 read the same
            + " "
            + cur
            + "/MWh"
            + ("; " + mp.note if mp.note else "")
        )
        monthly_r = refs.monthly_r[j]
        fallback_rows = refs.fallback_rows[j]
        if fallback_rows or (c.fallback_series and eligible_of["_fb"][j]):
            parts = (
                [(c.fallback_series, "_fb", True)]
                if monthly_r is not None
                else [(c.reference_series, "", False), (c.fallback_series, "_fb", True)]
            )
        else:
            parts = [(c.reference_series, "", False)]
        shown_series = needs_prices(c)
        for series, sfx, is_fb in parts:
            cents_j = cents[sfx][j]
            amount = (
                Decimal(cents_j).scaleb(-2)
                if fast_money and cents_j is not None
                else _money(support[sfx][j], cur, mode)
            )
            r: Decimal | None
            rate: Decimal | None
            explanation = notes
            if not uses_r:
                r, rate = None, mp.price
            elif monthly_r is not None:
                r = _decimal(monthly_r)
                rate = _decimal(
                    int(
                        unit_rate(
                            c.scheme,
                            to_hundredths(mp.price),
                            monthly_r,
                            zero_floor=c.zero_floor,
                            upper_price=to_hundredths(c.upper_price)
                            if c.upper_price is not None
                            else None,
                        )
                    )
                )
            else:
                r, rate = _decimal(mean_r[sfx][j]), _decimal(mean_rate[sfx][j])
                explanation += INTERVAL_NOTE
            if is_fb:
                explanation += (
                    f"; FALLBACK: primary series {c.reference_series!r} lacked "
                    f"prices ({fallback_rows} interval(s)); R from {series!r}"
                )
            add(
                new_line(
                    cid,
                    producer,
                    month,
                    "support",
                    r,
                    series if shown_series else None,
                    eligible_of[sfx][j],
                    0,
                    rate,
                    amount,
                    cur,
                    None,
                    explanation,
                    None,
                )
            )
        series = (
            c.fallback_series if monthly_r is not None and fallback_rows else c.reference_series
        )
        for kind, values in effects:
            if values[j]:
                add(
                    new_line(
                        cid,
                        producer,
                        month,
                        kind,
                        None,
                        series,
                        0,
                        values[j],
                        None,
                        _money(0, cur, mode),
                        cur,
                        None,
                        _effect_text(kind, c),
                        None,
                    )
                )
        for kind, values in bounds:
            if values[j]:
                add(
                    new_line(
                        cid,
                        producer,
                        month,
                        kind,
                        None,
                        series,
                        eligible_of[""][j] + eligible_of["_fb"][j],
                        0,
                        None,
                        _money(values[j], cur, mode),
                        cur,
                        None,
                        _effect_text(kind, c),
                        None,
                    )
                )
        if curtailed[j]:
            add(
                new_line(
                    cid,
                    producer,
                    month,
                    "curtailment",
                    None,
                    series,
                    curtailed[j],
                    0,
                    None,
                    _money(curtailment[j], cur, mode),
                    cur,
                    None,
                    "curtailed energy paid as if produced (contract rule), at each interval's "
                    "rate when positive; never charged where R > K",
                    None,
                )
            )
        if go_kwh[j] and c.double_benefit_share:
            units = -c.double_benefit_share * Decimal(double_benefit[j])
            add(
                new_line(
                    cid,
                    producer,
                    month,
                    "double_benefit",
                    None,
                    series,
                    go_kwh[j],
                    0,
                    None,
                    round_money(units.scaleb(-5), cur, mode),
                    cur,
                    None,
                    f"support reduced by {c.double_benefit_share} for energy that also "
                    "earned guarantees of origin (law Art. 15(6))",
                    None,
                )
            )
    return lines


assert AMOUNT_SCALE == 100_000  # _money() scales by 10**-5
