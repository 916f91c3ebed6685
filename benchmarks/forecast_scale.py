"""Forecast at scale: 10,000 scenarios × 1,000 contracts × 240 months (2.4e9 contract-months).

Prints wall time and peak memory for the local chunked run and for a Dask LocalCluster
(2 worker processes × 1 thread). Each run is a fresh subprocess so its peak RSS is its own.

    .venv/bin/python benchmarks/forecast_scale.py [--scenarios N] [--contracts N] [--months N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TECHS = ("hydro", "solar", "wind", "other")
RULES = (
    ("cfd", "monthly_baseload", "none"),
    ("cfd", "interval", "any"),
    ("cfd", "monthly_weighted", "run:4"),
    ("variable_premium", "monthly_baseload", "run:6"),
    ("fixed_premium", "monthly_baseload", "none"),
    ("feed_in", "monthly_baseload", "none"),
)


def portfolio(n: int) -> tuple[list, dict[str, str]]:
    """n synthetic contracts: strikes, sizes and start dates spread, rules mixed."""
    from settlement import Contract

    contracts, techs = [], {}
    for i in range(n):
        scheme, basis, rule = RULES[i % len(RULES)]
        price = (
            Decimal(12000 + (i * 7919) % 9000) / 100
            if scheme != "fixed_premium"
            else Decimal("20.00")
        )
        start = date(2024 + i % 6, 1 + i % 12, 1)
        contracts.append(
            Contract(
                contract_id=f"C{i:05d}",
                producer=f"P{i % 97}",
                scheme=scheme,
                price=price,
                currency="GEL",
                start=start,
                end=date(start.year + 15, start.month, 1),
                capacity_mw=Decimal(5 + (i * 31) % 95),
                reference_basis=basis,
                negative_price_rule=rule,
                excluded_months=(5, 6, 7, 8) if i % 11 == 0 else (),
            )
        )
        techs[f"C{i:05d}"] = TECHS[i % len(TECHS)]
    return contracts, techs


def run(mode: str, scenarios: int, contracts_n: int, months: int) -> dict:
    from treasury import ForecastConfig, run_forecast

    contracts, techs = portfolio(contracts_n)
    prices = ROOT / "scenarios" / "prices"
    config = ForecastConfig(
        start_month="2026-01",
        months=months,
        scenarios=scenarios,
        seed=2026,
        price_history=prices / "ge_esco_balancing_monthly.csv",
        hourly_history=prices / "de_lu_day_ahead_2025.csv",
        contract_technologies=techs,
        auction_budget=Decimal("500000000"),
        scenario_chunk=1000,
        method="dense" if mode == "dense" else "aggregated",
        contract_chunk=16,
    )
    client = cluster = None
    if mode == "dask":
        from treasury.cluster import local_cluster

        cluster, client = local_cluster(2)

    def cpu_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    worker_cpu_before = sum(client.run(cpu_seconds).values()) if client is not None else 0.0
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    result = run_forecast(contracts, config, dask_client=client)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    if client is not None:
        cpu += sum(client.run(cpu_seconds).values()) - worker_cpu_before
    own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_peaks = []
    if client is not None and cluster is not None:
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        worker_peaks = sorted(peaks.values())
        client.close()
        cluster.close()
    first = result.annual.iloc[0]
    return {
        "mode": mode,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": own_peak_mb,
        "worker_peak_rss_mb": worker_peaks,
        "expected_2026": float(first["expected"]),
        "p95_2026": float(first["p95"]),
        "checksum": float(result.scenario_totals.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("local", "dask", "dense"))
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--contracts", type=int, default=1_000)
    parser.add_argument("--months", type=int, default=240)
    parser.add_argument(
        "--dense-scenarios",
        type=int,
        default=200,
        help="scenarios for the contract-by-contract reference kernel",
    )
    args = parser.parse_args()
    if args.mode:
        scenarios = args.dense_scenarios if args.mode == "dense" else args.scenarios
        print(json.dumps(run(args.mode, scenarios, args.contracts, args.months)))
        return
    print(
        f"forecast scale: {args.scenarios} scenarios × {args.contracts} contracts × "
        f"{args.months} months = "
        f"{args.scenarios * args.contracts * args.months:.2e} contract-months"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    results = {}
    for mode in ("local", "dask", "dense"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--mode",
                mode,
                "--scenarios",
                str(args.scenarios),
                "--contracts",
                str(args.contracts),
                "--months",
                str(args.months),
                "--dense-scenarios",
                str(args.dense_scenarios),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results[mode] = r = json.loads(out.stdout.strip().splitlines()[-1])
        workers = ", ".join(f"{m:.0f}" for m in r["worker_peak_rss_mb"])
        extra = f"; worker peaks {workers} MB" if workers else ""
        label = {
            "local": "local, chunks of 1,000 scenarios",
            "dask": "Dask LocalCluster 2 workers × 1 thread (processes)",
            "dense": f"dense per-contract kernel, {args.dense_scenarios} scenarios",
        }[mode]
        print(
            f"{label}: {r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB{extra}; "
            f"2026 expected {r['expected_2026']:,.0f} GEL, P95 {r['p95_2026']:,.0f} GEL"
        )
    same = results["local"]["checksum"] == results["dask"]["checksum"]
    print(f"local and Dask scenario totals identical: {same}")
    dense = results["dense"]
    per_cm = dense["seconds"] / (args.dense_scenarios * args.contracts * args.months)
    print(
        f"dense kernel: {per_cm * 1e9:.1f} ns per contract-month → about "
        f"{per_cm * args.scenarios * args.contracts * args.months:.0f} s for the full size "
        f"(extrapolated, not run)"
    )


if __name__ == "__main__":
    main()
