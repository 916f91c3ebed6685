"""A ledger that cannot be fooled: duplicated posted lines, a cap without its history, files
written all or nothing, a price file that changes resolution, two files for one series, an
exact monthly-average exchange rate, curtailment on a two-way CfD.

Expected figures are worked by hand in the comments, or recomputed another way.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from settlement_builders import contract, grid, lines_by_kind, meters, month_grid, prices

from mzekari.cli import main
from mzekari.errors import InputError
from settlement import read_prices_text, settle_month
from settlement.ledger import read_lines, write_files
from settlement.prices import merge_series

DAY = grid("2025-06-30", 24)
FLAT = prices(grid("2025-05-29", 24 * 35), ["50"] * (24 * 35))


def run(c, energy=None, posted=(), **kw):
    data = meters({"C1": (DAY, energy or [1000] * 24)}, kw.pop("extra", None))
    return settle_month(
        [c], {"dam": kw.pop("dam", FLAT)}, data, "2025-06", posted_lines=posted, **kw
    )


def test_the_same_posted_file_twice_counts_once(tmp_path):
    c = contract(price="60")
    first = run(c)
    lines_path, _ = first.write(tmp_path)
    twice = read_lines(lines_path) + read_lines(lines_path)
    assert run(c, posted=twice).lines == []  # not a reversal of the month


def test_two_different_lines_under_one_id_are_refused():
    c = contract(price="60")
    (line,) = run(c).lines
    forged = dataclasses.replace(line, amount=line.amount + 1)
    with pytest.raises(InputError, match=f"two different lines carry line_id {line.line_id}"):
        run(c, posted=[line, forged])


def test_an_annual_cap_without_the_years_earlier_lines_is_refused():
    # Active since March: April and May are missing from the posted lines.
    c = contract(scheme="fixed_premium", price="10", annual_cap_mwh="10", start="2025-03-01")
    june = meters({"C1": (month_grid("2025-06"), [1000] * 720)})

    def settle(posted):
        return settle_month([c], {"dam": FLAT}, june, "2025-06", posted_lines=posted)

    paid = run(contract(scheme="fixed_premium", price="10")).lines[0]
    march = dataclasses.replace(paid, month="2025-03", line_id="march", eligible_kwh=4000)
    with pytest.raises(InputError) as err:
        settle([march])
    (problem,) = err.value.problems
    assert problem.field == "annual_cap_mwh" and "2025-04, 2025-05" in problem.message
    april, may = (
        dataclasses.replace(march, month=m, line_id=m, eligible_kwh=0)
        for m in ("2025-04", "2025-05")
    )
    kinds = lines_by_kind(settle([march, april, may]))
    assert kinds["support"][0].eligible_kwh == 6000  # 10 MWh − 4 MWh paid in March
    assert kinds["support"][0].amount == Decimal("60.00")


def test_output_files_are_written_all_or_nothing(tmp_path, monkeypatch):
    c = contract(price="60")
    first = run(c)
    write_files(tmp_path, first.lines, first.statements)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    second = run(c, energy=[2000] * 24)
    real_replace = __import__("os").replace
    calls = []

    def failing_second_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr("settlement.ledger.os.replace", failing_second_rename)
    with pytest.raises(OSError):
        write_files(tmp_path, second.lines, second.statements)
    monkeypatch.undo()
    # The first file had been replaced when the second rename failed: it is put back, so the
    # folder holds the earlier pair exactly, and no temporary file is left behind.
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    write_files(tmp_path, second.lines, second.statements)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} != before


def _hourly_then_quarter_hourly() -> str:
    tz = "Europe/Berlin"
    hours = pd.date_range(
        pd.Timestamp("2025-09-01", tz=tz),
        pd.Timestamp("2025-10-01", tz=tz),
        freq="h",
        inclusive="left",
    )
    quarters = pd.date_range(
        pd.Timestamp("2025-10-01", tz=tz),
        pd.Timestamp("2025-11-01", tz=tz),
        freq="15min",
        inclusive="left",
    )
    rows = [f"{t.isoformat()},{(i % 50) + 0.25:.2f}" for i, t in enumerate(hours)]
    rows += [f"{t.isoformat()},{(i % 70) - 5:.2f}" for i, t in enumerate(quarters)]
    return "timestamp,price\n" + "\n".join(rows) + "\n"


def test_a_price_file_changing_from_hourly_to_quarter_hours_is_one_series(tmp_path):
    text = _hourly_then_quarter_hourly()
    series = read_prices_text(text, "dam", "smard.csv")
    assert series.resolution_s == 900
    path = tmp_path / "p.csv"
    path.write_text(text)
    out = tmp_path / "monthly.csv"
    assert main(["prices", "monthly", str(path), "--tz", "Europe/Berlin", "--out", str(out)]) == 0
    got = {r.split(",")[0]: r.split(",")[1] for r in out.read_text().splitlines()[1:]}
    # Independent: the mean of each month's rows as written, rounded half-up to 0.01.
    frame = pd.read_csv(path, dtype=str)
    frame["month"] = frame["timestamp"].str[:7]
    for month, group in frame.groupby("month"):
        total = sum(Decimal(v) for v in group["price"])
        mean = (total / len(group)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert Decimal(got[month]) == mean, month


def test_a_short_hourly_step_in_a_quarter_hour_file_is_still_a_gap():
    index = grid("2025-06-01", 96, freq="15min")
    rows = [f"{t.isoformat()},1.00" for i, t in enumerate(index) if not 40 <= i < 43]
    with pytest.raises(InputError, match="gap: 3 interval"):
        read_prices_text("timestamp,price\n" + "\n".join(rows) + "\n")


def test_two_files_for_one_series_are_merged_or_refused():
    index = grid("2025-06-01", 48)
    values = [f"{i}.5" for i in range(48)]
    whole = prices(index, values)
    first, second = prices(index[:30], values[:30]), prices(index[20:], values[20:])
    merged = merge_series(first, second)  # they overlap on 10 hours and agree there
    assert np.array_equal(merged.starts_utc_ns, whole.starts_utc_ns)
    assert np.array_equal(merged.price_hundredths, whole.price_hundredths)
    with pytest.raises(InputError, match="overlap and disagree at 1 interval"):
        merge_series(first, prices(index[29:], ["9", *values[30:]]))
    with pytest.raises(InputError, match="gap"):
        merge_series(prices(index[:10], values[:10]), prices(index[20:], values[20:]))


def test_fx_monthly_average_is_not_rounded_before_converting():
    fx = {"USD/GEL": {"2025-06-02": "2.7731", "2025-06-03": "2.7731", "2025-06-30": "2.7732"}}
    c = contract(
        scheme="fixed_premium", price="1000", strike_currency="USD", fx_rule="monthly_average"
    )
    (line,) = run(c, fx_rates=fx).lines
    # 1000 × 8.3194 / 3 = 2773.1333… → 2773.13 (a mean rounded to 2.7731 first gives 2773.10)
    assert line.rate == Decimal("2773.13")
    assert "8.3194 / 3, unrounded" in line.explanation


@pytest.mark.parametrize(("reference", "expected"), [("50", "5.00"), ("70", "0.00")])
def test_curtailment_on_a_two_way_cfd_pays_only_a_positive_difference(reference, expected):
    dam = prices(grid("2025-05-29", 24 * 35), [reference] * (24 * 35))
    c = contract(price="60", curtailment_compensated="true")
    result = run(c, dam=dam, extra={"C1": {"curtailed_kwh": [0, 0, 500] + [0] * 21}})
    (line,) = lines_by_kind(result)["curtailment"]
    # R = 50: 0.5 MWh × (60 − 50) = 5.00. R = 70: the producer is not charged 0.5 × 10 for
    # energy it never produced.
    assert line.amount == Decimal(expected)


def test_prices_monthly_names_each_month_it_cannot_compute(tmp_path, capsys):
    tz = "Asia/Tbilisi"
    index = pd.date_range(
        pd.Timestamp("2025-01-01", tz=tz),
        pd.Timestamp("2025-08-01", tz=tz),
        freq="h",
        inclusive="left",
    )
    cells = ["10.00"] * len(index)
    june_noon = index.get_loc(pd.Timestamp("2025-06-10 12:00", tz=tz))
    cells[june_noon] = ""
    rows = [f"{t.isoformat()},{v}" for t, v in zip(index, cells, strict=True)][1:]  # no 1 Jan 00:00
    rows = rows[: -24 * 10]  # the file ends on 21 July
    path = tmp_path / "p.csv"
    path.write_text("timestamp,price\n" + "\n".join(rows) + "\n")
    out = tmp_path / "m.csv"
    assert main(["prices", "monthly", str(path), "--tz", tz, "--out", str(out)]) == 1
    missing = {
        r["month"]: r["missing"]
        for r in pd.read_csv(out, dtype=str, keep_default_na=False).to_dict("records")
    }
    assert missing["2025-01"] == "1 of 744 intervals without a price: 2025-01-01T00:00:00+04:00"
    assert missing["2025-06"] == "1 of 720 intervals without a price: 2025-06-10T12:00:00+04:00"
    assert missing["2025-07"].startswith("240 of 744 intervals without a price")
    assert {m for m, why in missing.items() if why} == {"2025-01", "2025-06", "2025-07"}
    assert "2025-01, 2025-06, 2025-07" in capsys.readouterr().err
