"""The pure GO ledger at a national registry's scale.

Issues a year of monthly GOs for N installations (seeded random output up to 40 % of
capacity), sells a seeded random run of each batch and cancels part of it, then times the
`benefited` query of one month, the CSV export and the import of that export, and checks that
the import reproduces the ledger exactly and that every batch is held exactly once.

    python benchmarks/guarantees_ledger.py                   # 1,000 installations
    python benchmarks/guarantees_ledger.py --installations 5000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from settlement.guarantee_io import Ledger, read_ledger_text, write_ledger_text  # noqa: E402
from settlement.guarantees import (  # noqa: E402
    Holding,
    Installation,
    benefited,
    cancel,
    check_batch_coverage,
    initial_holdings,
    issue_batch,
    transfer,
)


def build(n: int, seed: int) -> tuple[Ledger, float]:
    rng = random.Random(seed)
    ledger = Ledger({}, [])
    started = time.perf_counter()
    for i in range(n):
        capacity = rng.randint(1, 50)
        inst = Installation(
            f"U{i:05d}", f"P{i % 300:03d}", "hydro", "run-of-river", "Georgia",
            Decimal(capacity), date(2020, 1, 1), support_scheme="cfd", contract_id=f"C{i:05d}",
        )  # fmt: skip
        earlier = []
        for month in range(1, 13):
            kwh = rng.randint(0, capacity * 1000 * 28 * 24 * 4 // 10)
            batch = issue_batch(inst, f"2025-{month:02d}", kwh, date(2026, 1, 5), earlier)
            earlier = [batch]
            ledger.batches[batch.batch_id] = batch
            held = initial_holdings(batch)
            if batch.volume >= 2:
                first = rng.randint(1, batch.volume - 1)
                last = rng.randint(first, batch.volume)
                change = transfer(batch, held, first, last, "Supplier", date(2026, 1, 6))
                held = [h for h in held if h not in change.removed] + list(change.added)
                change = cancel(batch, held, first, first, "Consumer", date(2026, 1, 7))
                held = [h for h in held if h not in change.removed] + list(change.added)
            ledger.holdings.extend(held)
    return ledger, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    ledger, build_s = build(args.installations, args.seed)
    gos = sum(b.volume for b in ledger.batches.values())
    print(
        f"{len(ledger.batches):,} batches, {gos:,} GOs, {len(ledger.holdings):,} holdings: "
        f"issued, sold and cancelled in {build_s:.2f} s"
    )
    started = time.perf_counter()
    uses = benefited(ledger.batches.values(), ledger.holdings, "2025-06")
    print(f"benefited(2025-06): {len(uses):,} contracts in {time.perf_counter() - started:.3f} s")
    started = time.perf_counter()
    text = write_ledger_text(ledger)
    print(f"export: {len(text) / 1e6:.1f} MB in {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    again = read_ledger_text(text)
    print(f"import (every row validated): {time.perf_counter() - started:.2f} s")
    same = again.batches == ledger.batches and again.sorted_holdings() == ledger.sorted_holdings()
    by_batch: dict[str, list[Holding]] = {}
    for h in again.holdings:
        by_batch.setdefault(h.batch_id, []).append(h)
    gaps = [
        p
        for b in again.batches.values()
        for p in check_batch_coverage(b, by_batch.get(b.batch_id, []))
    ]
    print(f"import reproduces the ledger: {same}; batches not held exactly once: {len(gaps)}")
    if not same or gaps:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
