"""One block of scenarios, start to finish: drivers, reference prices, support per group.

A `Plan` holds everything a block needs and pickles, so a Dask worker computes a block exactly
as the local loop does; `block_totals` returns per-scenario monthly totals only (no contract
detail), which is what exact percentiles need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from treasury.generation import GenerationModel
from treasury.hourly_shape import Z_GRID, ShapeTables
from treasury.kernels import aggregated_rates, dense_rates
from treasury.portfolio import ContractGroup, GroupKey
from treasury.price_model import PriceModel
from treasury.simulate import Horizon, simulate_block

TOTALS = (
    "payments_out",
    "paybacks_in",
    "net",
    "net_minus",
    "net_plus",
    "energy_mwh",
    "excluded_mwh",
    "price",
)


@dataclass
class Plan:
    groups: list[ContractGroup]
    prefixes: list[tuple[np.ndarray, np.ndarray]]
    model: PriceModel | None
    generation: GenerationModel
    horizon: Horizon
    tables: ShapeTables
    reference_level: float  # R_ref: the price level the hourly shape is scaled to
    seed: int
    sensitivity: float
    method: str
    contract_chunk: int
    given_prices: np.ndarray | None = None  # (S, M) user paths
    notes: tuple[str, ...] = ()  # what the engine approximates for this portfolio
    history_end: str | None = None  # last month of the price history, "YYYY-MM"
    history_age_months: int | None = None  # from the history's end to the as-of month
    warnings: tuple[str, ...] = ()  # said on every output (stale data)


def _per_month(table: np.ndarray, moy: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Interpolate table[moy-1] at z, column by column (z beyond the grid clamps)."""
    out = np.empty_like(z)
    for m in range(z.shape[1]):
        out[:, m] = np.interp(z[:, m], Z_GRID, table[moy[m] - 1])
    return out


def reference_and_share(
    plan: Plan, key: GroupKey, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The group's reference price R (S, M) and the share of its energy that stays eligible."""
    tables, moy, level = plan.tables, plan.horizon.moy, plan.reference_level
    t = tables.technologies.index(key.technology)
    r = tables.rule_index(key.rule)
    z = price / level
    share = _per_month(tables.eligible_share[r, t], moy, z)
    if key.basis == "monthly_baseload":
        reference = price
    elif key.basis in ("monthly_weighted", "annual_weighted"):
        reference = price + level * tables.capture_offset[t, moy - 1][None, :]
    else:
        # Interval basis: Σ (K − p_h) g_h over eligible hours = (K − generation-weighted
        # eligible price) × eligible energy; beyond the grid the hours shift with z.
        table = tables.eligible_price_floored if key.zero_floor else tables.eligible_price
        clamped = np.clip(z, Z_GRID[0], Z_GRID[-1])
        reference = level * (_per_month(table[r, t], moy, z) + (z - clamped))
    if key.zero_floor:
        reference = np.maximum(reference, 0.0)
    return reference, share


def build_probability(groups: list[ContractGroup]) -> np.ndarray:
    """Build probability of each pipeline plant, in pipeline index order."""
    pipeline = sorted((g.key.pipeline, g.build_probability) for g in groups if g.key.pipeline >= 0)
    return np.array([probability for _, probability in pipeline])


def block_totals(plan: Plan, first: int, last: int) -> dict[str, np.ndarray]:
    """Per-scenario monthly totals (S_block, M) for scenarios first..last-1."""
    given = None if plan.given_prices is None else plan.given_prices[first:last]
    drivers = simulate_block(
        plan.model,
        plan.generation,
        plan.horizon,
        plan.seed,
        first,
        last,
        given,
        build_probability(plan.groups),
    )
    price = drivers.price
    shape = price.shape
    totals = {name: np.zeros(shape) for name in TOTALS}
    totals["price"] = price
    factors = (1.0 - plan.sensitivity, 1.0 + plan.sensitivity)
    for group, prefix in zip(plan.groups, plan.prefixes, strict=True):
        t = plan.generation.technologies.index(group.key.technology)
        energy_per_mw = drivers.capacity_factor[t] * plan.horizon.hours[None, :]
        reference, share = reference_and_share(plan, group.key, price)
        eligible_per_mw = energy_per_mw * share
        if group.key.pipeline >= 0:  # a pipeline plant delivers only where it is built
            built = drivers.built[:, group.key.pipeline][:, None]
            energy_per_mw = energy_per_mw * built
            eligible_per_mw = eligible_per_mw * built
        capacity = prefix[0][:, -1][None, :]
        totals["energy_mwh"] += eligible_per_mw * capacity
        totals["excluded_mwh"] += (energy_per_mw - eligible_per_mw) * capacity
        for name, factor in (("net", 1.0), ("net_minus", factors[0]), ("net_plus", factors[1])):
            # Prices ±x %: every hour scales, so the eligible hours stay the same.
            if plan.method == "dense":
                out, back = dense_rates(group, reference * factor, plan.contract_chunk)
            else:
                out, back = aggregated_rates(group, prefix, reference * factor)
            totals[name] += (out - back) * eligible_per_mw
            if name == "net":
                totals["payments_out"] += out * eligible_per_mw
                totals["paybacks_in"] += back * eligible_per_mw
    return totals


# Kept per scenario (exact percentiles need every scenario); the rest only as sums.
PER_SCENARIO = ("net", "price")


def block_summary(plan: Plan, first: int, last: int) -> dict[str, np.ndarray]:
    """What the reduction needs from a block: per-scenario net and price, sums of the rest."""
    totals = block_totals(plan, first, last)
    summary = {name: totals[name] for name in PER_SCENARIO}
    for name in TOTALS:
        if name not in PER_SCENARIO:
            summary["sum_" + name] = totals[name].sum(axis=0)
    return summary
