"""The vectorised core: eligible energy and exact amounts per contract, from per-row arrays.

Units: prices and rates in int64 hundredths of a currency unit per MWh; energy in int64 kWh.
rate × energy is then in 1/100 per MWh × kWh = 1/100 × 1/1000 of a currency unit, so an amount
in currency units is (Σ rate·kWh) / 100 000 exactly. Sums are taken per contract with
np.add.reduceat on rows sorted by contract; when the int64 bound |rate|·kWh·rows could overflow,
the same sums are taken in Python integers instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from settlement.schemes import bound_rate

AMOUNT_SCALE = 100_000  # (hundredths per MWh) × kWh per currency unit
NO_BOUND = 1 << 60
INT64_SAFE = (1 << 63) - 1


@dataclass
class RowInputs:
    """Per-row arrays of the month's meter intervals (sorted by contract, then time)."""

    group_starts: np.ndarray  # first row of each contract present
    energy_kwh: np.ndarray
    curtailed_kwh: np.ndarray | None  # None: the meter data has no such column
    go_kwh: np.ndarray | None
    reference: np.ndarray  # R per row (hundredths/MWh)
    fallback_used: np.ndarray  # bool per row
    negative: np.ndarray  # bool per row: excluded by the contract's negative-price rule
    # bool per row: outside the contract's support windows (status); None: all inside
    outside_support: np.ndarray | None = None


@dataclass
class ContractParams:
    """Per-contract parameters, one entry per contract present (order of group_starts)."""

    scheme_code: np.ndarray
    price: np.ndarray  # K, P or T in hundredths/MWh of the payment currency
    upper_price: np.ndarray
    zero_floor: np.ndarray
    cap: np.ndarray
    floor: np.ndarray
    interval_cap_kwh: np.ndarray  # -1: no interval cap
    season_excluded: np.ndarray  # bool
    annual_remaining_kwh: np.ndarray  # -1: no annual cap
    curtailment_compensated: np.ndarray  # bool
    # bool: the contract's double benefit comes from the GO ledger (None: no contract's does)
    go_from_ledger: np.ndarray | None = None

    def subset(self, a: int, b: int) -> ContractParams:
        parts: dict[str, Any] = {k: None if v is None else v[a:b] for k, v in vars(self).items()}
        return ContractParams(**parts)


def take(values: np.ndarray, index: np.ndarray | range | slice) -> np.ndarray:
    """values[index], as a view when the index is a contiguous run (the usual case)."""
    if isinstance(index, slice):
        return values[index]
    if isinstance(index, range):
        return values[index.start : index.stop : index.step]
    if len(index) and int(index[-1]) - int(index[0]) + 1 == len(index):
        return values[int(index[0]) : int(index[-1]) + 1]
    return values[index]


def group_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return np.zeros(len(starts), dtype=np.int64)
    return np.add.reduceat(values, starts)


def exact_products_sum(
    rate: np.ndarray, energy: np.ndarray, starts: np.ndarray, bound: int | None = None
) -> list[int]:
    """Σ rate·energy per group, exactly (int64 when provably safe, Python ints otherwise).

    `bound`, when given, is a known upper bound of |rate|·|energy|·(rows of a group).
    """
    if len(rate) == 0:
        return [0] * len(starts)
    if bound is None:
        max_rate = max(int(rate.max()), -int(rate.min()))
        max_energy = max(int(energy.max()), -int(energy.min()))
        longest = int(np.diff(np.append(starts, len(rate))).max())
        bound = max_rate * max_energy * longest
    if bound <= INT64_SAFE:
        return group_sum(rate * energy, starts).tolist()
    products = rate.astype(object) * energy.astype(object)
    return [int(v) for v in np.add.reduceat(products, starts)]


def expand(per_contract: np.ndarray, starts: np.ndarray, n_rows: int) -> np.ndarray:
    return np.repeat(per_contract, np.diff(np.append(starts, n_rows)))


