"""Derive the Georgian 2023 scenario's numbers: the reference price (from ESCO data) and the bids.

    python scenarios/georgia_2023/make_scenario.py            # print the derived figures
    python scenarios/georgia_2023/make_scenario.py --write    # also rewrite bids.csv, esco_2021.csv

The reference price is the mean of ESCO's monthly balancing-electricity price over 2021 (the
last full year in scenarios/sources), converted to USD at the National Bank of Georgia's 2021
average rate. The bids are drawn (seeded) from the ranges in README.md.
"""

from __future__ import annotations

import argparse
import csv
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from auction.bids import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ESCO = REPO / "scenarios" / "sources" / "georgia_esco_balancing_price_monthly_2013_2021.csv"
EXTRACT = HERE / "esco_2021.csv"  # the 12 months used, committed so the scenario stands alone
GEL_PER_USD_2021 = Decimal("3.2209")  # National Bank of Georgia, 2021 annual average
SEED = 2023

# technology: (number of bids, MW range, capacity factor range, USD/MWh range)
RANGES = {
    "hydro": (30, (3, 30), (0.45, 0.60), (49.0, 64.0)),
    "wind": (16, (10, 50), (0.30, 0.38), (52.0, 69.0)),
    "solar": (26, (5, 40), (0.17, 0.20), (50.0, 63.0)),
    "other": (8, (1, 4), (0.50, 0.80), (60.0, 86.0)),
}
NODES = {
    "hydro": ["Zestaponi", "Khorga", "Jvari", "Akhaltsikhe"],
    "wind": ["Ksani", "Gardabani", "Akhaltsikhe"],
    "solar": ["Gardabani", "Marneuli", "Ksani"],
    "other": ["Gardabani", "Zestaponi"],
}
# The bid file's columns, in the order the engine documents them.
COLUMNS = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]


def esco_2021_gel_per_mwh() -> list[Decimal]:
    source = ESCO if ESCO.exists() else EXTRACT
    with source.open(encoding="utf-8") as fh:
        return [
            Decimal(r["price_gel_per_mwh"])
            for r in csv.DictReader(fh)
            if r["month"].startswith("2021-")
        ]


def reference_price_usd() -> Decimal:
    prices = esco_2021_gel_per_mwh()
    mean_gel = sum(prices, Decimal(0)) / len(prices)
    return (mean_gel / GEL_PER_USD_2021).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def bids() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    rows: list[dict[str, str]] = []
    for tech, (count, (lo, hi), (cf_lo, cf_hi), (p_lo, p_hi)) in RANGES.items():
        for i in range(count):
            capacity = Decimal(rng.randint(lo * 10, hi * 10)).scaleb(-1)
            cf = Decimal(str(round(rng.uniform(cf_lo, cf_hi), 3)))
            price = Decimal(str(round(rng.uniform(p_lo, p_hi), 2))).quantize(Decimal("0.01"))
            innovative = tech in ("solar", "wind", "other") and rng.random() < 0.2
            partial = rng.random() < 0.25
            rows.append(
                {
                    "bid_id": f"GE23-{tech[0].upper()}{i + 1:02d}",
                    "bidder": f"{tech}-developer-{rng.randint(1, count // 2 + 2):02d}",
                    "technology": tech,
                    "capacity_mw": str(capacity),
                    "annual_mwh": str((capacity * 8760 * cf).quantize(Decimal(1))),
                    "price": str(price),
                    "innovative": "true" if innovative else "false",
                    "grid_node": rng.choice(NODES[tech]),
                    "alternative_group": "",
                    "min_capacity_mw": str((capacity * Decimal("0.6")).quantize(Decimal("0.1")))
                    if partial
                    else "",
                }
            )
    # Three projects offer a smaller alternative at a slightly lower price; one of each may win.
    for original in (rows[2], rows[33], rows[50]):
        group = f"{original['bid_id']}-alt"
        original["alternative_group"] = group
        smaller = dict(original)
        smaller["bid_id"] = original["bid_id"] + "b"
        smaller["capacity_mw"] = str(
            (Decimal(original["capacity_mw"]) * Decimal("0.7")).quantize(Decimal("0.1"))
        )
        smaller["annual_mwh"] = str(
            (Decimal(original["annual_mwh"]) * Decimal("0.7")).quantize(Decimal(1))
        )
        smaller["price"] = str(Decimal(original["price"]) - Decimal("0.80"))
        smaller["min_capacity_mw"] = ""
        rows.append(smaller)
    return sorted(rows, key=lambda r: r["bid_id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = bids()
    print(f"reference price: {reference_price_usd()} USD/MWh (ESCO 2021 mean / {GEL_PER_USD_2021})")
    solar = sorted(Decimal(r["price"]) for r in rows if r["technology"] == "solar")
    print(f"bids: {len(rows)}; solar median bid {solar[len(solar) // 2]} USD/MWh")
    if args.write:
        with (HERE / "bids.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        with (
            EXTRACT.open("w", newline="", encoding="utf-8") as fh,
            ESCO.open(encoding="utf-8") as src,
        ):
            reader = csv.DictReader(src)
            writer = csv.DictWriter(fh, fieldnames=reader.fieldnames or [], lineterminator="\n")
            writer.writeheader()
            writer.writerows(r for r in reader if r["month"].startswith("2021-"))
        print(f"wrote {HERE / 'bids.csv'} and {EXTRACT}")


if __name__ == "__main__":
    main()
