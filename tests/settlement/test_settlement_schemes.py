"""Hand-worked cases for every scheme and rule.

Contracts start on 30 June 2025, so June (Asia/Tbilisi) has 24 metered hours for them. Prices
are 40.00 GEL/MWh for the rest of June and the neighbouring days; June 30 has the values
given per case. Every expected amount below is worked by hand in the comment next to it.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from settlement_builders import contract, grid, lines_by_kind, meters, prices

from mzekari.errors import InputError
from settlement import settle_month

HALF = [Decimal("50.00")] * 12 + [Decimal("70.25")] * 12  # June 30: 12 h at 50, 12 h at 70.25
DAY30 = grid("2025-06-30", 24)


def series(day30=HALF, before=None, after=None, default="40.00", name="dam"):
    """Hourly prices 29 May .. 2 July; June 30 from `day30`; optional runs around it."""
    index = grid("2025-05-29", 24 * 35)
    values: list[object] = [Decimal(default)] * len(index)
    offset = list(index).index(pd.Timestamp("2025-06-30", tz="Asia/Tbilisi"))
    for i, v in enumerate(day30):
        values[offset + i] = v  # "" = no published price
    for i, v in enumerate(before or []):  # hours just before June 30 00:00, latest last
        values[offset - len(before) + i] = Decimal(v)
    for i, v in enumerate(after or []):  # hours from 1 July 00:00
        values[offset + 24 + i] = Decimal(v)
    return prices(index, values, name)


def settle(c, energy=None, price_series=None, extra=None, **kw):
    energy = [1000] * 24 if energy is None else energy
    data = meters({c.contract_id: (DAY30, energy)}, {c.contract_id: extra} if extra else None)
    return settle_month(
        [c], {"dam": price_series or series(), **kw.pop("more", {})}, data, "2025-06", **kw
    )


def support_total(result, cid="C1"):
    return sum(line.amount for line in result.lines if line.contract_id == cid)


def test_cfd_interval_is_two_way():
    result = settle(contract(scheme="cfd", price="60"))
    (line,) = result.lines
    # 12 × (60 − 50) × 1 MWh + 12 × (60 − 70.25) × 1 MWh = 120 − 123 = −3.00
    assert line.amount == Decimal("-3.00")
    assert line.direction == "to_counterparty"
    assert line.eligible_kwh == 24_000
    assert line.reference_price == Decimal("60.13")  # (12·50 + 12·70.25) / 24 = 60.125
    assert line.reference_series == "dam"


def test_variable_premium_pays_only_the_positive_difference():
    result = settle(contract(scheme="variable_premium", price="60"))
    assert support_total(result) == Decimal("120.00")  # 12 × 10 × 1; the 12 h above K pay 0


def test_fixed_premium_and_feed_in_ignore_the_reference():
    premium = settle(contract(scheme="fixed_premium", price="5.50"))
    assert support_total(premium) == Decimal("132.00")  # 24 MWh × 5.50
    tariff = settle(contract(scheme="feed_in", price="100"))
    (line,) = tariff.lines
    assert line.amount == Decimal("2400.00")  # 24 MWh × 100; the price is not added
    assert line.reference_price is None


def test_monthly_baseload_reference():
    result = settle(contract(scheme="cfd", price="60", reference_basis="monthly_baseload"))
    (line,) = result.lines
    # R = (696 h × 40 + 12 × 50 + 12 × 70.25) / 720 = 29 283 / 720 = 40.6708… → 40.67
    assert line.reference_price == Decimal("40.67")
    assert line.rate == Decimal("19.33")
    assert line.amount == Decimal("463.92")  # 19.33 × 24 MWh


def test_monthly_weighted_by_own_output():
    energy = [1000] * 12 + [3000] * 12
    result = settle(contract(scheme="cfd", price="60", reference_basis="monthly_weighted"), energy)
    (line,) = result.lines
    # R = (12·1·50 + 12·3·70.25) / 48 = 3129 / 48 = 65.1875 → 65.19
    assert line.reference_price == Decimal("65.19")
    assert line.amount == Decimal("-249.12")  # (60 − 65.19) × 48 MWh


def test_monthly_weighted_by_a_technology_profile():
    from mzekari.months import NS_PER_S
    from settlement.price_io import Profile

    index = grid("2025-06-01", 720)
    weights = [0] * 696 + [2000] * 12 + [6000] * 12  # MW ×1000: output only on 30 June
    profile = Profile(
        "solar",
        "solar.csv",
        3600,
        index.tz_convert("UTC").as_unit("ns").asi8.copy(),
        pd.array(weights, dtype="int64").to_numpy(),
    )
    assert NS_PER_S == 1_000_000_000
    result = settle(
        contract(scheme="cfd", price="60", reference_basis="monthly_weighted", weighting="solar"),
        profiles={"solar": profile},
    )
    (line,) = result.lines
    # R = (12·2·50 + 12·6·70.25) / (12·2 + 12·6) = 6258 / 96 = 65.1875 → 65.19
    assert line.reference_price == Decimal("65.19")
    assert line.amount == Decimal("-124.56")  # (60 − 65.19) × 24 MWh


def test_annual_weighted_pays_the_monthly_value_provisionally():
    energy = [1000] * 12 + [3000] * 12
    result = settle(
        contract(scheme="variable_premium", price="70", reference_basis="annual_weighted"), energy
    )
    (line,) = result.lines
    assert line.reference_price == Decimal("65.19")  # as the monthly weighted case
    assert line.amount == Decimal("230.88")  # (70 − 65.19) × 48 MWh = 4.81 × 48
    assert "provisional" in line.explanation


def test_zero_floor_on_the_reference():
    day = [Decimal("-20")] * 12 + [Decimal("50")] * 12
    plain = settle(contract(price="60"), price_series=series(day))
    floored = settle(contract(price="60", zero_floor="true"), price_series=series(day))
    assert support_total(plain) == Decimal("1080.00")  # 12 × 80 + 12 × 10
    assert support_total(floored) == Decimal("840.00")  # 12 × 60 + 12 × 10: R floored at 0


def test_premium_cap_georgia_2020_hydro():
    # min(15, max(0, 55 − p)) per MWh: p = 10 → 15 (capped from 45), p = 45 → 10
    day = [Decimal("10")] * 12 + [Decimal("45")] * 12
    result = settle(
        contract(scheme="variable_premium", price="55", cap="15"), price_series=series(day)
    )
    kinds = lines_by_kind(result)
    assert kinds["support"][0].amount == Decimal("660.00")  # 12 × 45 + 12 × 10 uncapped
    assert kinds["rate_cap"][0].amount == Decimal("-360.00")  # 12 × (15 − 45)
    assert support_total(result) == Decimal("300.00")  # 12 × 15 + 12 × 10


def test_rate_floor_and_cap_and_floor_cfd():
    floored = settle(contract(price="60", floor="-5"))
    kinds = lines_by_kind(floored)
    assert kinds["rate_floor"][0].amount == Decimal("63.00")  # 12 × (−5 − (−10.25))
    assert support_total(floored) == Decimal("60.00")  # 12 × 10 − 12 × 5
    collar = settle(contract(price="60", upper_price="70"))
    # max(60 − R, 0) − max(R − 70, 0): 12 × 10 − 12 × 0.25 = 117
    assert support_total(collar) == Decimal("117.00")


def test_negative_price_rules():
    day = ["-1", "-1", "5", "-2", "-2", "-2", "0", "-3"] + ["40"] * 16
    ps = series(day, before=["4"], after=["4"])
    # none: every hour paid; fixed premium 10 × 24 MWh
    assert support_total(
        settle(contract(scheme="fixed_premium", price="10"), price_series=ps)
    ) == Decimal("240.00")
    # any: hours 0, 1, 3, 4, 5, 7 excluded (zero is not negative) → 18 h paid
    result = settle(
        contract(scheme="fixed_premium", price="10", negative_price_rule="any"), price_series=ps
    )
    kinds = lines_by_kind(result)
    assert kinds["support"][0].amount == Decimal("180.00")
    assert kinds["negative_price_exclusion"][0].excluded_kwh == 6000
    assert kinds["negative_price_exclusion"][0].amount == Decimal("0.00")
    # run:2: runs 0–1 (2 h) and 3–5 (3 h) excluded; hour 7 alone is not → 19 h paid
    result = settle(
        contract(scheme="fixed_premium", price="10", negative_price_rule="run:2"), price_series=ps
    )
    assert support_total(result) == Decimal("190.00")
    # run:3: only 3–5 → 21 h paid
    result = settle(
        contract(scheme="fixed_premium", price="10", negative_price_rule="run:3"), price_series=ps
    )
    assert support_total(result) == Decimal("210.00")


def test_negative_run_crossing_the_month_boundary_counts_whole():
    day = ["40"] * 22 + ["-1", "-1"]
    ps = series(day, after=["-1", "-1", "30"])  # the run goes on for 2 h into July: 4 h
    result = settle(
        contract(scheme="fixed_premium", price="10", negative_price_rule="run:4"), price_series=ps
    )
    assert support_total(result) == Decimal("220.00")  # hours 22 and 23 excluded
    short = series(day, after=["30"])
    result = settle(
        contract(scheme="fixed_premium", price="10", negative_price_rule="run:4"),
        price_series=short,
    )
    assert support_total(result) == Decimal("240.00")


def test_a_run_at_the_edge_of_the_prices_needs_prices_beyond_the_month():
    index = grid("2025-06-01", 720)
    values = ["40"] * 718 + ["-1", "-1"]
    with pytest.raises(InputError) as err:
        settle(
            contract(scheme="fixed_premium", price="10", negative_price_rule="run:3"),
            price_series=prices(index, values),
        )
    assert "run:3" in str(err.value) and "before and after the month" in str(err.value)


def test_seasonal_exclusion():
    result = settle(contract(scheme="variable_premium", price="55", excluded_months="5;6;7;8"))
    kinds = lines_by_kind(result)
    assert kinds["support"][0].amount == Decimal("0.00")
    assert kinds["seasonal_exclusion"][0].excluded_kwh == 24_000


def test_cpi_indexation_rounds_the_indexed_price():
    cpi = {"2023-04": Decimal("100.0"), "2025-04": Decimal("112.34")}
    c = contract(scheme="fixed_premium", price="50", indexation="cpi", index_base_month="2023-04")
    result = settle(c, cpi=cpi)
    (line,) = result.lines
    assert line.rate == Decimal("56.17")  # 50 × 112.34 / 100 = 56.17
    assert line.amount == Decimal("1348.08")  # 56.17 × 24
    assert "112.34" in line.explanation
    partial = contract(
        scheme="fixed_premium",
        price="50",
        indexation="cpi",
        index_base_month="2023-04",
        indexed_share="0.3",
    )
    # 50 × (0.7 + 0.3 × 1.1234) = 51.851 → 51.85
    assert settle(partial, cpi=cpi).lines[0].rate == Decimal("51.85")
    with pytest.raises(InputError, match="no CPI value for 2025-04"):
        settle(c, cpi={"2023-04": Decimal("100")})


def test_strike_in_another_currency_at_the_official_rate():
    fx = {
        "USD/GEL": {
            "2025-06-27": Decimal("2.7100"),
            "2025-06-30": Decimal("2.7012"),
            "2025-07-01": Decimal("2.9"),
        }
    }
    c = contract(scheme="fixed_premium", price="20", strike_currency="USD")
    (line,) = settle(c, fx_rates=fx).lines
    assert line.rate == Decimal("54.02")  # 20 × 2.7012 = 54.024, last business day of June
    assert line.amount == Decimal("1296.48")
    assert "2.7012" in line.explanation
    avg = contract(
        scheme="fixed_premium", price="20", strike_currency="USD", fx_rule="monthly_average"
    )
    # mean of June's rates (2.7100 + 2.7012) / 2 = 2.7056 → 20 × 2.7056 = 54.112 → 54.11
    assert settle(avg, fx_rates=fx).lines[0].rate == Decimal("54.11")
    with pytest.raises(InputError, match="USD/GEL"):
        settle(c)


def test_interval_cap_at_capacity():
    energy = [1200] * 6 + [800] * 18
    capped = contract(scheme="fixed_premium", price="10", capacity_mw="1", interval_cap="true")
    kinds = lines_by_kind(settle(capped, energy))
    assert kinds["support"][0].eligible_kwh == 6 * 1000 + 18 * 800
    assert kinds["volume_cap"][0].excluded_kwh == 6 * 200
    assert kinds["support"][0].amount == Decimal("204.00")  # 20.4 MWh × 10
    with pytest.raises(InputError) as err:
        settle(contract(scheme="fixed_premium", price="10", capacity_mw="1"), energy)
    problem = err.value.problems[0]
    assert (problem.source, problem.row, problem.field) == ("meters.csv", 1, "energy_kwh")


def test_annual_volume_cap_uses_volume_paid_earlier_in_the_year():
    c = contract(scheme="fixed_premium", price="10", annual_cap_mwh="10")
    result = settle(c, prior_eligible_kwh={"C1": 4000})
    kinds = lines_by_kind(result)
    assert kinds["support"][0].eligible_kwh == 6000  # 10 MWh − 4 MWh already paid
    assert kinds["annual_cap"][0].excluded_kwh == 18_000
    assert kinds["support"][0].amount == Decimal("60.00")


def test_annual_cap_takes_the_first_hours_of_the_month():
    c = contract(scheme="cfd", price="60", annual_cap_mwh="6")
    result = settle(c)
    assert lines_by_kind(result)["support"][0].amount == Decimal("60.00")  # 6 h × (60 − 50)


def test_curtailment_compensation():
    curtailed = [0, 0, 500] + [0] * 21
    c = contract(price="60", curtailment_compensated="true")
    result = settle(c, extra={"curtailed_kwh": curtailed})
    kinds = lines_by_kind(result)
    assert kinds["curtailment"][0].amount == Decimal("5.00")  # 0.5 MWh × (60 − 50)
    assert kinds["curtailment"][0].eligible_kwh == 500
    without = settle(contract(price="60"), extra={"curtailed_kwh": curtailed})
    assert "curtailment" not in lines_by_kind(without)


def test_double_benefit_reduction():
    c = contract(scheme="fixed_premium", price="10", double_benefit_share="0.5")
    result = settle(c, extra={"go_kwh": [1000] * 12 + [0] * 12})
    kinds = lines_by_kind(result)
    assert kinds["support"][0].amount == Decimal("240.00")
    assert kinds["double_benefit"][0].amount == Decimal("-60.00")  # 0.5 × 12 MWh × 10
    assert kinds["double_benefit"][0].eligible_kwh == 12_000


def test_fallback_series_for_missing_interval_prices_is_flagged():
    day = [""] * 6 + ["50"] * 18  # the day-ahead market published nothing for 6 hours
    esco = prices(grid("2025-06-01", 720), ["136.30"] * 720, "esco")
    c = contract(price="140", fallback_series="esco")
    result = settle(c, price_series=series(day), more={"esco": esco})
    by_series = {ln.reference_series: ln for ln in result.lines}
    assert by_series["dam"].amount == Decimal("1620.00")  # 18 × (140 − 50)
    assert by_series["esco"].amount == Decimal("22.20")  # 6 × (140 − 136.30)
    assert "FALLBACK" in by_series["esco"].explanation
    with pytest.raises(InputError, match="no price for C1"):
        settle(contract(price="140"), price_series=series(day))


def test_monthly_fallback_series_for_a_month_without_primary_prices():
    from settlement import PriceSeries

    esco = PriceSeries.from_monthly({"2025-06": "136.30"}, "esco")
    dam = prices(grid("2025-07-01", 48), ["50"] * 48)  # nothing in June
    c = contract(price="140", reference_basis="monthly_baseload", fallback_series="esco")
    result = settle(c, price_series=dam, more={"esco": esco})
    (line,) = result.lines
    assert line.reference_series == "esco" and line.reference_price == Decimal("136.30")
    assert line.amount == Decimal("88.80")  # (140 − 136.30) × 24
    with pytest.raises(InputError, match="no complete month 2025-06"):
        settle(contract(price="140", reference_basis="monthly_baseload"), price_series=dam)


def test_rounding_once_per_line_half_up_unless_the_contract_says_otherwise():
    # 0.05 GEL/MWh × 0.1 MWh = 0.005: half-up 0.01, half-even 0.00
    energy = [100] + [0] * 23
    up = settle(contract(scheme="fixed_premium", price="0.05"), energy)
    even = settle(contract(scheme="fixed_premium", price="0.05", rounding="half_even"), energy)
    assert up.lines[0].amount == Decimal("0.01")
    assert even.lines[0].amount == Decimal("0.00")
    # 24 h × 0.005 would be 24 × 0.01 = 0.24 if each hour were rounded: one rounding gives 0.12
    assert settle(contract(scheme="fixed_premium", price="0.05"), [100] * 24).lines[
        0
    ].amount == Decimal("0.12")


def test_annual_weighted_is_trued_up_in_december():
    c = contract(
        scheme="variable_premium", price="70", reference_basis="annual_weighted", start="2025-11-30"
    )
    index = grid("2025-11-30", 24 + 744)
    ps = prices(grid("2025-11-29", 24 * 34), ["50"] * 48 + ["60"] * (24 * 32))
    data = meters({"C1": (index, [1000] * len(index))})
    november = settle_month([c], {"dam": ps}, data, "2025-11")
    assert november.lines[0].amount == Decimal("480.00")  # (70 − 50) × 24 MWh
    december = settle_month([c], {"dam": ps}, data, "2025-12", posted_lines=november.lines)
    kinds = lines_by_kind(december)
    assert kinds["support"][0].amount == Decimal("7440.00")  # (70 − 60) × 744 MWh
    (true_up,) = kinds["true_up"]
    # R_year = (24·50 + 744·60) / 768 = 59.6875 → 59.69
    # Nov: (70 − 59.69 − 20) × 24 = −232.56; Dec: (70 − 59.69 − 10) × 744 = +230.64
    assert true_up.reference_price == Decimal("59.69")
    assert true_up.amount == Decimal("-1.92")
    assert true_up.eligible_kwh == 768_000
    # The year's meter data is needed: without November's the true-up is refused.
    december_only = meters({"C1": (grid("2025-12-01", 744), [1000] * 744)})
    c_nov = contract(
        scheme="variable_premium", price="70", reference_basis="annual_weighted", start="2025-11-30"
    )
    with pytest.raises(InputError, match="no meter data for C1 in 2025-11"):
        settle_month([c_nov], {"dam": ps}, december_only, "2025-12")


def test_weighted_month_falls_back_whole_when_the_primary_is_incomplete():
    day = [""] * 6 + ["50"] * 18
    balancing = prices(grid("2025-05-29", 24 * 35), ["80"] * (24 * 34) + ["90"] * 24, "bal")
    c = contract(price="100", reference_basis="monthly_weighted", fallback_series="bal")
    energy = [1000] * 12 + [3000] * 12
    (line,) = settle(c, energy, price_series=series(day), more={"bal": balancing}).lines
    # bal on 30 June is 80 for all 24 hours (its 90s fall on 1 July): R = 80
    assert (line.reference_series, line.reference_price) == ("bal", Decimal("80.00"))
    assert line.amount == Decimal("960.00")  # (100 − 80) × 48 MWh
    assert "FALLBACK" in line.explanation


def test_true_up_respects_the_annual_volume_cap():
    c = contract(
        scheme="variable_premium",
        price="70",
        reference_basis="annual_weighted",
        start="2025-11-30",
        annual_cap_mwh="30",
    )
    index = grid("2025-11-30", 24 + 744)
    ps = prices(grid("2025-11-29", 24 * 34), ["50"] * 48 + ["60"] * (24 * 32))
    data = meters({"C1": (index, [1000] * len(index))})
    november = settle_month([c], {"dam": ps}, data, "2025-11")
    december = settle_month([c], {"dam": ps}, data, "2025-12", posted_lines=november.lines)
    kinds = lines_by_kind(december)
    assert kinds["support"][0].eligible_kwh == 6000  # 30 MWh − 24 MWh paid in November
    # Nov: (59.69 − 50 → −9.69) × 24 = −232.56; Dec: +0.31 × 6 = +1.86
    assert kinds["true_up"][0].amount == Decimal("-230.70")


def test_curtailed_energy_is_not_paid_in_excluded_months_or_negative_hours():
    curtailed = [500] * 24
    seasonal = contract(price="60", curtailment_compensated="true", excluded_months="6")
    assert "curtailment" not in lines_by_kind(settle(seasonal, extra={"curtailed_kwh": curtailed}))
    day = ["-1"] * 12 + ["50"] * 12
    negative = contract(price="60", curtailment_compensated="true", negative_price_rule="any")
    kinds = lines_by_kind(
        settle(negative, price_series=series(day), extra={"curtailed_kwh": curtailed})
    )
    assert kinds["curtailment"][0].eligible_kwh == 12 * 500
    assert kinds["curtailment"][0].amount == Decimal("60.00")  # 6 MWh × (60 − 50)
