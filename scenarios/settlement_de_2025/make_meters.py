"""Generate meters.csv for June 2025 (Europe/Berlin) from the OPSD 2017 generation shape.

Each contract gets the national solar or wind feed-in shape of June 2017 (Open Power System
Data, the series Germany's market values are weighted by), scaled to its capacity with seeded
noise. A few contracts get deliberate features: DE-CFD-05 reports output above its capacity
(its contract caps energy per interval), DE-CFD-07 has curtailed hours, DE-MPF-01 earned
guarantees of origin for its output. Contracts outside their term in June get no rows.

Usage: python scenarios/settlement_de_2025/make_meters.py   (seed fixed: output reproducible)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCES = ROOT / "scenarios" / "sources"
sys.path.insert(0, str(ROOT))

from settlement.contracts import load_contracts  # noqa: E402

SOLAR = {
    "DE-CFD-01",
    "DE-CFD-02",
    "DE-CFD-05",
    "DE-CFD-06",
    "DE-MPV-01",
    "DE-MPV-03",
    "DE-MPF-02",
    "DE-FIT-02",
}
FLAT = {"DE-MPV-05", "DE-MPF-01", "DE-FIT-01"}  # biogas: steady output


def main() -> None:
    rng = np.random.default_rng(20250601)
    opsd = pd.read_csv(SOURCES / "de_2017_hourly_price_solar_wind_opsd.csv")
    stamps = pd.to_datetime(opsd["utc_timestamp"], utc=True).dt.tz_convert("Europe/Berlin")
    june = (stamps.dt.year == 2017) & (stamps.dt.month == 6)
    solar = opsd.loc[june, "DE_solar_generation_actual"].to_numpy()
    wind = opsd.loc[june, "DE_wind_generation_actual"].to_numpy()
    hours = pd.date_range(
        "2025-06-01", "2025-07-01", freq="h", tz="Europe/Berlin", inclusive="left"
    )
    assert len(hours) == len(solar) == 720
    contracts = load_contracts(HERE / "contracts.csv")
    rows = []
    for c in contracts:
        if c.end < hours[0].date() or c.start > hours[-1].date():
            continue
        cap_kwh = float(c.capacity_mw) * 1000
        if c.contract_id in FLAT:
            shape = np.full(720, 0.9)
        else:
            base = solar if c.contract_id in SOLAR else wind
            shape = base / base.max()
        noise = rng.uniform(0.85, 1.0, size=720)
        energy = np.floor(cap_kwh * shape * noise).astype(np.int64)
        if c.contract_id == "DE-CFD-05":
            energy = np.floor(energy * 1.12).astype(np.int64)  # over capacity at the peaks
        curtailed = np.zeros(720, dtype=np.int64)
        if c.contract_id == "DE-CFD-07":
            hit = rng.random(720) < 0.05
            curtailed[hit] = np.floor(energy[hit] * 0.4).astype(np.int64)
            energy[hit] -= curtailed[hit]
        go = energy if c.contract_id == "DE-MPF-01" else np.zeros(720, dtype=np.int64)
        for i, hour in enumerate(hours):
            if hour.date() < c.start:
                continue
            rows.append(
                [c.contract_id, hour.isoformat(), int(energy[i]), int(curtailed[i]), int(go[i])]
            )
    with (HERE / "meters.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["contract_id", "timestamp", "energy_kwh", "curtailed_kwh", "go_kwh"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} meter rows to {HERE / 'meters.csv'}")


if __name__ == "__main__":
    main()