def row_rates(params: ContractParams, counts: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """raw_rate_by_code per row, skipping the branches no contract here uses."""
    code = params.scheme_code
    k = np.repeat(params.price, counts)
    r = reference
    if params.zero_floor.any():
        r = np.where(np.repeat(params.zero_floor, counts), np.maximum(r, 0), r)
    rate = k - r
    if (code == 1).any():
        premium = np.repeat(code == 1, counts)
        np.maximum(rate, 0, out=rate, where=premium)
    collar = (code == 0) & (params.upper_price != params.price)
    if collar.any():
        rows = np.repeat(collar, counts)
        upper = np.repeat(params.upper_price, counts)
        collared = np.maximum(k - r, 0) - np.maximum(r - upper, 0)
        rate = np.where(rows, collared, rate)
    if (code >= 2).any():
        flat = np.repeat(code >= 2, counts)
        rate = np.where(flat, k, rate)
    return rate


def settle_rows(rows: RowInputs, params: ContractParams) -> dict[str, list[int]]:
    """Per contract: energies (kWh) and exact amounts (units of 1/AMOUNT_SCALE).

    Rules apply in order: support windows (status), interval volume cap, seasonal exclusion,
    negative prices, annual cap.
    """
    starts, n = rows.group_starts, len(rows.energy_kwh)
    counts = np.diff(np.append(starts, n))
    zero = [0] * len(starts)
    out: dict[str, list[int]] = {}
    q = rows.energy_kwh
    eligible = q
    out["status_kwh"] = zero
    outside = rows.outside_support
    if outside is not None and outside.any():
        unsupported = np.where(outside, eligible, 0)
        out["status_kwh"] = group_sum(unsupported, starts).tolist()
        eligible = eligible - unsupported
    out["over_cap_kwh"] = zero
    if (params.interval_cap_kwh >= 0).any():
        cap_kwh = np.repeat(params.interval_cap_kwh, counts)
        over = np.where(cap_kwh >= 0, np.maximum(eligible - cap_kwh, 0), 0)
        out["over_cap_kwh"] = group_sum(over, starts).tolist()
        eligible = eligible - over
    season: np.ndarray | bool = False
    out["seasonal_kwh"] = zero
    if params.season_excluded.any():
        season = np.repeat(params.season_excluded, counts)
        seasonal = np.where(season, eligible, 0)
        out["seasonal_kwh"] = group_sum(seasonal, starts).tolist()
        eligible = eligible - seasonal
    out["negative_kwh"] = zero
    if rows.negative.any():
        negative = np.where(rows.negative, eligible, 0)
        out["negative_kwh"] = group_sum(negative, starts).tolist()
        eligible = eligible - negative
    out["annual_cap_kwh"] = zero
    if (params.annual_remaining_kwh >= 0).any():
        # Chronological: the year's cap is reached part-way through the month.
        before = np.cumsum(eligible) - eligible
        before -= np.repeat(before[starts], counts)
        remaining = np.repeat(params.annual_remaining_kwh, counts)
        allowed = np.where(remaining >= 0, np.clip(remaining - before, 0, eligible), eligible)
        out["annual_cap_kwh"] = group_sum(eligible - allowed, starts).tolist()
        eligible = allowed
    raw = row_rates(params, counts, rows.reference)
    # One bound for every Σ rate·kWh below: energies never exceed the metered kWh.
    longest = int(counts.max()) if len(counts) else 0
    max_q = (
        max(int(q.max()), int(rows.curtailed_kwh.max()) if rows.curtailed_kwh is not None else 0)
        if n
        else 0
    )
    max_ref = max(int(rows.reference.max()), -int(rows.reference.min())) if n else 0
    # |rate| ≤ |K| + |U| + |R| for every scheme, and a cap or floor only moves it to |C| or |F|.
    max_r = (
        int(np.abs(params.price).max(initial=0))
        + int(np.abs(params.upper_price).max(initial=0))
        + max_ref
    )
    for bound_values in (
        params.cap[params.cap != NO_BOUND],
        params.floor[params.floor != -NO_BOUND],
    ):
        max_r = max(max_r, int(np.abs(bound_values).max(initial=0)))
    rate_bound, ref_bound = max_r * max_q * longest, max_ref * max_q * longest
    fb = rows.fallback_used
    if fb.any():
        primary_eligible = np.where(fb, 0, eligible)
        fb_eligible = eligible - primary_eligible
        out["eligible_kwh"] = group_sum(primary_eligible, starts).tolist()
        out["eligible_fb_kwh"] = group_sum(fb_eligible, starts).tolist()
        out["support"] = exact_products_sum(raw, primary_eligible, starts, rate_bound)
        out["support_fb"] = exact_products_sum(raw, fb_eligible, starts, rate_bound)
        out["r_weighted"] = exact_products_sum(rows.reference, primary_eligible, starts, ref_bound)
        out["r_weighted_fb"] = exact_products_sum(rows.reference, fb_eligible, starts, ref_bound)
    else:
        out["eligible_kwh"] = group_sum(eligible, starts).tolist()
        out["support"] = exact_products_sum(raw, eligible, starts, rate_bound)
        out["r_weighted"] = exact_products_sum(rows.reference, eligible, starts, ref_bound)
        out["eligible_fb_kwh"] = out["support_fb"] = out["r_weighted_fb"] = zero
    bounded = raw
    out["cap_cut"] = out["floor_lift"] = zero
    if (params.cap != NO_BOUND).any() or (params.floor != -NO_BOUND).any():
        bounded = bound_rate(raw, np.repeat(params.cap, counts), np.repeat(params.floor, counts))
        cut = bounded - raw
        out["cap_cut"] = exact_products_sum(np.minimum(cut, 0), eligible, starts)
        out["floor_lift"] = exact_products_sum(np.maximum(cut, 0), eligible, starts)
    out["curtailed_kwh"] = out["curtailment"] = zero
    if (
        rows.curtailed_kwh is not None
        and params.curtailment_compensated.any()
        and rows.curtailed_kwh.any()
    ):
        paid_mask = np.repeat(params.curtailment_compensated, counts) & ~rows.negative
        if outside is not None:
            paid_mask &= ~outside
        if isinstance(season, np.ndarray):
            paid_mask &= ~season
        paid = np.where(paid_mask, rows.curtailed_kwh, 0)
        out["curtailed_kwh"] = group_sum(paid, starts).tolist()
        # Curtailed energy earns the scheme's positive rate only: when R > K a two-way CfD
        # would otherwise charge the producer for energy it never produced or sold.
        out["curtailment"] = exact_products_sum(np.maximum(bounded, 0), paid, starts)
    out["positive_support"] = zero
    if params.go_from_ledger is not None and params.go_from_ledger.any():
        # The ledger counts GOs per month, not per interval: their reduction is priced at the
        # month's mean positive rate over the eligible energy (settlement/double_benefit.py).
        paid = np.where(np.repeat(params.go_from_ledger, counts), np.maximum(bounded, 0), 0)
        out["positive_support"] = exact_products_sum(paid, eligible, starts)
    out["go_kwh"] = out["double_benefit"] = zero
    if rows.go_kwh is not None and rows.go_kwh.any():
        go = np.where(bounded > 0, np.minimum(rows.go_kwh, eligible), 0)
        out["go_kwh"] = group_sum(go, starts).tolist()
        out["double_benefit"] = exact_products_sum(np.maximum(bounded, 0), go, starts)
    return out
