"""Bid securities and the penalty schedule: the README's worked example and hand cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from auction.securities import months_between, parse_rules, penalty, security_due
from mzekari.errors import InputError

# Onshore wind in the German style: EUR 10/20/30 per kW from month 24/26/28 after award.
ONSHORE = parse_rules(
    {
        "currency": "EUR",
        "security_per_mw": "30000",
        "tolerance_share": "0.05",
        "steps": [
            {"from_month": 24, "per_kw": "10"},
            {"from_month": 26, "per_kw": "20"},
            {"from_month": 28, "per_kw": "30"},
        ],
    }
)
AWARDED = date(2021, 3, 1)


def test_readme_worked_example_10_mw_nothing_commissioned_by_month_34():
    due = penalty(ONSHORE, Decimal(10), Decimal(0), AWARDED, date(2024, 1, 1))
    assert due.months_since_award == 34
    # 10 MW = 10,000 kW; 5 % (500 kW) tolerated; 9,500 kW × EUR 30.
    assert (due.per_kw, due.penalised_kw, due.amount) == (30, 9500, Decimal("285000.00"))
    no_tolerance = parse_rules({**ONSHORE.as_json(), "tolerance_share": "0"})
    assert penalty(no_tolerance, Decimal(10), Decimal(0), AWARDED, date(2024, 1, 1)).amount == (
        Decimal("300000.00")
    )
    assert security_due(ONSHORE, Decimal(10)) == Decimal("300000.00")


@pytest.mark.parametrize(
    ("as_of", "months", "per_kw"),
    [
        (date(2023, 2, 28), 23, 0),
        (date(2023, 3, 1), 24, 10),
        (date(2023, 4, 30), 25, 10),
        (date(2023, 5, 1), 26, 20),
        (date(2023, 7, 1), 28, 30),
    ],
)
def test_schedule_steps_by_whole_months_since_award(as_of, months, per_kw):
    due = penalty(ONSHORE, Decimal(1), Decimal(0), AWARDED, as_of)
    assert (due.months_since_award, due.per_kw) == (months, per_kw)


def test_months_between_counts_whole_months():
    assert months_between(date(2021, 1, 31), date(2021, 2, 28)) == 0
    assert months_between(date(2021, 1, 31), date(2021, 3, 1)) == 1
    assert months_between(date(2021, 3, 1), date(2024, 1, 1)) == 34


def test_capacity_within_the_tolerance_costs_nothing():
    # 9.6 of 10 MW commissioned: 400 kW missing, 500 kW tolerated.
    assert penalty(ONSHORE, Decimal(10), Decimal("9.6"), AWARDED, date(2024, 1, 1)).amount == 0
    assert penalty(ONSHORE, Decimal(10), Decimal("9.4"), AWARDED, date(2024, 1, 1)).amount == (
        Decimal("3000.00")  # 600 kW missing − 500 tolerated = 100 kW × 30
    )


def test_bad_rules_are_reported_together():
    with pytest.raises(InputError) as caught:
        parse_rules(
            {
                "currency": "XXX",
                "security_per_mw": 1.5,
                "tolerance_share": "2",
                "steps": [{"from_month": 28, "per_kw": "30"}, {"from_month": 24, "per_kw": "10"}],
                "extra": 1,
            }
        )
    fields = {p.field for p in caught.value.problems}
    assert fields == {"currency", "security_per_mw", "tolerance_share", "steps", "extra"}
    with pytest.raises(InputError, match=r"outside 0\.\.10 MW"):
        penalty(ONSHORE, Decimal(10), Decimal(11), AWARDED, date(2024, 1, 1))
