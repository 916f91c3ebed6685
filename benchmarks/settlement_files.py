"""`mzekari settle` from files against DuckDB reading the same files, in the same run.

Writes 2,000 two-way CfDs, the real DE-LU day-ahead prices of July 2025 and a month of hourly
meter data (2,000 × 744 = 1,488,000 rows) as CSV, and as Parquet; then times, each in a fresh
process, end to end:

- `mzekari settle` on the CSVs (validation included), and on the Parquet meter file;
- DuckDB reading the same CSVs with types, checking what the settlement checks (timestamps
  with offsets, whole non-negative kWh, known contracts, one reading per contract and hour, every
  hour of the month metered and priced, energy within capacity) and computing each contract's
  support Σ (K − R) · kWh rounded to the cent.

Every contract's amount in `lines.csv` must equal DuckDB's to the cent, or the script fails.

    python benchmarks/settlement_files.py [--contracts 2000] [--repeat 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
MONTH, TZ = "2025-07", "Europe/Berlin"

DUCKDB_SCRIPT = """
import sys, duckdb
from decimal import Decimal
folder, month_start, month_end, hours = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute(f'''CREATE TABLE m AS SELECT * FROM read_csv('{folder}/meters.csv', header = true,
    columns = {{'contract_id': 'VARCHAR', 'timestamp': 'TIMESTAMPTZ', 'energy_kwh': 'BIGINT'}})''')
con.execute(f'''CREATE TABLE p AS SELECT * FROM read_csv('{folder}/prices.csv', header = true,
    columns = {{'timestamp': 'TIMESTAMPTZ', 'price': 'DECIMAL(18,2)'}})''')
con.execute(f'''CREATE TABLE c AS SELECT * FROM read_csv('{folder}/contracts.csv', header = true,
    columns = {{'contract_id': 'VARCHAR', 'producer': 'VARCHAR', 'scheme': 'VARCHAR',
    'price': 'DECIMAL(18,2)', 'currency': 'VARCHAR', 'start': 'DATE', 'end': 'DATE',
    'capacity_mw': 'DECIMAL(18,3)', 'market_tz': 'VARCHAR'}})''')
lo, hi = f"TIMESTAMPTZ '{month_start}'", f"TIMESTAMPTZ '{month_end}'"
problems = con.execute(f'''SELECT
    (SELECT count(*) FROM m WHERE energy_kwh < 0 OR energy_kwh IS NULL OR "timestamp" IS NULL),
    (SELECT count(*) FROM m LEFT JOIN c USING (contract_id) WHERE c.contract_id IS NULL),
    (SELECT count(*) FROM (SELECT contract_id, "timestamp" FROM m GROUP BY ALL
        HAVING count(*) > 1)),
    (SELECT count(*) FROM (SELECT contract_id FROM m WHERE "timestamp" >= {lo}
        AND "timestamp" < {hi} GROUP BY ALL HAVING count(*) <> {hours})),
    (SELECT count(*) FROM m JOIN c USING (contract_id)
        WHERE energy_kwh > c.capacity_mw * 1000),
    (SELECT count(*) FROM m LEFT JOIN p USING ("timestamp") WHERE p.price IS NULL)''').fetchone()
if any(problems):
    sys.exit(f"invalid input: {problems}")
# Exact: hundredths per MWh × kWh = 10^-5 currency units, summed as integers, then one
# rounding to the cent, half away from zero.
rows = con.execute(f'''SELECT contract_id, sign(units) * ((abs(units) + 500) // 1000)
    FROM (SELECT contract_id,
          sum(CAST((c.price - p.price) * 100 AS HUGEINT) * m.energy_kwh) AS units
          FROM m JOIN p USING ("timestamp") JOIN c USING (contract_id)
          WHERE m."timestamp" >= {lo} AND m."timestamp" < {hi}
          GROUP BY contract_id) ORDER BY contract_id''').fetchall()
with open(f"{folder}/duckdb_totals.csv", "w") as out:
    out.writelines(f"{cid},{Decimal(int(cents)).scaleb(-2)}\\n" for cid, cents in rows)
