"""Time to a certified optimum, and energy bought against merit-order rules, on synthetic rounds.

    .venv/bin/python benchmarks/auction_clearing.py --sizes 1000 10000 --no-rules \
        --pricing pay_as_bid pay_as_clear median

Every round has every limit active (budget, technology minimum and maximum, ceilings, grid
nodes, bidder cap, alternatives, partial bids, innovation bonus); see scenarios/generate_round.py.
Pay-as-clear rounds price solar and wind as one group ("pot"). The time includes the
independent certificate (HiGHS), whose own CPU time is shown too. Both solvers run on one
thread, so CPU time is the figure to compare on a shared machine; `--time-limit` is CP-SAT's
deterministic work limit (the round's `time_limit_s`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scenarios"))

from generate_round import write_round  # noqa: E402

from auction import RULES, clear, load_round, read_bids, validate_result  # noqa: E402


def run(
    size: int, seed: int, pricing: str, ring_fence: bool, time_limit: int, rules: bool = True
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        round_path, bids_path = write_round(Path(tmp), size, seed, pricing, ring_fence, time_limit)
        started = time.monotonic()
        spec = load_round(round_path)
        if pricing == "pay_as_clear":
            grouped = spec.pricing.model_copy(update={"groups": {"pot": ["solar", "wind"]}})
            spec = spec.model_copy(update={"pricing": grouped})
        bids = read_bids(bids_path, spec)
        loaded = time.monotonic() - started
    label = f"{size:>6} bids  {pricing:<12} seed {seed:<3} fence={'yes' if ring_fence else 'no '}"
    started, cpu_started = time.monotonic(), time.process_time()
    best = clear(spec, bids)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    problems = validate_result(spec, bids, best)
    # Pay-as-clear certificates hold one record per price vector, each with HiGHS's levels.
    certifying = sum(
        lv.get("cpu_s", 0) + sum(inner.get("cpu_s", 0) for inner in lv.get("levels", []))
        for c in best.solver.get("certificates", [])
        for lv in c.get("levels", [])
    )
    levels = ", ".join(
        f"{lv['level']} {lv['status']} {lv['wall_time_s']}s" for lv in best.solver["levels"]
    )
    print(
        f"{label}  read {loaded:.2f}s  optimiser {elapsed:6.2f}s wall {cpu:6.2f}s cpu  "
        f"{best.status:<8} "
        f"proven={best.proven_optimal}  certified_by={','.join(best.solver['certified_by']) or '-'}"
        f"  (HiGHS {certifying:.2f}s cpu)  gap={float(best.gap or 0):.2e}  "
        f"energy {best.energy_mwh:>14} MWh  weighted {best.objective}  valid={not problems}"
    )
    print(f"{'':>44}levels: {levels}")
    for rule in RULES if rules else ():
        started = time.monotonic()
        merit = clear(spec, bids, rule)
        elapsed = time.monotonic() - started
        if best.objective is None or merit.objective is None:
            continue
        more = (
            (best.energy_mwh - merit.energy_mwh) / merit.energy_mwh * 100 if merit.energy_mwh else 0
        )
        print(
            f"{'':>44}{rule:<15} {elapsed:6.2f}s  energy {merit.energy_mwh:>14} MWh  "
            f"weighted {merit.objective}  optimiser buys {more:+.2f} % energy  "
            f"valid={not validate_result(spec, bids, merit)}"
        )
    sys.stdout.flush()
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--time-limit", type=int, default=60)
    parser.add_argument(
        "--pricing",
        nargs="+",
        default=["pay_as_bid"],
        choices=["pay_as_bid", "pay_as_clear", "median"],
    )
    parser.add_argument("--ring-fence", action="store_true")
    parser.add_argument("--no-rules", action="store_true", help="skip the merit-order rules")
    args = parser.parse_args()
    for size in args.sizes:
        for pricing in args.pricing:
            cpu = [
                run(size, seed, pricing, args.ring_fence, args.time_limit, not args.no_rules)
                for seed in args.seeds
            ]
            if len(cpu) > 1:
                print(
                    f"{size:>6} bids  {pricing:<12} optimiser cpu over {len(cpu)} seeds: "
                    f"median {statistics.median(cpu):.2f}s  max {max(cpu):.2f}s"
                )


if __name__ == "__main__":
    main()
