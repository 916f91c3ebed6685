"""Which price sets R for each metered interval, and which intervals a negative-price rule hits.

Contracts are grouped by (basis, weighting, series, fallback, rule) and each group is resolved
with array operations. The primary series sets R where it has a price; the fallback series where
it has none (interval basis) or when the primary lacks a complete month (monthly bases). The
negative-price rule is applied to the series that set the interval's price.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mzekari.errors import InputError, ProblemCollector
from mzekari.months import NS_PER_S
from settlement.compute import exact_products_sum, expand, take
from settlement.meters import MeterData
from settlement.model import Contract
from settlement.prices import PriceSeries
from settlement.reference import (
    UNKNOWN,
    baseload,
    div_half_up,
    lookup,
    negative_flags,
    profile_weighted,
)
from settlement.schemes import USES_REFERENCE

if TYPE_CHECKING:
    pass


@dataclass
class References:
    reference: np.ndarray  # per row, hundredths/MWh
    fallback_used: np.ndarray  # per row
    negative: np.ndarray  # per row
    monthly_r: list[int | None]  # per contract: the month's R when the basis is monthly
    fallback_rows: list[int]  # per contract: intervals priced by the fallback


def needs_prices(contract: Contract) -> bool:
    return contract.scheme in USES_REFERENCE or contract.negative_price_rule != "none"


def _ts(ns: int, tz: str) -> str:
    import pandas as pd

    return pd.Timestamp(ns, unit="ns", tz="UTC").tz_convert(tz).isoformat()


def _own_weighted(values: np.ndarray, energy: np.ndarray, starts: np.ndarray) -> list[int | None]:
    num = exact_products_sum(values, energy, starts)
    den = np.add.reduceat(energy, starts)
    return [div_half_up(int(n), int(d)) if d > 0 else None for n, d in zip(num, den, strict=True)]


def _flags(
    series: PriceSeries, run_hours: int, pos: np.ndarray, values: np.ndarray, resolution_s: int
) -> np.ndarray:
    if series.is_monthly:
        return (values < 0).astype(np.int8)
    flags = negative_flags(series, resolution_s, run_hours)
    if len(pos) and pos.min() >= 0:
        return flags[pos]
    return np.where(pos >= 0, flags[np.maximum(pos, 0)], 0).astype(np.int8)


def _interval_fast(
    contracts: Sequence[Contract],
    members: list[int],
    series: PriceSeries,
    t: np.ndarray,
    local_starts: np.ndarray,
    resolution_s: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Interval basis, no fallback, every row priced: (R, negative) in a few array passes.

    Each contract's rows are consecutive intervals (checked when read), so its positions in
    the price series are a run from its first one; the negative-price flags of every rule and
    a block of zeros (contracts without a rule) sit in one table indexed the same way. Returns
    None when a row is unpriced or a run is undecided: the general path reports those.
    """
    s_starts, s_values, s_ok = series.at_resolution(resolution_s)
    n = len(t)
    if len(s_starts) == 0 or n == 0:
        return None
    counts = np.diff(np.append(local_starts, n))
    p0 = (t[local_starts] - s_starts[0]) // (resolution_s * NS_PER_S)
    if p0.min() < 0 or int((p0 + counts).max()) > len(s_starts):
        return None
    pos = np.repeat(p0 - local_starts, counts)
    pos += np.arange(n, dtype=np.int64)
    if not s_ok.all() and not s_ok[pos].all():
        return None
    reference = s_values[pos]
    rules = [contracts[j].negative_run_hours() for j in members]
    distinct = sorted({h for h in rules if h is not None})
    if not distinct:
        return reference, np.zeros(n, dtype=bool)
    size = len(s_starts)
    table = np.concatenate(
        [negative_flags(series, resolution_s, h) for h in distinct]
        + [np.zeros(size, dtype=np.int8)]
    )
    block = {h: k * size for k, h in enumerate(distinct)}
    offsets = np.array(
        [block[h] if h is not None else len(distinct) * size for h in rules], dtype=np.int64
    )
    pos += np.repeat(offsets, counts)
    flags = table[pos]
    if flags.min() < 0:
        return None
    return reference, flags.view(np.bool_)