"""


def write_inputs(folder: Path, n_contracts: int, seed: int = 11) -> int:
    """contracts.csv, prices.csv, meters.csv (and meters.parquet); returns the meter rows."""
    rng = np.random.default_rng(seed)
    ids = [f"CFD-{i:05d}" for i in range(n_contracts)]
    capacity_mw = rng.integers(1, 50, n_contracts)
    strike = rng.integers(4000, 9000, n_contracts)  # hundredths per MWh
    pd.DataFrame(
        {
            "contract_id": ids,
            "producer": [f"Producer {i % 400:03d}" for i in range(n_contracts)],
            "scheme": "cfd",
            "price": [f"{k / 100:.2f}" for k in strike],
            "currency": "EUR",
            "start": "2024-01-01",
            "end": "2040-12-31",
            "capacity_mw": capacity_mw,
            "market_tz": TZ,
        }
    ).to_csv(folder / "contracts.csv", index=False)
    source = pd.read_csv(ROOT / "scenarios/prices/de_lu_day_ahead_2025.csv", dtype=str)
    stamps = pd.to_datetime(source["timestamp"], utc=True).dt.tz_convert(TZ)
    july = source[
        (stamps >= pd.Timestamp(f"{MONTH}-01", tz=TZ))
        & (stamps < pd.Timestamp("2025-08-01", tz=TZ))
    ]
    july.to_csv(folder / "prices.csv", index=False)
    hours = pd.date_range(pd.Timestamp(f"{MONTH}-01", tz=TZ), periods=len(july), freq="h")
    text_hours = np.array([t.isoformat() for t in hours], dtype=object)
    shape = np.clip(np.sin(np.linspace(0, np.pi * 31, len(hours))), 0, None)
    n_rows = n_contracts * len(hours)
    energy = (
        np.repeat(capacity_mw * 1000, len(hours))
        * np.tile(shape, n_contracts)
        * rng.uniform(0.2, 1.0, n_rows)
    ).astype(np.int64)
    table = pa.table(
        {
            "contract_id": pa.array(np.repeat(np.array(ids, dtype=object), len(hours))),
            "timestamp": pa.array(np.tile(text_hours, n_contracts)),
            "energy_kwh": pa.array(energy),
        }
    )
    pa_csv.write_csv(table, folder / "meters.csv", pa_csv.WriteOptions(quoting_style="none"))
    typed = table.set_column(
        1, "timestamp", table.column("timestamp").cast(pa.timestamp("ns", tz="UTC"))
    )
    pq.write_table(typed, folder / "meters.parquet")
    return n_rows


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{command[:3]} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def settle_command(folder: Path, meters: str, out: str) -> list[str]:
    return [
        sys.executable, "-m", "mzekari.cli", "settle",
        "--contracts", str(folder / "contracts.csv"),
        "--prices", str(folder / "prices.csv"),
        "--meters", str(folder / meters),
        "--month", MONTH, "--out", str(folder / out),
    ]  # fmt: skip


def agree(folder: Path) -> int:
    """Contracts whose support amount differs between mzekari and DuckDB (must be 0)."""
    with (folder / "out_csv" / "lines.csv").open() as handle:
        ours = {r["contract_id"]: Decimal(r["amount"]) for r in csv.DictReader(handle)}
    with (folder / "duckdb_totals.csv").open() as handle:
        theirs = {cid: Decimal(v) for cid, v in csv.reader(handle)}
    return sum(1 for cid in ours.keys() | theirs.keys() if ours.get(cid) != theirs.get(cid))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is shown")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = args.workdir or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = write_inputs(folder, args.contracts)
        size = (folder / "meters.csv").stat().st_size / 1e6
        print(
            f"{args.contracts} two-way CfDs, {MONTH} ({TZ}): {rows:,} meter rows, {size:.0f} MB CSV"
        )
        lo = pd.Timestamp(f"{MONTH}-01", tz=TZ).isoformat()
        hi = pd.Timestamp("2025-08-01", tz=TZ).isoformat()
        hours = rows // args.contracts
        duck = [sys.executable, "-c", DUCKDB_SCRIPT, str(folder), lo, hi, str(hours)]
        runs: dict[str, list[float]] = {"mzekari csv": [], "mzekari parquet": [], "duckdb csv": []}
        for _ in range(args.repeat):
            runs["mzekari csv"].append(timed(settle_command(folder, "meters.csv", "out_csv")))
            runs["mzekari parquet"].append(
                timed(settle_command(folder, "meters.parquet", "out_parquet"))
            )
            runs["duckdb csv"].append(timed(duck))
        differ = agree(folder)
        best = {name: min(times) for name, times in runs.items()}
        for name, seconds in best.items():
            each = ", ".join(f"{t:.2f}" for t in runs[name])
            print(f"  {name:<16} {seconds:6.2f} s  (runs: {each})")
        print(f"  mzekari csv / duckdb csv = {best['mzekari csv'] / best['duckdb csv']:.2f}")
        print(f"  contracts whose amount differs from DuckDB's: {differ}")
        return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
