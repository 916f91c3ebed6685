"""Support paid per scenario and month for a contract group, two ways.

For one scenario-month every contract of a group is paid rate = clip(K - A, LO, HI) per
eligible MWh, where A, LO, HI depend on the scheme and the month's reference price only:
  cfd                  A = R, [floor, cap]            (two-way: K - R)
  cfd with upper U     A = R + c, [max(-c, floor), cap], c = max(R - U, 0)
  variable_premium     A = R, [max(0, floor), cap]
  fixed_premium/feed_in A = 0, [floor, cap]
`aggregated` sums that over contracts with strikes sorted once and prefix sums of capacity and
strike x capacity per month: a binary search per scenario-month instead of a pass over all
contracts (the same numbers, O(S·M·log C) instead of O(S·M·C)). `dense` evaluates every
contract and is the independent check of the aggregated form.
"""

from __future__ import annotations

import numpy as np

from treasury.portfolio import ContractGroup, GroupKey


def rate_terms(key: GroupKey, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A, LO, HI (each broadcastable to reference's shape) for the group's scheme."""
    lo = np.full_like(reference, key.rate_floor)
    hi = np.full_like(reference, key.rate_cap)
    if key.scheme == "cfd":
        if np.isnan(key.upper_price):
            return reference, lo, hi
        excess = np.maximum(reference - key.upper_price, 0.0)
        return reference + excess, np.maximum(-excess, lo), hi
    if key.scheme == "variable_premium":
        return reference, np.maximum(lo, 0.0), hi
    return np.zeros_like(reference), lo, hi


def _sum_max(
    strike: np.ndarray, p0: np.ndarray, p1: np.ndarray, shift: np.ndarray, a: np.ndarray
) -> np.ndarray:
    """Σ_i w_im · max(K_i − shift, a), per scenario-month (a may be −inf)."""
    months = np.arange(p0.shape[0])[None, :]
    total_w, total_kw = p0[:, -1][None, :], p1[:, -1][None, :]
    j = np.searchsorted(strike, shift + a, side="right")
    below_w, below_kw = p0[months, j], p1[months, j]
    with np.errstate(invalid="ignore"):
        floor_part = np.where(below_w == 0, 0.0, a * below_w)
    return floor_part + (total_kw - below_kw) - shift * (total_w - below_w)


def _sum_excess(
    strike: np.ndarray, p0: np.ndarray, p1: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """Σ_i w_im · max(K_i − threshold, 0) (threshold may be +inf)."""
    months = np.arange(p0.shape[0])[None, :]
    j = np.searchsorted(strike, threshold, side="right")
    above_w = p0[:, -1][None, :] - p0[months, j]
    above_kw = p1[:, -1][None, :] - p1[months, j]
    with np.errstate(invalid="ignore"):
        return np.where(above_w == 0, 0.0, above_kw - threshold * above_w)


def clip_sum(
    group: ContractGroup,
    prefix: tuple[np.ndarray, np.ndarray],
    shift: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """Σ_i w_im · clip(K_i − shift, lo, hi): clip(x, a, b) = max(x, a) − max(x − b, 0)."""
    p0, p1 = prefix
    return _sum_max(group.strike, p0, p1, shift, lo) - _sum_excess(group.strike, p0, p1, shift + hi)


def aggregated_rates(
    group: ContractGroup, prefix: tuple[np.ndarray, np.ndarray], reference: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Σ w·max(rate, 0) and Σ w·max(−rate, 0) over the group: paid out, paid back (per MWh/MW)."""
    shift, lo, hi = rate_terms(group.key, reference)
    out = clip_sum(group, prefix, shift, np.maximum(lo, 0.0), np.maximum(hi, 0.0))
    back = -clip_sum(group, prefix, shift, np.minimum(lo, 0.0), np.minimum(hi, 0.0))
    return out, back


def dense_rates(
    group: ContractGroup, reference: np.ndarray, block: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """The same sums contract by contract (blocks of `block` contracts bound the memory)."""
    shift, lo, hi = rate_terms(group.key, reference)
    out = np.zeros_like(reference)
    back = np.zeros_like(reference)
    for first in range(0, len(group.strike), block):
        strike = group.strike[first : first + block][None, :, None]
        weight = group.weight_mw[:, first : first + block].T[None, :, :]
        rate = np.clip(strike - shift[:, None, :], lo[:, None, :], hi[:, None, :])
        out += (np.maximum(rate, 0.0) * weight).sum(axis=1)
        back += (np.maximum(-rate, 0.0) * weight).sum(axis=1)
    return out, back
