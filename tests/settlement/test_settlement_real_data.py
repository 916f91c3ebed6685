"""Importers and monthly reference prices on the real published files, checked independently.

The independent side reads the raw files with the csv module and Decimal, and finds each
row's local month from the text (SMARD) or with zoneinfo row by row (OPSD).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from settlement import PriceSeries, monthly_reference_prices, read_prices
from settlement.price_io import read_profile

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "scenarios" / "sources"
SMARD = SOURCES / "de_lu_day_ahead_2025_hourly_smard.csv"
OPSD = SOURCES / "de_2017_hourly_price_solar_wind_opsd.csv"
ESCO = SOURCES / "georgia_esco_balancing_price_monthly_2013_2021.csv"
CENT = Decimal("0.01")


def smard_rows() -> list[tuple[str, Decimal | None]]:
    with SMARD.open(encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        return [
            (row[0], None if row[2] == "-" else Decimal(row[2].replace(",", "."))) for row in reader
        ]


def test_smard_import_keeps_every_value_and_the_dst_hours():
    series = read_prices(SMARD)["DE_LU"]
    raw = smard_rows()
    assert len(series.starts_utc_ns) == len(raw)
    expected = [int(v * 100) if v is not None else None for _, v in raw]
    got = [
        int(v) if ok else None
        for v, ok in zip(series.price_hundredths, series.has_price, strict=True)
    ]
    assert got == expected
    assert sum(1 for text, _ in raw if text.startswith("30.03.2025")) == 23
    assert sum(1 for text, _ in raw if text.startswith("26.10.2025")) == 25
    stamps = pd.to_datetime(series.starts_utc_ns, utc=True)
    repeated = [i for i, (text, _) in enumerate(raw) if text == "26.10.2025 02:00"]
    assert [stamps[i].isoformat() for i in repeated] == [
        "2025-10-26T00:00:00+00:00",
        "2025-10-26T01:00:00+00:00",
    ]
    assert np.all(np.diff(series.starts_utc_ns) == 3600 * 10**9)


def test_monthly_baseload_matches_an_independent_mean_of_the_raw_rows():
    by_month: dict[str, list[Decimal]] = defaultdict(list)
    for text, value in smard_rows():
        if value is not None:
            by_month[text[6:10] + "-" + text[3:5]].append(value)
    table = monthly_reference_prices(read_prices(SMARD)["DE_LU"], "Europe/Berlin")
    assert [m for m, _, _ in table] == [f"2025-{m:02d}" for m in range(1, 12)]  # Dec partial
    for month, price, count in table:
        values = by_month[month]
        assert count == len(values)
        assert price == (sum(values) / len(values)).quantize(CENT, ROUND_HALF_UP)
    hours = {m: n for m, _, n in table}
    assert (hours["2025-03"], hours["2025-10"]) == (743, 745)


def test_generation_weighted_monthly_value_from_opsd():
    berlin = ZoneInfo("Europe/Berlin")
    num: dict[str, Decimal] = defaultdict(Decimal)
    den: dict[str, Decimal] = defaultdict(Decimal)
    with OPSD.open() as handle:
        for row in csv.DictReader(handle):
            local = datetime.fromisoformat(row["utc_timestamp"]).astimezone(berlin)
            month = f"{local.year:04d}-{local.month:02d}"
            gen = Decimal(row["DE_solar_generation_actual"])
            num[month] += Decimal(row["DE_price_day_ahead"]) * gen
            den[month] += gen
    prices = read_prices(OPSD)
    assert isinstance(prices, PriceSeries)
    profile = read_profile(OPSD, "DE_solar_generation_actual")
    table = monthly_reference_prices(prices, "Europe/Berlin", profile)
    # January starts at 01:00 local in a UTC file: incomplete, left out; so is the last hour.
    assert [m for m, _, _ in table] == [f"2017-{m:02d}" for m in range(2, 13)]
    for month, price, _ in table:
        assert price == (num[month] / den[month]).quantize(CENT, ROUND_HALF_UP)


def test_esco_monthly_series_in_gel_per_mwh():
    esco = read_prices(ESCO, series="esco")
    assert isinstance(esco, PriceSeries) and esco.is_monthly
    assert esco.monthly["2014-05"] == 1170  # 1.17 tetri/kWh = 11.70 GEL/MWh
    assert len(esco.monthly) == 108


def test_committed_scenario_prices_equal_the_smard_column():
    derived = read_prices(ROOT / "scenarios/prices/de_lu_day_ahead_2025.csv")
    assert isinstance(derived, PriceSeries)
    raw = read_prices(SMARD)["DE_LU"]
    n = len(derived.starts_utc_ns)
    assert np.array_equal(derived.starts_utc_ns, raw.starts_utc_ns[:n])
    assert np.array_equal(
        derived.price_hundredths[derived.has_price], raw.price_hundredths[:n][derived.has_price]
    )
    assert not raw.has_price[n:].any()
