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


class _Positions:
    """searchsorted of thresholds into the sorted strikes, reusing an equal earlier search
    (out and back share the threshold R in the common unbounded case)."""

    def __init__(self, strike: np.ndarray):
        self.strike = strike
        self.seen: list[tuple[np.ndarray, np.ndarray]] = []

    def __call__(self, threshold: np.ndarray) -> np.ndarray:
        for earlier, positions in self.seen:
            if np.array_equal(earlier, threshold):
                return positions
        positions = np.searchsorted(self.strike, threshold, side="right")
        self.seen.append((threshold, positions))
        return positions


def clip_sum(
    prefix: tuple[np.ndarray, np.ndarray],
    positions: _Positions,
    shift: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """Σ_i w_im · clip(K_i − shift, lo, hi) = Σ w·max(K − shift, lo) − Σ w·max(K − shift − hi, 0).

    With j = #strikes ≤ shift + lo: Σ w·max(K − shift, lo) = lo·W_≤j + Σ_{i≥j} w(K_i − shift);
    an infinite bound drops its term without a search.
    """
    p0, p1 = prefix
    months = np.arange(p0.shape[0])[None, :]
    total_w, total_kw = p0[:, -1][None, :], p1[:, -1][None, :]
    if np.isneginf(lo).all():
        result = total_kw - shift * total_w
    else:
        j = positions(shift + lo)
        below_w, below_kw = p0[months, j], p1[months, j]
        result = lo * below_w + (total_kw - below_kw) - shift * (total_w - below_w)
    if not np.isposinf(hi).all():
        threshold = shift + hi
        j = positions(threshold)
        above_w = total_w - p0[months, j]
        above_kw = total_kw - p1[months, j]
        with np.errstate(invalid="ignore"):
            result = result - np.where(above_w == 0, 0.0, above_kw - threshold * above_w)
    return result


def aggregated_rates(
    group: ContractGroup, prefix: tuple[np.ndarray, np.ndarray], reference: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Σ w·max(rate, 0) and Σ w·max(−rate, 0) over the group: paid out, paid back (per MWh/MW).

    An indexed group's strikes are K·f_m: clip(K·f − A, lo, hi) = f·clip(K − A/f, lo/f, hi/f).
    """
    shift, lo, hi = rate_terms(group.key, reference)
    f = group.strike_factor
    if f is not None:
        shift, lo, hi = shift / f, lo / f, hi / f
    positions = _Positions(group.strike)
    out = clip_sum(prefix, positions, shift, np.maximum(lo, 0.0), np.maximum(hi, 0.0))
    back = -clip_sum(prefix, positions, shift, np.minimum(lo, 0.0), np.minimum(hi, 0.0))
    if f is not None:
        out, back = out * f, back * f
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
        if group.strike_factor is not None:
            strike = strike * group.strike_factor[None, None, :]
        weight = group.weight_mw[:, first : first + block].T[None, :, :]
        rate = np.clip(strike - shift[:, None, :], lo[:, None, :], hi[:, None, :])
        out += (np.maximum(rate, 0.0) * weight).sum(axis=1)
        back += (np.maximum(-rate, 0.0) * weight).sum(axis=1)
    return out, back
