"""Bad input is refused with every problem named by file, row and field; nothing is settled."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from settlement_builders import contract, grid, meters, prices

from mzekari.errors import InputError
from settlement import (
    contracts_from_records,
    load_contracts,
    read_meters_text,
    read_prices_text,
    settle_month,
)

HEADER = "contract_id,producer,scheme,price,currency,start,end,capacity_mw"


def where(err: pytest.ExceptionInfo[InputError]) -> set[tuple[str, int | None, str | None]]:
    return {(p.source, p.row, p.field) for p in err.value.problems}


def test_contracts_csv_and_json_load_the_same(tmp_path):
    row = "K1,Enguri Hydro,cfd,55.5,GEL,2025-01-01,2044-12-31,12.5"
    (tmp_path / "c.csv").write_text(f"{HEADER},excluded_months,zero_floor\n{row},5;6,true\n")
    (tmp_path / "c.json").write_text(
        json.dumps(
            [
                {
                    "contract_id": "K1",
                    "producer": "Enguri Hydro",
                    "scheme": "cfd",
                    "price": 55.5,
                    "currency": "GEL",
                    "start": "2025-01-01",
                    "end": "2044-12-31",
                    "capacity_mw": "12.5",
                    "excluded_months": [5, 6],
                    "zero_floor": True,
                }
            ]
        )
    )
    from_csv = load_contracts(tmp_path / "c.csv")
    from_json = load_contracts(tmp_path / "c.json")
    assert from_csv == from_json
    assert from_csv[0].price == Decimal("55.5") and from_csv[0].excluded_months == (5, 6)


def test_contract_problems_are_all_reported_with_row_and_field(tmp_path):
    path = tmp_path / "contracts.csv"
    path.write_text(
        f"{HEADER},negative_price_rule,colour\n"
        "A,P,cfd,50,GEL,2025-01-01,2030-12-31,5,none,\n"
        "B,P,swap,50,XYZ,2025-01-01,2024-12-31,-1,run:0,\n"
        "A,P,cfd,50.001,GEL,2025-01-01,2030-12-31,5,any,red\n"
    )
    with pytest.raises(InputError) as err:
        load_contracts(path)
    src = str(path)
    assert {
        (src, 2, "scheme"),
        (src, 2, "currency"),
        (src, 2, "end"),
        (src, 2, "capacity_mw"),
        (src, 2, "negative_price_rule"),
        (src, None, "colour"),
        (src, 3, "price"),
        (src, 3, "contract_id"),
    } <= where(err)


def test_contract_missing_required_field():
    with pytest.raises(InputError) as err:
        contracts_from_records([{"contract_id": "X", "producer": "P", "scheme": "cfd"}], "api")
    assert ("api", 1, "price") in where(err) and ("api", 1, "capacity_mw") in where(err)


def test_duplicate_contract_ids():
    rec = dict(
        contract_id="X",
        producer="P",
        scheme="cfd",
        price="1",
        currency="GEL",
        start="2025-01-01",
        end="2026-01-01",
        capacity_mw="1",
    )
    with pytest.raises(InputError, match="duplicate contract_id"):
        contracts_from_records([rec, dict(rec)])


@pytest.mark.parametrize(
    ("text", "row", "message"),
    [
        ("2025-06-01T00:00:00,50\n", 1, "with a UTC offset"),
        ("2025-06-01T00:00:00+04:00,50\n2025-06-01T00:00:00+04:00,51\n", 2, "duplicate"),
        (
            "2025-06-01T00:00:00+04:00,50\n2025-06-01T03:00:00+04:00,51\n"
            "2025-06-01T04:00:00+04:00,52\n",
            2,
            "gap: 2 interval",
        ),
        (
            "2025-06-01T00:00:00+04:00,50\n2025-06-01T01:00:00+04:00,51\n"
            "2025-06-01T02:07:00+04:00,52\n",
            3,
            "off the",
        ),
        ("2025-06-01T00:00:00+04:00,50.123\n", 1, "0.01 per MWh"),
        ("2025-06-01T00:00:00+04:00,abc\n", 1, "not a number"),
    ],
)
def test_price_file_problems(text, row, message):
    with pytest.raises(InputError) as err:
        read_prices_text("timestamp,price\n" + text, source="p.csv")
    assert any(
        p.row == row and message in p.message and p.source == "p.csv" for p in err.value.problems
    ), err.value


@pytest.mark.parametrize(
    ("body", "row", "field", "message"),
    [
        ("C1,2025-06-01T00:00:00+04:00,-5\n", 1, "energy_kwh", "negative energy"),
        ("C1,2025-06-01T00:00:00+04:00,1.5\n", 1, "energy_kwh", "whole number"),
        ("C1,2025-06-01 00:00,5\n", 1, "timestamp", "with a UTC offset"),
        (
            "C1,2025-06-01T00:00:00+04:00,5\nC1,2025-06-01T00:00:00+04:00,6\n",
            2,
            "timestamp",
            "duplicate",
        ),
        (
            "C1,2025-06-01T00:00:00+04:00,5\nC1,2025-06-01T02:00:00+04:00,6\n"
            "C1,2025-06-01T03:00:00+04:00,6\n",
            2,
            "timestamp",
            "gap",
        ),
    ],
)
def test_meter_file_problems(body, row, field, message):
    with pytest.raises(InputError) as err:
        read_meters_text("contract_id,timestamp,energy_kwh\n" + body, "m.csv")
    assert any(
        (p.source, p.row, p.field) == ("m.csv", row, field) and message in p.message
        for p in err.value.problems
    ), err.value


def test_unknown_contract_and_meter_data_outside_the_term():
    c = contract(start="2025-06-30", end="2025-12-31")
    index = grid("2025-06-29", 48)  # 29 June is before the term
    data = meters({"C1": (index, [10] * 48), "ZZ": (grid("2025-06-30", 24), [1] * 24)})
    ps = prices(grid("2025-05-29", 24 * 35), ["40"] * (24 * 35))
    with pytest.raises(InputError) as err:
        settle_month([c], {"dam": ps}, data, "2025-06")
    messages = " | ".join(str(p) for p in err.value.problems)
    assert "unknown contract 'ZZ'" in messages
    assert "outside the term of C1" in messages
    assert any(p.field == "timestamp" and p.row is not None for p in err.value.problems)


def test_month_incompletely_metered_is_refused():
    c = contract()
    data = meters({"C1": (grid("2025-06-30", 23), [10] * 23)})
    ps = prices(grid("2025-05-29", 24 * 35), ["40"] * (24 * 35))
    with pytest.raises(InputError, match="covers 23 of 24 intervals"):
        settle_month([c], {"dam": ps}, data, "2025-06")


def test_active_contract_without_meter_data_and_unknown_series():
    a, b = contract(contract_id="A"), contract(contract_id="B", reference_series="genex")
    data = meters({"B": (grid("2025-06-30", 24), [10] * 24)})
    ps = prices(grid("2025-05-29", 24 * 35), ["40"] * (24 * 35))
    with pytest.raises(InputError) as err:
        settle_month([a, b], {"dam": ps}, data, "2025-06")
    text = str(err.value)
    assert "no meter data for A in 2025-06" in text
    assert "no price series 'genex'" in text


def test_month_without_prices():
    data = meters({"C1": (grid("2025-06-30", 24), [10] * 24)})
    may = prices(grid("2025-05-01", 24 * 31), ["40"] * (24 * 31))
    with pytest.raises(InputError, match="no price for C1 at 2025-06-30T00:00:00\\+04:00"):
        settle_month([contract()], {"dam": may}, data, "2025-06")


def test_a_run_for_another_market_zone_is_refused():
    c = contract(market_tz="Europe/Berlin")
    data = meters({"C1": (grid("2025-06-30", 24), [10] * 24)})
    ps = prices(grid("2025-05-29", 24 * 35), ["40"] * (24 * 35))
    with pytest.raises(InputError, match="settled in Europe/Berlin months"):
        settle_month([c], {"dam": ps}, data, "2025-06", tz="Asia/Tbilisi")


def test_bad_month_argument():
    data = meters({"C1": (grid("2025-06-30", 24), [10] * 24)})
    with pytest.raises(InputError, match="YYYY-MM"):
        settle_month([contract()], {}, data, "June 2025")
