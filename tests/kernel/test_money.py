"""The exact-money kernel: construction refuses floats, rounding is explicit and once."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzekari.money import (
    D,
    for_people,
    from_minor_units,
    parse_decimal,
    round_money,
    to_minor_units,
)


def test_floats_are_refused_because_they_are_not_exact() -> None:
    with pytest.raises(TypeError):
        D(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        D(True)  # type: ignore[arg-type]


def test_text_and_integers_enter_exactly() -> None:
    assert D("0.1") + D("0.2") == Decimal("0.3")
    assert D(7) == Decimal(7)
    assert D(" 12.50 ") == Decimal("12.50")


@pytest.mark.parametrize("text", ["", "abc", "1,5", "NaN", "Infinity"])
def test_parse_decimal_rejects_what_is_not_a_finite_number(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("amount", "mode", "expected"),
    [
        ("2.345", "half_up", "2.35"),
        ("2.345", "half_even", "2.34"),
        ("-2.345", "half_up", "-2.35"),  # half-up rounds away from zero on both sides
        ("2.355", "half_even", "2.36"),
        ("0.004", "half_up", "0.00"),
    ],
)
def test_round_money_uses_the_mode_it_is_given(amount: str, mode: str, expected: str) -> None:
    assert round_money(Decimal(amount), "GEL", mode) == Decimal(expected)


def test_unknown_currency_and_mode_are_errors() -> None:
    with pytest.raises(ValueError, match="currency"):
        round_money(Decimal(1), "XYZ")
    with pytest.raises(ValueError, match="rounding"):
        round_money(Decimal(1), "GEL", "ceiling")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_minor_units_round_trip(tetri: int) -> None:
    assert to_minor_units(from_minor_units(tetri, "GEL"), "GEL") == tetri


def test_to_minor_units_refuses_an_unrounded_amount() -> None:
    with pytest.raises(ValueError, match="minor units"):
        to_minor_units(Decimal("1.005"), "GEL")


@given(st.decimals(min_value=-(10**6), max_value=10**6, places=5))
def test_half_up_is_within_half_a_tetri_and_ties_go_away_from_zero(amount: Decimal) -> None:
    rounded = round_money(amount, "GEL")
    assert abs(rounded - amount) <= Decimal("0.005")
    if abs(rounded - amount) == Decimal("0.005"):
        assert abs(rounded) > abs(amount)


def test_money_for_people_is_half_up_to_the_minor_unit_with_separators() -> None:
    assert for_people("44999952.63966", "USD") == "44,999,952.64"
    assert for_people("0.005", "GEL") == "0.01"
    assert for_people("-1234.5", "GEL") == "-1,234.50"
    assert for_people(Decimal("45000000"), "USD") == "45,000,000.00"
    assert for_people(0, "GEL") == "0.00"
