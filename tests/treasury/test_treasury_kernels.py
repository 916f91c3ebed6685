"""The aggregated contract kernel against a contract-by-contract loop written from the scheme
definitions in settlement.md (not from the kernel's clip form)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from treasury.hourly_shape import run_mask
from treasury.kernels import aggregated_rates, dense_rates
from treasury.portfolio import ContractGroup, GroupKey


def scheme_rate(
    scheme: str, strike: float, reference: float, lo: float, hi: float, upper: float
) -> float:
    """Per-MWh payment of one contract, as settlement.md states it."""
    if scheme == "cfd":
        u = strike if math.isnan(upper) else upper
        rate = max(strike - reference, 0.0) - max(reference - u, 0.0)
    elif scheme == "variable_premium":
        rate = max(0.0, strike - reference)
    else:  # fixed_premium, feed_in
        rate = strike
    return min(hi, max(lo, rate))


def brute_force(group: ContractGroup, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    key = group.key
    out = np.zeros_like(reference)
    back = np.zeros_like(reference)
    for s in range(reference.shape[0]):
        for m in range(reference.shape[1]):
            for c, base_strike in enumerate(group.strike):
                factor = 1.0 if group.strike_factor is None else group.strike_factor[m]
                rate = scheme_rate(
                    key.scheme,
                    base_strike * factor,
                    reference[s, m],
                    key.rate_floor,
                    key.rate_cap,
                    key.upper_price,
                )
                w = group.weight_mw[m, c]
                out[s, m] += max(rate, 0.0) * w
                back[s, m] += max(-rate, 0.0) * w
    return out, back


bounds = st.sampled_from(
    [(-math.inf, math.inf), (-20.0, 15.0), (0.0, 40.5), (5.0, math.inf), (-math.inf, 30.0)]
)


@settings(max_examples=60, deadline=None)
@given(
    scheme=st.sampled_from(["cfd", "variable_premium", "fixed_premium", "feed_in"]),
    bound=bounds,
    upper=st.sampled_from([math.nan, 120.0, 60.0]),
    strikes=st.lists(st.integers(0, 30000), min_size=1, max_size=12),
    seed=st.integers(0, 2**31),
    indexed=st.booleans(),
)
def test_aggregated_sums_equal_contract_by_contract(
    scheme, bound, upper, strikes, seed, indexed
) -> None:
    rng = np.random.default_rng(seed)
    strike = np.sort(np.array(strikes) / 100.0)  # to 0.01 per MWh; ties happen
    months, scenarios = 5, 6
    weight = rng.integers(0, 4, size=(months, len(strike))).astype(float)  # incl. inactive
    group = ContractGroup(
        GroupKey(
            "solar",
            scheme,
            "interval",
            False,
            -1,
            bound[0],
            bound[1],
            upper if scheme == "cfd" else math.nan,
        ),
        tuple(str(i) for i in range(len(strike))),
        strike,
        weight,
        rng.uniform(0.8, 1.3, size=months) if indexed else None,
    )
    reference = np.round(rng.uniform(-80, 320, size=(scenarios, months)), 2)
    reference[0, 0] = strike[0]  # a reference exactly at a strike
    expected_out, expected_back = brute_force(group, reference)
    out, back = aggregated_rates(group, group.prefix_sums(), reference)
    scale = 1.0 + np.abs(expected_out).max() + np.abs(expected_back).max()
    assert np.allclose(out, expected_out, atol=1e-9 * scale)
    assert np.allclose(back, expected_back, atol=1e-9 * scale)
    dense_out, dense_back = dense_rates(group, reference, block=5)
    assert np.allclose(dense_out, expected_out, atol=1e-9 * scale)
    assert np.allclose(dense_back, expected_back, atol=1e-9 * scale)


def run_mask_by_hand(negative: list[bool], n: int) -> list[bool]:
    mask = [False] * len(negative)
    i = 0
    while i < len(negative):
        if negative[i]:
            j = i
            while j < len(negative) and negative[j]:
                j += 1
            if j - i >= n:
                mask[i:j] = [True] * (j - i)
            i = j
        else:
            i += 1
    return mask


@settings(max_examples=80, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(1, 7))
def test_negative_runs_match_a_hand_scan(negative, n) -> None:
    got = run_mask(np.array([negative]), n)[0].tolist()
    assert got == run_mask_by_hand(negative, n)


def test_runs_of_germany_s_rule_on_a_worked_example() -> None:
    # Hours: 3 negative, 1 zero (not negative), 4 negative: only the run of 4 meets run:4.
    prices = np.array([-1, -2, -3, 0, -1, -1, -5, -2, 7])
    mask = run_mask(prices < 0, 4)[0]
    assert mask.tolist() == [False] * 4 + [True] * 4 + [False]
