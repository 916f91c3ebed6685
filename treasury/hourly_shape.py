"""Within-month hourly shape: negative hours and capture prices as functions of the month's level.

The monthly engine knows only each month's mean price R. An hourly history gives, per month
of year, the hours' deviations from their month's mean, d_h (in units of the history's mean
price). A scenario month's hours are then p_h = R + d_h * R_ref, so a low month has more
negative hours, as in the data. Tables over a grid of z = R / R_ref hold, per technology and
negative-price rule, the generation share still eligible and the generation-weighted price of
the eligible hours; the engine interpolates them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from treasury.generation import hourly_profile

Z_GRID = np.linspace(-1.5, 4.0, 221)


@dataclass(frozen=True)
class ShapeTables:
    technologies: tuple[str, ...]
    rules: tuple[int, ...]  # -1 = no negative-price rule, 0 = any negative hour, N = runs >= N h
    eligible_share: np.ndarray  # (rule, tech, moy, grid)
    eligible_price: np.ndarray  # (rule, tech, moy, grid): sum g*p*elig / sum g*elig, in R_ref
    eligible_price_floored: np.ndarray  # same with each hour's price floored at zero
    capture_offset: np.ndarray  # (tech, moy): sum g*d / sum g, in R_ref
    negative_hour_share: np.ndarray  # (moy,) share of history hours below zero (for reporting)

    def rule_index(self, rule: int | None) -> int:
        return self.rules.index(-1 if rule is None else rule)


def run_mask(negative: np.ndarray, min_hours: int) -> np.ndarray:
    """Hours inside runs of at least `min_hours` consecutive negative hours (rows independent)."""
    negative = np.atleast_2d(negative)
    if min_hours <= 1:
        return negative.copy()
    rows, n = negative.shape
    padded = np.zeros((rows, n + 2), dtype=np.int8)
    padded[:, 1:-1] = negative
    edges = np.diff(padded, axis=1)
    mask = np.zeros_like(negative)
    for r in range(rows):
        starts = np.flatnonzero(edges[r] == 1)
        ends = np.flatnonzero(edges[r] == -1)
        for s, e in zip(starts, ends, strict=True):
            if e - s >= min_hours:
                mask[r, s:e] = True
    return mask


def build_tables(
    hourly: pd.Series | None, technologies: tuple[str, ...], rules: tuple[int, ...]
) -> ShapeTables:
    rules = tuple(sorted(set(rules) | {-1}))
    n_rules, n_tech, grid = len(rules), len(technologies), len(Z_GRID)
    if hourly is None:
        flat = np.broadcast_to(Z_GRID, (n_rules, n_tech, 12, grid)).copy()
        return ShapeTables(
            technologies,
            rules,
            np.ones((n_rules, n_tech, 12, grid)),
            flat,
            np.maximum(flat, 0.0),
            np.zeros((n_tech, 12)),
            np.zeros(12),
        )
    stamps = pd.DatetimeIndex(hourly.index)
    prices = hourly.to_numpy(dtype=float)
    month_key = stamps.to_period("M")
    month_mean = hourly.groupby(month_key).transform("mean").to_numpy()
    deviation = (prices - month_mean) / prices.mean()
    moy = stamps.month.to_numpy()
    hour_price = Z_GRID[:, None] + deviation[None, :]  # (grid, hours), in R_ref
    negative = hour_price < 0  # zero is not negative
    share = np.empty((n_rules, n_tech, 12, grid))
    price = np.empty_like(share)
    floored = np.empty_like(share)
    capture = np.zeros((n_tech, 12))
    for r, rule in enumerate(rules):
        excluded = np.zeros_like(negative) if rule < 0 else run_mask(negative, max(rule, 1))
        eligible = ~excluded
        for t, tech in enumerate(technologies):
            weight = hourly_profile(tech, stamps)
            for m in range(1, 13):
                sel = moy == m if np.any(moy == m) else np.ones_like(moy, dtype=bool)
                g = weight[sel]
                g_elig = g[None, :] * eligible[:, sel]
                total = g.sum()
                kept = g_elig.sum(axis=1)
                share[r, t, m - 1] = kept / total
                safe = np.where(kept > 0, kept, 1.0)
                price[r, t, m - 1] = np.where(
                    kept > 0, (g_elig * hour_price[:, sel]).sum(axis=1) / safe, Z_GRID
                )
                floored[r, t, m - 1] = np.where(
                    kept > 0,
                    (g_elig * np.maximum(hour_price[:, sel], 0)).sum(axis=1) / safe,
                    np.maximum(Z_GRID, 0),
                )
                if r == 0:
                    capture[t, m - 1] = float(g @ deviation[sel]) / total
    neg_share = np.array(
        [np.mean(prices[moy == m] < 0) if np.any(moy == m) else 0.0 for m in range(1, 13)]
    )
    return ShapeTables(technologies, rules, share, price, floored, capture, neg_share)
