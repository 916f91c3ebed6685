"""Generate a large synthetic auction round (seeded, deterministic) with every limit active.

    python scenarios/generate_round.py --bids 10000 --seed 1 --out out/synthetic_10000

writes `round.toml` and `bids.csv`: four technologies with ceilings, minimum and maximum
volumes; a budget valued against a reference price over 15 discounted years; grid-node limits;
a cap per bidder; alternative bids of one project; partial bids with a minimum capacity;
and an innovation bonus (`--ring-fence` adds a ring-fenced share, `--pricing` sets the rule).
Prices and capacity factors follow the ranges of the Georgian 2023 scenario.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from decimal import Decimal
from pathlib import Path

from auction.bids import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

# technology: (capacity MW range, capacity factor range, price USD/MWh range, ceiling, share)
TECHNOLOGIES = {
    "hydro": ((2, 50), (0.42, 0.60), (48.0, 66.0), "66.00", 0.40),
    "wind": ((10, 60), (0.28, 0.40), (52.0, 70.0), "70.00", 0.25),
    "solar": ((1, 50), (0.16, 0.21), (49.0, 63.0), "62.00", 0.30),
    "other": ((1, 5), (0.55, 0.80), (58.0, 85.0), "85.00", 0.05),
}
# The bid file's columns, in the order the engine documents them.
COLUMNS = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
REFERENCE_PRICE = Decimal("48.00")
YEARS = 15
DISCOUNT_RATE = Decimal("0.05")


def _annuity() -> Decimal:
    return sum((1 / (1 + DISCOUNT_RATE) ** y for y in range(1, YEARS + 1)), Decimal(0))


def generate_bids(n: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    nodes = [f"node{i:02d}" for i in range(max(4, n // 250))]
    bidders = [f"bidder{i:04d}" for i in range(max(3, n // 5))]
    names = list(TECHNOLOGIES)
    weights = [TECHNOLOGIES[t][4] for t in names]
    rows: list[dict[str, str]] = []
    i = 0
    while len(rows) < n:
        tech = rng.choices(names, weights)[0]
        (cap_lo, cap_hi), (cf_lo, cf_hi), (p_lo, p_hi), _, _ = TECHNOLOGIES[tech]
        bidder, node = rng.choice(bidders), rng.choice(nodes)
        capacity = Decimal(rng.randint(cap_lo * 10, cap_hi * 10)).scaleb(-1)
        # Expected energy as capacity × whole full-load hours, the way yield reports state it.
        full_load_hours = round(8760 * rng.uniform(cf_lo, cf_hi))
        energy = capacity * full_load_hours
        price = Decimal(str(round(rng.uniform(p_lo, p_hi), 2))).quantize(Decimal("0.01"))
        innovative = rng.random() < 0.12
        # One project in ten offers a smaller alternative; one in five accepts a partial award.
        variants = [(capacity, energy, price)]
        if rng.random() < 0.1 and len(rows) + 2 <= n:
            variants.append(
                (
                    (capacity * Decimal("0.6")).quantize(Decimal("0.1")),
                    (capacity * Decimal("0.6")).quantize(Decimal("0.1")) * full_load_hours,
                    price - Decimal("0.50"),
                )
            )
        group = f"project{i:05d}" if len(variants) > 1 else ""
        for cap, mwh, p in variants:
            partial = not group and rng.random() < 0.2
            rows.append(
                {
                    "bid_id": f"S{len(rows):05d}",
                    "bidder": bidder,
                    "technology": tech,
                    "capacity_mw": str(cap),
                    "annual_mwh": str(mwh),
                    "price": str(p),
                    "innovative": "true" if innovative else "false",
                    "grid_node": node,
                    "alternative_group": group,
                    "min_capacity_mw": str((cap / 2).quantize(Decimal("0.1"))) if partial else "",
                }
            )
        i += 1
    return rows[:n]


def round_toml(
    rows: list[dict[str, str]],
    seed: int,
    pricing: str,
    ring_fence: bool,
    budget_share: Decimal = Decimal("0.35"),
    time_limit_s: int = 60,
) -> str:
    capacity: dict[str, Decimal] = {t: Decimal(0) for t in TECHNOLOGIES}
    node_capacity: dict[str, Decimal] = {}
    support = Decimal(0)
    for r in rows:
        capacity[r["technology"]] += Decimal(r["capacity_mw"])
        node_capacity[r["grid_node"]] = node_capacity.get(r["grid_node"], Decimal(0)) + Decimal(
            r["capacity_mw"]
        )
        support += max(Decimal(r["price"]) - REFERENCE_PRICE, Decimal(0)) * Decimal(r["annual_mwh"])
    budget = (support * _annuity() * budget_share).quantize(Decimal(1))
    bidder_cap = max(Decimal(60), sum(capacity.values(), Decimal(0)) / 50)
    lines = [
        f'round_id = "SYN-{len(rows)}-{seed}"',
        f'name = "Synthetic round, {len(rows)} bids (seed {seed})"',
        'currency = "USD"',
        f"time_limit_s = {time_limit_s}",
        f"bidder_cap_mw = {bidder_cap.quantize(Decimal(1))}",
        "",
        "[budget]",
        f'amount = "{budget}"',
        f'reference_price = "{REFERENCE_PRICE}"',
        f"years = {YEARS}",
        f'discount_rate = "{DISCOUNT_RATE}"',
        'below_reference = "zero"',
        "",
        "[pricing]",
        f'rule = "{pricing}"',
        "",
        "[innovation]",
        'bonus = "0.10"',
        f'ring_fence_share = "{"0.10" if ring_fence else "0"}"',
        "",
        "[grid_nodes]",
    ]
    lines += [
        f'{node} = "{(cap * Decimal("0.5")).quantize(Decimal(1))}"'
        for node, cap in sorted(node_capacity.items())
    ]
    for tech, (_, _, _, ceiling, _) in TECHNOLOGIES.items():
        lines += [
            "",
            "[[technologies]]",
            f'name = "{tech}"',
            f'ceiling_price = "{ceiling}"',
            f'min_mw = "{(capacity[tech] * Decimal("0.02")).quantize(Decimal(1))}"',
            f'max_mw = "{(capacity[tech] * Decimal("0.3")).quantize(Decimal(1))}"',
        ]
    return "\n".join(lines) + "\n"


def bids_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_round(
    out_dir: Path,
    n: int,
    seed: int,
    pricing: str = "pay_as_bid",
    ring_fence: bool = False,
    time_limit_s: int = 60,
) -> tuple[Path, Path]:
    rows = generate_bids(n, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    round_path, bids_path = out_dir / "round.toml", out_dir / "bids.csv"
    round_path.write_text(
        round_toml(rows, seed, pricing, ring_fence, time_limit_s=time_limit_s), encoding="utf-8"
    )
    bids_path.write_text(bids_csv(rows), encoding="utf-8")
    return round_path, bids_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pricing", choices=("pay_as_bid", "pay_as_clear", "median"), default="pay_as_bid"
    )
    parser.add_argument("--ring-fence", action="store_true")
    parser.add_argument("--time-limit", type=int, default=60)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    paths = write_round(
        args.out, args.bids, args.seed, args.pricing, args.ring_fence, args.time_limit
    )
    print("wrote " + " and ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
