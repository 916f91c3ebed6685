"""Settle one month for 10,000 contracts and compare with DuckDB on the same in-memory data.

Prints: time to validate the meter arrays, time of `settle_month`, time of the equivalent DuckDB
query, their ratio, and whether every contract's rounded amount agrees exactly; then (in a
child process) time and peak memory for quarter-hourly data.

    python benchmarks/settlement_month.py              # hourly, then quarter-hourly
    python benchmarks/settlement_month.py --only 60    # one resolution, in this process

Prices are the real DE-LU day-ahead prices of July 2025 (scenarios/prices); for quarter-hours
each hourly price is used for its four quarter-hours. Energy is seeded random output.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mzekari.months import NS_PER_S, month_bounds_ns  # noqa: E402
from settlement import contracts_from_records, read_prices, settle_month  # noqa: E402
from settlement.meters import meters_from_arrays  # noqa: E402

MONTH, TZ, N_CONTRACTS = "2025-07", "Europe/Berlin", 10_000
SCHEMES = ["cfd", "variable_premium", "fixed_premium", "feed_in"]


def build(
    resolution_s: int, seed: int = 7, with_frame: bool = True
) -> tuple[list, dict, object, pd.DataFrame | None]:
    rng = np.random.default_rng(seed)
    ids = [f"C{i:05d}" for i in range(N_CONTRACTS)]
    prices_k = rng.integers(3000, 12000, N_CONTRACTS)  # hundredths/MWh
    records = [
        dict(
            contract_id=cid,
            producer=f"P{i % 1500:04d}",
            scheme=SCHEMES[i % 4],
            price=f"{prices_k[i] / 100:.2f}",
            currency="EUR",
            start="2024-01-01",
            end="2040-12-31",
            capacity_mw="10",
            negative_price_rule="any" if i % 2 else "none",
        )
        for i, cid in enumerate(ids)
    ]
    contracts = contracts_from_records(records, "benchmark")
    series = read_prices(ROOT / "scenarios/prices/de_lu_day_ahead_2025.csv")
    lo, hi = month_bounds_ns(MONTH, TZ)
    steps = np.arange(lo, hi, resolution_s * NS_PER_S, dtype=np.int64)
    n_int = len(steps)
    codes = np.repeat(np.arange(N_CONTRACTS, dtype=np.int64), n_int)
    starts = np.tile(steps, N_CONTRACTS)
    limit = 10_000 * resolution_s // 3600
    energy = rng.integers(0, limit, size=len(codes), dtype=np.int64)
    # DuckDB's copy of the data is only built when it runs (it would count in peak memory).
    frame = (
        pd.DataFrame({"code": codes, "ts": starts, "energy_kwh": energy}) if with_frame else None
    )
    t0 = time.perf_counter()
    meters = meters_from_arrays("benchmark", ids, codes, starts, energy, contracts)
    print(f"  meter arrays validated ({len(codes):,} intervals): {time.perf_counter() - t0:.2f} s")
    return contracts, {"dam": series}, meters, frame


def duckdb_totals(
    contracts: list, series: object, frame: pd.DataFrame, resolution_s: int, repeat: int
) -> tuple[dict[str, int], list[float]]:
    import duckdb

    starts, values = series.at_resolution(resolution_s)[:2]
    price_df = pd.DataFrame({"ts": starts, "p": values})
    contract_df = pd.DataFrame(
        {
            "code": np.arange(len(contracts)),
            "scheme": [c.scheme for c in contracts],
            "k": [int(c.price * 100) for c in contracts],
            "neg_any": [c.negative_price_rule == "any" for c in contracts],
        }
    )
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for name, df in (("m", frame), ("pr", price_df), ("c", contract_df)):
        con.register(name, df)
    query = """
        WITH rated AS (
          SELECT m.code, m.energy_kwh AS q, c.neg_any AND pr.p < 0 AS excluded,
                 CASE c.scheme WHEN 'cfd' THEN c.k - pr.p
                               WHEN 'variable_premium' THEN greatest(c.k - pr.p, 0)
                               ELSE c.k END AS rate
          FROM m JOIN pr ON m.ts = pr.ts JOIN c ON m.code = c.code),
        sums AS (
          SELECT code, sum(CASE WHEN excluded THEN 0 ELSE rate::HUGEINT * q END) AS units
          FROM rated GROUP BY code)
        -- units are 1/100 000 of a euro; cents rounded half away from zero, as round_money
        SELECT code, sign(units) * ((abs(units) + 500) // 1000) AS cents FROM sums
    """
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = con.execute(query).fetchall()
        times.append(time.perf_counter() - t0)
    return {contracts[int(code)].contract_id: int(cents) for code, cents in rows}, times


def run(resolution_s: int, compare: bool, repeat: int) -> None:
    print(
        f"resolution {resolution_s // 60} min, {N_CONTRACTS:,} contracts, {MONTH} ({TZ}), "
        f"best of {repeat}"
    )
    contracts, prices, meters, frame = build(resolution_s, with_frame=compare)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = settle_month(contracts, prices, meters, MONTH, tz=TZ)
        times.append(time.perf_counter() - t0)
    engine_s = min(times)
    ours = {}
    for line in result.lines:
        if line.kind == "support":
            ours[line.contract_id] = ours.get(line.contract_id, 0) + int(line.amount * 100)
    total = sum((line.amount for line in result.lines), Decimal(0))
    print(
        f"  settle_month: {engine_s:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})  "
        f"({len(result.lines):,} lines, "
        f"{len(result.statements):,} statements, net {total} EUR)"
    )
    if compare and frame is not None:
        theirs, duck_times = duckdb_totals(contracts, prices["dam"], frame, resolution_s, repeat)
        duck_s = min(duck_times)
        agree = theirs == ours
        print(
            f"  duckdb query: {duck_s:.2f} s (runs: {', '.join(f'{t:.2f}' for t in duck_times)})"
            f"   ratio settle/duckdb = {engine_s / duck_s:.2f}"
        )
        print(
            f"  totals agree exactly per contract: {agree}  "
            f"(duckdb total {Decimal(sum(theirs.values())) / 100} EUR)"
        )
        if not agree:
            raise SystemExit("MISMATCH between engine and DuckDB")
    # Memory the settlement itself allocates at its peak, on top of the inputs (numpy reports
    # its buffers to tracemalloc); timed runs above are not traced.
    tracemalloc.start()
    settle_month(contracts, prices, meters, MONTH, tz=TZ)
    traced_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  peak memory of settle_month above its inputs: {traced_mb:,.0f} MB; peak resident "
        f"memory of the process (inputs, validation, DuckDB included): {peak_mb:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", type=int, choices=(15, 60))
    parser.add_argument("--no-duckdb", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.only:
        run(args.only * 60, compare=not args.no_duckdb, repeat=args.repeat)
        return
    run(3600, compare=True, repeat=args.repeat)
    # Quarter-hours in a fresh process so its peak memory is its own (engine only).
    subprocess.run(
        [sys.executable, __file__, "--only", "15", "--no-duckdb", "--repeat", "1"], check=True
    )


if __name__ == "__main__":
    main()
