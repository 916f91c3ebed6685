"""Bad input gets an error naming the file, row and field; nothing is cleared from it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from auction import RoundSpec, load_round, parse_round, read_bids, read_bids_text
from mzekari.errors import InputError

HEADER = "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative\n"
ROUND = {"round_id": "R", "name": "r", "currency": "USD", "technologies": [{"name": "solar"}]}


def problems(text: str, spec: RoundSpec | None = None) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(InputError) as caught:
        read_bids_text(text, "bids.csv", parse_round(ROUND) if spec is None else spec)
    assert all(p.source == "bids.csv" for p in caught.value.problems)
    return [(p.row, p.field, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("rows", "row", "field", "words"),
    [
        ("a,A,nuclear,1,100,50.00,false\n", 1, "technology", "unknown technology"),
        ("a,A,solar,-1,100,50.00,false\n", 1, "capacity_mw", "positive"),
        ("a,A,solar,0,100,50.00,false\n", 1, "capacity_mw", "positive"),
        ("a,A,solar,1,100,fifty,false\n", 1, "price", "not a plain decimal"),
        ("a,A,solar,1_0,100,50.00,false\n", 1, "capacity_mw", "not a plain decimal"),
        ("a,A,solar,1,100,5.5E1,false\n", 1, "price", "not a plain decimal"),
        ("a,A,solar,1,100," + "9" * 400 + ",false\n", 1, "price", "not a plain decimal"),
        ("a,A,solar,1,100,NaN,false\n", 1, "price", "not a plain decimal"),
        ("a,A,solar,1," + "1" * 2000 + ",50.00,false\n", 1, "annual_mwh", "longer than"),
        ("a,A,solar,1,100,50.001,false\n", 1, "price", "2 decimals"),
        ("a,A,solar,1,100,50.00,maybe\n", 1, "innovative", "true/false"),
        ("a,A,solar,1,100,50.00,false\na,A,solar,1,100,50.00,false\n", 2, "bid_id", "duplicate"),
        ("a,A,solar,1,100000,50.00,false\n", 1, "annual_mwh", "8760"),
    ],
)
def test_bad_bid_rows(rows: str, row: int, field: str, words: str) -> None:
    found = problems(HEADER + rows)
    assert any(r == row and f == field and words in m for r, f, m in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(HEADER + "a,A,nuclear,1,100,50.00,false\nb,B,solar,x,100,y,false\n")
    assert {(r, f) for r, f, _ in found} == {(1, "technology"), (2, "capacity_mw"), (2, "price")}


def test_missing_column_and_alternative_group_across_bidders() -> None:
    assert problems("bid_id,bidder,technology,capacity_mw,price,innovative\n")[0][1] == "annual_mwh"
    text = (
        "bid_id,bidder,technology,capacity_mw,annual_mwh,price,innovative,alternative_group\n"
        "a,A,solar,1,100,50.00,false,g\nb,B,solar,1,100,50.00,false,g\n"
    )
    found = problems(text)
    assert found[0][:2] == (2, "alternative_group") and "spans bidders" in found[0][2]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"technologies": [{"name": "solar", "min_mw": "20", "max_mw": "10"}]},
            "technologies[0].max_mw",
        ),
        (
            {"technologies": [{"name": "solar", "min_mw": "20"}], "max_total_mw": "10"},
            "max_total_mw",
        ),
        ({"innovation": {"score_weight": "0.5"}}, "innovation.score_weight"),
        ({"innovation": {"ring_fence_share": "0.2"}}, "innovation.ring_fence_share"),
        (
            {"budget": {"amount": "10", "reference_prices": ["1"], "years": 2}},
            "budget.reference_prices",
        ),
        ({"pricing": {"rule": "pay_as_clear", "groups": {"g": ["wind"]}}}, "pricing.groups.g"),
        ({"currency": "XYZ"}, "currency"),
        ({"technologies": [{"name": "solar", "max_mw": "10.0001"}]}, "technologies[0].max_mw"),
        ({"technologies": [{"name": "solar", "colour": "red"}]}, "technologies.0.colour"),
    ],
)
def test_contradictory_or_invalid_round(change: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_round({**ROUND, **change}, source="round.toml")
    assert any(p.field == field and p.source == "round.toml" for p in caught.value.problems), (
        caught.value.problems
    )


def test_round_files_and_round_trip(tmp_path: Path) -> None:
    spec = load_round(Path(__file__).parents[2] / "scenarios" / "georgia_2023" / "round.toml")
    assert spec.budget is not None and spec.budget.amount == Decimal("45000000")
    assert parse_round(spec.model_dump(mode="json")) == spec
    as_json = tmp_path / "round.json"
    as_json.write_text(json.dumps(spec.model_dump(mode="json")), encoding="utf-8")
    assert load_round(as_json) == spec
    broken = tmp_path / "broken.toml"
    broken.write_text("round_id = ", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.toml"):
        load_round(broken)


def test_read_bids_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "my_bids.csv"
    path.write_text(HEADER + "a,A,solar,1,100,abc,false\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_bids(path, parse_round(ROUND))
    assert str(caught.value.problems[0]) == (
        f"{path}, row 1, field 'price': not a plain decimal (digits, one '.' point): 'abc'"
    )


def test_a_round_too_large_for_exact_integers_is_refused() -> None:
    """Coefficients beyond int64 would wrap silently in the solver; the round is refused."""
    from auction import Bid, clear

    spec = parse_round({**ROUND, "budget": {"amount": "999999999999", "years": 50}})
    bids = [
        Bid(
            f"b{i}",
            "A",
            "solar",
            Decimal("900000"),
            Decimal("7000000000"),
            Decimal("99999.99"),
            False,
        )
        for i in range(30)
    ]
    with pytest.raises(InputError, match="64-bit"):
        clear(spec, bids)
    assert clear(spec, bids, "uk_skip").status == "RULE"  # exact Python integers: rules still run


def test_semicolon_file_gets_a_separator_hint() -> None:
    text = HEADER.replace(",", ";") + "a;A;solar;1;100;50,00;false\n"
    found = problems(text)
    assert any("semicolon" in message for _, _, message in found), found


def test_decimal_comma_is_refused_on_its_row() -> None:
    found = problems(HEADER + "a,A,solar,1,100,50,00,false\n")
    assert found[0][0] == 1 and "decimal comma" in found[0][2], found


def test_round_file_not_utf8_and_absurd_ceiling(tmp_path: Path) -> None:
    path = tmp_path / "round.toml"
    path.write_bytes(b'round_id = "R\xff"\n')
    with pytest.raises(InputError, match="not UTF-8"):
        load_round(path)
    data = {**ROUND, "technologies": [{"name": "solar", "ceiling_price": "1e308"}]}
    with pytest.raises(InputError) as caught:
        parse_round(data)
    assert [p.field for p in caught.value.problems] == ["technologies[0].ceiling_price"]