def resolve_references(
    contracts: Sequence[Contract],
    prices: Mapping[str, PriceSeries],
    profiles: Mapping[str, Any],
    meters: MeterData,
    idx: np.ndarray | range,
    group_starts: np.ndarray,
    month: str,
    tz: str,
) -> References:
    n = len(idx)
    res = meters.resolution_s
    starts_all = take(meters.starts_utc_ns, idx)
    energy_all = take(meters.energy_kwh, idx)
    reference = np.zeros(n, dtype=np.int64)
    fallback_used = np.zeros(n, dtype=bool)
    negative = np.zeros(n, dtype=bool)
    monthly_r: list[int | None] = [None] * len(contracts)
    fallback_rows = [0] * len(contracts)
    problems = ProblemCollector("prices")
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for j, c in enumerate(contracts):
        groups[(c.reference_basis, c.weighting, c.reference_series, c.fallback_series)].append(j)
    gid = np.zeros(len(contracts), dtype=np.int64)
    keys = list(groups)
    for g, key in enumerate(keys):
        gid[groups[key]] = g
    gid_row = expand(gid, group_starts, n)
    counts = np.diff(np.append(group_starts, n))
    for g, (basis, weighting, primary_name, fallback_name) in enumerate(keys):
        members = groups[keys[g]]
        # A premium or tariff without a negative-price rule does not depend on any price.
        needs = [needs_prices(contracts[j]) for j in members]
        rows: np.ndarray | slice = np.flatnonzero(gid_row == g) if len(keys) > 1 else slice(0, n)
        local_starts = np.concatenate(([0], np.cumsum(counts[members])[:-1]))
        t = starts_all[rows]
        primary = prices.get(primary_name) or PriceSeries.from_monthly({}, primary_name)
        fallback = prices.get(fallback_name) if fallback_name else None
        if basis == "interval" and fallback is None and not primary.is_monthly:
            fast = _interval_fast(contracts, members, primary, t, local_starts, res)
            if fast is not None:
                if isinstance(rows, slice):
                    reference, negative = fast
                else:
                    reference[rows], negative[rows] = fast
                continue
        v_p, ok_p, pos_p = lookup(primary, t, res, month)
        if fallback is not None:
            v_f, ok_f, pos_f = lookup(fallback, t, res, month)
        else:
            v_f, ok_f, pos_f = v_p, np.zeros(1, dtype=bool), pos_p  # never selected
        if basis == "interval":
            use_fb = ~ok_p if fallback is not None else np.zeros(len(t), dtype=bool)
            missing = ~ok_p & ~ok_f
            if not all(needs):
                need_rows = expand(np.array(needs, dtype=bool), local_starts, len(t))
                missing &= need_rows
                use_fb &= need_rows
            for i in np.flatnonzero(missing)[:10]:
                j = members[int(np.searchsorted(local_starts, i, side="right") - 1)]
                problems.add(
                    None,
                    "price",
                    f"no price for {contracts[j].contract_id} at {_ts(int(t[i]), tz)} in "
                    f"series {primary_name!r}"
                    + (
                        f" or fallback {fallback_name!r}"
                        if fallback_name
                        else " and the contract names no fallback series"
                    ),
                )
            r = np.where(ok_p, v_p, v_f) if fallback is not None else v_p
        else:
            complete_p = np.minimum.reduceat(ok_p, local_starts)
            complete_f = np.minimum.reduceat(ok_f, local_starts) if fallback else complete_p & False
            if basis == "monthly_baseload":
                base_p, base_f = (
                    baseload(primary, month, tz),
                    baseload(fallback, month, tz) if fallback else None,
                )
                value_p = [base_p[0] if base_p else None] * len(members)
                value_f = [base_f[0] if base_f else None] * len(members)
            elif weighting == "own":
                value_p = _own_weighted(v_p, energy_all[rows], local_starts)
                value_f = (
                    _own_weighted(v_f, energy_all[rows], local_starts)
                    if fallback
                    else [None] * len(members)
                )
                bp = baseload(primary, month, tz)
                bf = baseload(fallback, month, tz) if fallback else None
                # A month without output has no weighted price: the baseload mean stands in.
                value_p = [v if v is not None or bp is None else bp[0] for v in value_p]
                value_f = [v if v is not None or bf is None else bf[0] for v in value_f]
                value_p = [v if ok else None for v, ok in zip(value_p, complete_p, strict=True)]
                value_f = [v if ok else None for v, ok in zip(value_f, complete_f, strict=True)]
            else:
                wp = profile_weighted(primary, profiles[weighting], month, tz)
                wf = (
                    profile_weighted(fallback, profiles[weighting], month, tz) if fallback else None
                )
                value_p = [wp[0] if wp else None] * len(members)
                value_f = [wf[0] if wf else None] * len(members)
            chosen, use_fb_c = [], []
            for j, vp, vf, need in zip(members, value_p, value_f, needs, strict=True):
                if vp is None and vf is None and need:
                    problems.add(
                        None,
                        "price",
                        f"no complete month {month} of prices for "
                        f"{contracts[j].contract_id} ({basis}) in series "
                        f"{primary_name!r}"
                        + (f" or fallback {fallback_name!r}" if fallback_name else ""),
                    )
                value = vp if vp is not None else (vf or 0)
                monthly_r[j] = value
                chosen.append(value)
                use_fb_c.append(vp is None and vf is not None)
            r = expand(np.array(chosen, dtype=np.int64), local_starts, len(t))
            use_fb = expand(np.array(use_fb_c, dtype=bool), local_starts, len(t))
        if isinstance(rows, slice):
            reference, fallback_used = r, use_fb
        else:
            reference[rows] = r
            fallback_used[rows] = use_fb
        rules = [contracts[j].negative_run_hours() for j in members]
        for run_hours in sorted({h for h in rules if h is not None}):
            flags = _flags(primary, run_hours, pos_p, v_p, res)
            if fallback is not None and use_fb.any():
                flags = np.where(use_fb, _flags(fallback, run_hours, pos_f, v_f, res), flags)
            applies = np.array([h == run_hours for h in rules])
            if not applies.all():
                flags = np.where(expand(applies, local_starts, len(t)), flags, 0)
            unsure = np.flatnonzero((flags == UNKNOWN) & (energy_all[rows] > 0))
            for i in unsure[:5]:
                j = members[int(np.searchsorted(local_starts, i, side="right") - 1)]
                problems.add(
                    None,
                    "price",
                    f"{contracts[j].contract_id}: negative-price rule run:{run_hours} at "
                    f"{_ts(int(t[i]), tz)}: the negative run reaches the end of the "
                    f"supplied prices; supply prices at least {run_hours} h before and "
                    "after the month (a run crossing the month boundary counts whole)",
                )
            negative[rows] |= flags == 1
        if use_fb.any():
            per_contract = np.add.reduceat(use_fb.astype(np.int64), local_starts)
            for j, count in zip(members, per_contract.tolist(), strict=True):
                fallback_rows[j] = count
    if problems:
        raise InputError(problems.problems)
    return References(reference, fallback_used, negative, monthly_r, fallback_rows)
