"""Properties of the payment formulas and of the exact sums (Hypothesis, modest sizes)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from settlement_builders import contract, grid, meters, prices

from settlement import settle_month
from settlement.compute import AMOUNT_SCALE, ContractParams, RowInputs, settle_rows
from settlement.schemes import unit_rate

FAST = settings(max_examples=40, deadline=None)
cents = st.integers(min_value=-50_000, max_value=50_000)
DAY = grid("2025-06-30", 24)


@FAST
@given(strike=st.integers(0, 30_000), reference=cents, kwh=st.integers(1, 5000))
def test_cfd_payment_has_the_sign_of_strike_minus_reference(strike, reference, kwh):
    c = contract(price=str(Decimal(strike) / 100))
    ps = prices(grid("2025-05-29", 24 * 35), [str(Decimal(reference) / 100)] * (24 * 35))
    (line,) = settle_month([c], {"dam": ps}, meters({"C1": (DAY, [kwh] * 24)}), "2025-06").lines
    exact = Decimal(strike - reference) / 100 * Decimal(kwh * 24) / 1000
    assert line.amount == exact.quantize(Decimal("0.01"), "ROUND_HALF_UP")
    if strike != reference and abs(exact) >= Decimal("0.005"):
        assert (line.amount > 0) == (strike > reference)
        assert line.direction == ("to_producer" if strike > reference else "to_counterparty")


@FAST
@given(k=cents, r=st.lists(cents, min_size=1, max_size=30))
def test_unit_rates_relations(k, r):
    ref = np.array(r, dtype=np.int64)
    cfd = unit_rate("cfd", k, ref)
    premium = unit_rate("variable_premium", k, ref)
    assert np.array_equal(premium, np.maximum(cfd, 0))
    assert np.array_equal(unit_rate("cfd", k, ref, zero_floor=True), k - np.maximum(ref, 0))
    assert np.array_equal(unit_rate("fixed_premium", k, ref), np.full(len(r), k))
    # float inputs (the treasury's forecasts) give the same numbers
    assert np.allclose(unit_rate("cfd", float(k), ref.astype(float)), cfd)


def params(n: int, scheme_code: int, price: int) -> ContractParams:
    full = np.full(n, price, dtype=np.int64)
    return ContractParams(
        scheme_code=np.full(n, scheme_code),
        price=full,
        upper_price=full,
        zero_floor=np.zeros(n, bool),
        cap=np.full(n, 1 << 60),
        floor=np.full(n, -(1 << 60)),
        interval_cap_kwh=np.full(n, -1),
        season_excluded=np.zeros(n, bool),
        annual_remaining_kwh=np.full(n, -1),
        curtailment_compensated=np.zeros(n, bool),
    )


def rows(energy, reference, negative, starts):
    e = np.array(energy, dtype=np.int64)
    zeros = np.zeros(len(e), dtype=np.int64)
    return RowInputs(
        np.array(starts),
        e,
        zeros,
        zeros,
        np.array(reference, dtype=np.int64),
        np.zeros(len(e), bool),
        np.array(negative, bool),
    )


@FAST
@given(
    data=st.lists(st.tuples(st.integers(0, 10**6), cents, st.booleans()), min_size=2, max_size=60),
    cut=st.integers(1, 59),
    scheme=st.integers(0, 3),
    price=cents,
)
def test_splitting_a_month_and_adding_the_halves_gives_the_same_exact_total(
    data, cut, scheme, price
):
    cut = min(cut, len(data) - 1)
    energy, reference, negative = map(list, zip(*data, strict=True))
    whole = settle_rows(rows(energy, reference, negative, [0]), params(1, scheme, price))
    halves = settle_rows(rows(energy, reference, negative, [0, cut]), params(2, scheme, price))
    for key in ("support", "eligible_kwh", "negative_kwh", "r_weighted"):
        assert sum(halves[key]) == whole[key][0]
    # and the exact total is Σ rate·kWh computed directly in Python integers
    direct = 0
    for q, r, neg in data:
        if not neg:
            rate = {0: price - r, 1: max(price - r, 0)}.get(scheme, price)
            direct += rate * q
    assert whole["support"][0] == direct


@FAST
@given(kwh=st.lists(st.integers(0, 5000), min_size=24, max_size=24), factor=st.integers(2, 5))
def test_amount_is_linear_in_energy_before_rounding(kwh, factor):
    ps = prices(grid("2025-05-29", 24 * 35), [str(37 + (i * 7) % 23) for i in range(24 * 35)])
    c = contract(price="45.55", capacity_mw="30")
    one = settle_month([c], {"dam": ps}, meters({"C1": (DAY, kwh)}), "2025-06").lines[0]
    many = settle_month(
        [c], {"dam": ps}, meters({"C1": (DAY, [q * factor for q in kwh])}), "2025-06"
    ).lines[0]
    # each is one rounding of an exact value: they differ from factor × by < factor/2 cents+½
    assert abs(many.amount - factor * one.amount) <= Decimal("0.005") * (factor + 1)


def test_overflow_bound_switches_to_python_integers():
    big = 2**40
    r = rows([big] * 4, [-(2**30)] * 4, [False] * 4, [0])
    out = settle_rows(r, params(1, 0, 2**30))
    assert out["support"][0] == 4 * (2**31) * big  # 2**73: beyond int64, still exact
    assert AMOUNT_SCALE == 100 * 1000
