"""Derive this scenario's price files from the shared real data (run from anywhere).

- esco_balancing_monthly.csv: ESCO's monthly balancing-electricity price 2013-2021, GEL/MWh
  (source: esco.ge tables, via shared/data/georgia_esco_balancing_price_monthly_2013_2021.csv).
  A copy ships as treasury/esco_balancing_monthly.csv, the default calibration history.
- dam_de_lu_2025_hourly.csv: DE-LU hourly day-ahead prices 2025, EUR/MWh, naive Europe/Berlin
  hour starts (source: SMARD/Bundesnetzagentur, CC BY 4.0, via
  shared/data/de_lu_day_ahead_2025_hourly_smard.csv). Used only for the within-month hourly
  shape (negative hours, capture prices), which the model takes in relative units.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data"  # the repo root's sibling, as in CI
PACKAGE_COPY = HERE.parents[1] / "treasury" / "esco_balancing_monthly.csv"


def main() -> None:
    with open(SHARED / "georgia_esco_balancing_price_monthly_2013_2021.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # The same history ships inside the treasury package as the default calibration.
    for target in (HERE / "esco_balancing_monthly.csv", PACKAGE_COPY):
        with open(target, "w", encoding="utf-8", newline="") as f:
            out = csv.writer(f)
            out.writerow(["month", "price_gel_per_mwh"])
            out.writerows([r["month"], r["price_gel_per_mwh"]] for r in rows)

    with open(SHARED / "de_lu_day_ahead_2025_hourly_smard.csv", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=";")
        next(reader)
        hours = []
        for row in reader:
            day, clock = row[0].split(" ")
            d, m, y = day.split(".")
            price = row[2].strip()
            if price == "-":
                continue  # SMARD's export has no values after 15 December 2025
            hours.append((f"{y}-{m}-{d} {clock}", price.replace(",", ".")))
    with open(HERE / "dam_de_lu_2025_hourly.csv", "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["hour_start_local", "price_eur_per_mwh"])
        out.writerows(hours)


if __name__ == "__main__":
    main()
