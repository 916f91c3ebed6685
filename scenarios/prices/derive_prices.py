"""Derive the committed price files from the real data in scenarios/sources (run from anywhere).

- de_lu_day_ahead_2025.csv: SMARD "Großhandelspreise" export, column Deutschland/Luxemburg
  (CC BY 4.0, Bundesnetzagentur | SMARD.de), hourly EUR/MWh, naive Berlin time converted to
  ISO 8601 with the UTC offset of the time (the DST changes of 30 Mar and 26 Oct included).
  Hours SMARD marks "-" are written with an empty price.
- ge_esco_balancing_monthly.csv: ESCO monthly balancing electricity price, GEL/MWh; also the
  forecast's default calibration history (the `scenarios` package ships with every install).

Usage: python scenarios/prices/derive_prices.py   (reads scenarios/sources)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from settlement.price_io import read_smard  # noqa: E402
from settlement.prices import read_prices  # noqa: E402

SOURCES = ROOT / "scenarios" / "sources"


def main() -> None:
    smard = read_smard(SOURCES / "de_lu_day_ahead_2025_hourly_smard.csv")["DE_LU"]
    priced = smard.has_price.nonzero()[0]
    last = int(priced.max()) + 1
    stamps = pd.to_datetime(smard.starts_utc_ns[:last], utc=True).tz_convert("Europe/Berlin")
    with (HERE / "de_lu_day_ahead_2025.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["timestamp", "price"])
        for stamp, value, ok in zip(
            stamps, smard.price_hundredths[:last], smard.has_price[:last], strict=True
        ):
            price = f"{value / 100:.2f}" if ok else ""
            writer.writerow([stamp.isoformat(), price])
    esco = read_prices(
        SOURCES / "georgia_esco_balancing_price_monthly_2013_2021.csv", series="esco"
    )
    assert not isinstance(esco, dict)
    with (HERE / "ge_esco_balancing_monthly.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["month", "price"])
        for month, value in sorted(esco.monthly.items()):
            writer.writerow([month, f"{value / 100:.2f}"])
    print(f"wrote {last} hourly prices and {len(esco.monthly)} monthly prices to {HERE}")


if __name__ == "__main__":
    main()
