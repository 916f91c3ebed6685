"""The published quantity-weighted price, against sums worked by hand."""

from __future__ import annotations

from decimal import Decimal

from api.services.public_results import weighted_price

D = Decimal


def test_weighted_price_is_price_times_energy_over_energy_rounded_half_up():
    # (100.00 × 1 + 100.01 × 1) / 2 = 100.005 → 100.01 (half-up; half-even would give 100.00)
    assert weighted_price([(D("100.00"), D(1)), (D("100.01"), D(1))]) == D("100.01")
    # (50 × 3,000 + 80 × 1,000) / 4,000 = 57.50, not the plain mean 65
    assert weighted_price([(D(50), D(3000)), (D(80), D(1000))]) == D("57.50")
    assert weighted_price([]) is None
