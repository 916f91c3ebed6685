"""The vectorised core: eligible energy and exact amounts per contract, from per-row arrays.

Units: prices and rates in int64 hundredths of a currency unit per MWh; energy in int64 kWh.
rate × energy is then in 1/100 per MWh × kWh = 1/100 × 1/1000 of a currency unit, so an amount
in currency units is (Σ rate·kWh) / 100 000 exactly. Sums are taken per contract with
np.add.reduceat on rows sorted by contract; when the int64 bound |rate|·kWh·rows could overflow,
the same sums are taken in Python integers instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from settlement.schemes import bound_rate, raw_rate_by_code

AMOUNT_SCALE = 100_000  # (hundredths per MWh) × kWh per currency unit
NO_BOUND = 1 << 60
INT64_SAFE = (1 << 63) - 1


@dataclass
class RowInputs:
    """Per-row arrays of the month's meter intervals (sorted by contract, then time)."""

    group_starts: np.ndarray  # first row of each contract present
    energy_kwh: np.ndarray
    curtailed_kwh: np.ndarray
    go_kwh: np.ndarray
    reference: np.ndarray  # R per row (hundredths/MWh)
    fallback_used: np.ndarray  # bool per row
    negative: np.ndarray  # bool per row: excluded by the contract's negative-price rule


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


def group_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return np.zeros(len(starts), dtype=np.int64)
    return np.add.reduceat(values, starts)


def exact_products_sum(rate: np.ndarray, energy: np.ndarray, starts: np.ndarray) -> list[int]:
    """Σ rate·energy per group, exactly (int64 when provably safe, Python ints otherwise)."""
    if len(rate) == 0:
        return [0] * len(starts)
    max_rate = int(np.abs(rate).max())
    max_energy = int(np.abs(energy).max())
    longest = int(np.diff(np.append(starts, len(rate))).max())
    if max_rate * max_energy * longest <= INT64_SAFE:
        return [int(v) for v in group_sum(rate * energy, starts)]
    products = rate.astype(object) * energy.astype(object)
    return [int(v) for v in np.add.reduceat(products, starts)]


def expand(per_contract: np.ndarray, starts: np.ndarray, n_rows: int) -> np.ndarray:
    counts = np.diff(np.append(starts, n_rows))
    return np.repeat(per_contract, counts)


def settle_rows(rows: RowInputs, params: ContractParams) -> dict[str, list[int]]:
    """Per contract: energies (kWh) and exact amounts (units of 1/AMOUNT_SCALE)."""
    starts, n = rows.group_starts, len(rows.energy_kwh)
    take = {name: expand(getattr(params, name), starts, n) for name in (
        "scheme_code", "price", "upper_price", "zero_floor", "cap", "floor", "interval_cap_kwh",
        "season_excluded", "curtailment_compensated")}
    q = rows.energy_kwh
    cap_kwh = take["interval_cap_kwh"]
    over_cap = np.where(cap_kwh >= 0, np.maximum(q - cap_kwh, 0), 0)
    q1 = q - over_cap
    seasonal = np.where(take["season_excluded"], q1, 0)
    q2 = q1 - seasonal
    negative = np.where(rows.negative, q2, 0)
    q3 = q2 - negative
    eligible = q3
    annual = np.zeros_like(q3)
    if (params.annual_remaining_kwh >= 0).any():
        # Chronological: the year's cap is reached part-way through the month.
        before = np.cumsum(q3) - q3
        before -= expand(before[starts], starts, n)
        remaining = expand(params.annual_remaining_kwh, starts, n)
        allowed = np.where(remaining >= 0, np.clip(remaining - before, 0, q3), q3)
        annual = q3 - allowed
        eligible = allowed
    raw = raw_rate_by_code(take["scheme_code"], take["price"], rows.reference,
                           take["zero_floor"], take["upper_price"])
    bounded = bound_rate(raw, take["cap"], take["floor"])
    cut = bounded - raw
    paid_curtailment = np.where(
        take["curtailment_compensated"] & ~take["season_excluded"] & ~rows.negative,
        rows.curtailed_kwh, 0)
    go = np.minimum(rows.go_kwh, eligible)
    fb = rows.fallback_used
    out = {
        "metered_kwh": group_sum(q, starts), "over_cap_kwh": group_sum(over_cap, starts),
        "seasonal_kwh": group_sum(seasonal, starts), "negative_kwh": group_sum(negative, starts),
        "annual_cap_kwh": group_sum(annual, starts),
        "eligible_kwh": group_sum(np.where(fb, 0, eligible), starts),
        "eligible_fb_kwh": group_sum(np.where(fb, eligible, 0), starts),
        "curtailed_kwh": group_sum(paid_curtailment, starts),
        "go_kwh": group_sum(np.where(bounded > 0, go, 0), starts),
        "support": exact_products_sum(np.where(fb, 0, raw), eligible, starts),
        "support_fb": exact_products_sum(np.where(fb, raw, 0), eligible, starts),
        "cap_cut": exact_products_sum(np.minimum(cut, 0), eligible, starts),
        "floor_lift": exact_products_sum(np.maximum(cut, 0), eligible, starts),
        "curtailment": exact_products_sum(bounded, paid_curtailment, starts),
        "double_benefit": exact_products_sum(np.maximum(bounded, 0), go, starts),
        "r_weighted": exact_products_sum(np.where(fb, 0, rows.reference), eligible, starts),
        "r_weighted_fb": exact_products_sum(np.where(fb, rows.reference, 0), eligible, starts),
    }
    return {k: [int(x) for x in v] for k, v in out.items()}
