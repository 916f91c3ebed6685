"""Bugs fixed in peer models (settlement.md "Known pitfalls"), each pinned by a test."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from settlement_builders import contract, grid, meters, month_grid, prices

from mzekari.errors import InputError
from settlement import contracts_from_records, settle_month


def test_assume_542_cfd_sign_producer_pays_back_when_reference_above_strike():
    index = grid("2025-06-30", 24)
    high = prices(grid("2025-05-29", 24 * 35), ["90"] * (24 * 35))
    result = settle_month(
        [contract(price="60")], {"dam": high}, meters({"C1": (index, [1000] * 24)}), "2025-06"
    )
    (line,) = result.lines
    assert line.amount == Decimal("-720.00")  # (60 − 90) × 24 MWh: the producer pays
    assert line.direction == "to_counterparty"
    (statement,) = result.statements
    assert statement.paid_by_producer == Decimal("720.00")
    assert statement.paid_to_producer == Decimal("0.00")
    assert statement.net == Decimal("-720.00")


def test_assume_542_wrong_period_local_month_not_utc_month():
    # 1 June 00:00 in Tbilisi is 31 May 20:00 UTC; that hour belongs to June, and
    # 1 July 00:00 local (30 June 20:00 UTC) does not.
    c = contract(scheme="fixed_premium", price="10", start="2025-05-01", capacity_mw="8")
    index = grid("2025-05-31", 24 * 32)  # 31 May .. 1 July local
    energy = [1] * len(index)
    energy[24] = 1000  # 1 June 00:00 local
    energy[24 + 720] = 7000  # 1 July 00:00 local: not June
    energy[23] = 5000  # 31 May 23:00 local: not June
    data = meters({"C1": (index, energy)})
    ps = prices(grid("2025-05-30", 24 * 34), ["40"] * (24 * 34))
    (line,) = settle_month([c], {"dam": ps}, data, "2025-06").lines
    assert line.eligible_kwh == 1000 + 719  # June's 720 hours only
    assert line.month == "2025-06"


def test_assume_542_awarded_capacity_is_not_ignored():
    c = contract(scheme="fixed_premium", price="10", capacity_mw="2")
    index = grid("2025-06-30", 24)
    energy = [2000] * 23 + [2001]  # the last hour exceeds 2 MW × 1 h
    ps = prices(grid("2025-05-29", 24 * 35), ["40"] * (24 * 35))
    with pytest.raises(InputError) as err:
        settle_month([c], {"dam": ps}, meters({"C1": (index, energy)}), "2025-06")
    (problem,) = err.value.problems
    assert (problem.row, problem.field) == (24, "energy_kwh")
    assert "2 MW" in problem.message


def test_assume_542_contract_price_not_double_counted():
    # A feed-in tariff replaces the market price; a premium is paid on top of the market
    # revenue, which the counterparty does not pay. Neither adds R to the price.
    index = grid("2025-06-30", 24)
    ps = prices(grid("2025-05-29", 24 * 35), ["55"] * (24 * 35))
    for scheme, price, expected in (
        ("feed_in", "100", "2400.00"),
        ("fixed_premium", "10", "240.00"),
    ):
        c = contract(scheme=scheme, price=price)
        (line,) = settle_month(
            [c], {"dam": ps}, meters({"C1": (index, [1000] * 24)}), "2025-06"
        ).lines
        assert line.amount == Decimal(expected)


def test_amiris_104_payments_go_to_each_contracts_own_producer():
    records = [
        dict(
            contract_id=cid,
            producer=producer,
            scheme="fixed_premium",
            price=price,
            currency="GEL",
            start="2025-06-30",
            end="2030-12-31",
            capacity_mw="5",
        )
        for cid, producer, price in (
            ("A", "Mtkvari Hydro", "1"),
            ("B", "Kartli Wind", "2"),
            ("C", "Mtkvari Hydro", "4"),
            ("D", "Imereti Sun", "8"),
        )
    ]
    contracts = contracts_from_records(records)
    index = grid("2025-06-30", 24)
    data = meters({cid: (index, [1000 * (k + 1)] * 24) for k, cid in enumerate("DCBA")})
    ps = prices(grid("2025-05-29", 24 * 35), ["40"] * (24 * 35))
    # Contracts given in a different order from the meter data: matching is by id only.
    result = settle_month(list(reversed(contracts)), {"dam": ps}, data, "2025-06")
    nets = {st.producer: st.net for st in result.statements}
    # energy: D 1 MWh/h, C 2, B 3, A 4; 24 h each
    assert nets == {
        "Mtkvari Hydro": Decimal(24 * (4 * 1 + 2 * 4)),
        "Kartli Wind": Decimal(24 * 3 * 2),
        "Imereti Sun": Decimal(24 * 1 * 8),
    }
    for st in result.statements:
        assert {ln.producer for ln in st.lines} == {st.producer}


def test_meter_rows_in_any_order_settle_the_same():
    index = grid("2025-06-30", 24)
    frame = pd.DataFrame(
        {"contract_id": ["C1"] * 24, "timestamp": index, "energy_kwh": list(range(1000, 1024))}
    )
    from settlement import MeterData

    shuffled = MeterData.from_frame(frame.sample(frac=1, random_state=3), "m.csv")
    ordered = MeterData.from_frame(frame, "m.csv")
    ps = prices(grid("2025-05-29", 24 * 35), [str(40 + i % 7) for i in range(24 * 35)])
    a = settle_month([contract()], {"dam": ps}, shuffled, "2025-06").lines
    b = settle_month([contract()], {"dam": ps}, ordered, "2025-06").lines
    assert [ln.amount for ln in a] == [ln.amount for ln in b]


@pytest.mark.parametrize(("month", "hours"), [("2025-03", 743), ("2025-10", 745)])
def test_berlin_dst_months_have_743_and_745_hours(month, hours):
    index = month_grid(month, tz="Europe/Berlin")
    assert len(index) == hours
    c = contract(scheme="cfd", price="60", currency="EUR", start="2025-01-01")
    ps = prices(month_grid(month, tz="Europe/Berlin"), ["50"] * hours)
    result = settle_month(
        [c], {"dam": ps}, meters({"C1": (index, [1000] * hours)}), month, tz="Europe/Berlin"
    )
    assert result.lines[0].amount == Decimal(10 * hours)
    # A naive 24 × days grid has one hour too many or too few: refused, not settled.
    naive = pd.date_range(f"{month}-01", periods=24 * 31, freq="h").tz_localize("UTC")
    with pytest.raises(InputError):
        settle_month(
            [c],
            {"dam": ps},
            meters({"C1": (naive, [1000] * len(naive))}),
            month,
            tz="Europe/Berlin",
        )


def test_quarter_hour_meters_in_a_dst_month():
    index = month_grid("2025-10", "15min", tz="Europe/Berlin")
    assert len(index) == 745 * 4
    c = contract(scheme="cfd", price="60", currency="EUR", start="2025-01-01")
    hourly = prices(month_grid("2025-10", tz="Europe/Berlin"), ["50"] * 745)
    result = settle_month(
        [c],
        {"dam": hourly},
        meters({"C1": (index, [250] * len(index))}),
        "2025-10",
        tz="Europe/Berlin",
    )
    assert result.lines[0].amount == Decimal(10 * 745)  # 745 MWh × (60 − 50)


def test_hourly_value_from_quarter_hours_is_their_mean_not_the_first():
    quarter = month_grid("2025-10", "15min", tz="Europe/Berlin")
    values = ["10", "20", "30", "41"] * 745  # mean 25.25, first 10
    c = contract(scheme="cfd", price="30", currency="EUR", start="2025-01-01")
    hours = month_grid("2025-10", tz="Europe/Berlin")
    result = settle_month(
        [c],
        {"dam": prices(quarter, values)},
        meters({"C1": (hours, [1000] * 745)}),
        "2025-10",
        tz="Europe/Berlin",
    )
    (line,) = result.lines
    assert line.reference_price == Decimal("25.25")
    assert line.amount == Decimal("4.75") * 745  # (30 − 25.25) per MWh, 1 MWh an hour


def test_quarter_hour_meters_under_an_hourly_negative_run_rule():
    # Hourly prices; 30 June 10:00–12:00 negative (2 h). Quarter-hour meters: 8 quarter-hours.
    hourly = [str(-5 if 10 <= h % 24 < 12 and h // 24 == 32 else 40) for h in range(24 * 35)]
    ps = prices(grid("2025-05-29", 24 * 35), hourly)
    quarters = grid("2025-06-30", 96, "15min")
    data = meters({"C1": (quarters, [250] * 96)})
    two = contract(scheme="fixed_premium", price="10", negative_price_rule="run:2")
    (support, excluded) = settle_month([two], {"dam": ps}, data, "2025-06").lines
    assert excluded.excluded_kwh == 8 * 250
    assert support.amount == Decimal("220.00")  # 22 MWh × 10
    three = contract(scheme="fixed_premium", price="10", negative_price_rule="run:3")
    (only,) = settle_month([three], {"dam": ps}, data, "2025-06").lines
    assert only.amount == Decimal("240.00")


def test_hourly_meters_judge_negativity_on_the_hourly_mean_of_quarter_hours():
    quarter = grid("2025-05-29", 4 * 24 * 35, "15min")
    values = ["40"] * len(quarter)
    start = list(quarter).index(pd.Timestamp("2025-06-30", tz="Asia/Tbilisi"))
    values[start : start + 4] = ["-10", "5", "5", "5"]  # hour 0: mean 1.25, not negative
    values[start + 4 : start + 8] = ["-10", "-10", "5", "5"]  # hour 1: mean −2.50, negative
    c = contract(scheme="fixed_premium", price="10", negative_price_rule="any")
    result = settle_month(
        [c],
        {"dam": prices(quarter, values)},
        meters({"C1": (grid("2025-06-30", 24), [1000] * 24)}),
        "2025-06",
    )
    excluded = next(ln for ln in result.lines if ln.kind == "negative_price_exclusion")
    assert excluded.excluded_kwh == 1000


def test_contract_ending_mid_month_is_settled_for_its_days_only():
    c = contract(scheme="feed_in", price="100", start="2025-01-01", end="2025-06-10")
    data = meters({"C1": (grid("2025-06-01", 240), [1000] * 240)})
    ps = prices(grid("2025-05-29", 24 * 35), ["40"] * (24 * 35))
    (line,) = settle_month([c], {"dam": ps}, data, "2025-06").lines
    assert line.amount == Decimal("24000.00")  # 10 days × 24 MWh × 100
    late = meters({"C1": (grid("2025-06-01", 264), [1000] * 264)})  # one day past the end
    with pytest.raises(InputError, match="outside the term of C1"):
        settle_month([c], {"dam": ps}, late, "2025-06")
