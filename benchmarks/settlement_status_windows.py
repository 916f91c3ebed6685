"""What support windows (privileged-producer status) cost a month's settlement.

Settles July 2025 (Europe/Berlin, hourly) for 10,000 contracts, the data of
benchmarks/settlement_month.py, twice: without windows, and with every contract named in
`support_windows` — 80 % supported all month, 10 % suspended 5–8 July, 10 % revoked from 16
July. Prints both times and checks that every contract supported all month gets the same
lines in both runs and that the others are paid less by exactly the energy left out.

    python benchmarks/settlement_status_windows.py
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from settlement_month import MONTH, TZ, build  # noqa: E402

from settlement import settle_month  # noqa: E402
from settlement.lifecycle import StatusEvent, support_windows  # noqa: E402

START, END = date(2024, 1, 1), date(2040, 12, 31)


def windows_for(contracts: list) -> dict:
    out = {}
    for i, c in enumerate(contracts):
        events = []
        if i % 10 == 1:
            events = [
                StatusEvent("suspend", date(2025, 7, 5)),
                StatusEvent("resume", date(2025, 7, 9)),
            ]
        elif i % 10 == 2:
            events = [StatusEvent("revoke", date(2025, 7, 16))]
        out[c.contract_id] = support_windows(START, END, "start", events)
    return out


def best_of(repeat: int, run) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    contracts, prices, meters, _ = build(3600, with_frame=False)
    windows = windows_for(contracts)
    plain_s, plain = best_of(3, lambda: settle_month(contracts, prices, meters, MONTH, tz=TZ))
    status_s, status = best_of(
        3, lambda: settle_month(contracts, prices, meters, MONTH, tz=TZ, support_windows=windows)
    )
    print(f"  without windows: {plain_s:.2f} s ({len(plain.lines):,} lines)")
    print(f"  with windows:    {status_s:.2f} s ({len(status.lines):,} lines)")

    def by_contract(result):
        out: dict[str, list] = {}
        for line in result.lines:
            out.setdefault(line.contract_id, []).append(line)
        return out

    a, b = by_contract(plain), by_contract(status)
    full = [c.contract_id for i, c in enumerate(contracts) if i % 10 not in (1, 2)]
    same = all(a[cid] == b[cid] for cid in full)
    partial = [c.contract_id for i, c in enumerate(contracts) if i % 10 in (1, 2)]

    def accounted(lines: list) -> int:
        """Every metered kWh is either paid (support) or excluded by one rule."""
        return sum(ln.eligible_kwh for ln in lines if ln.kind == "support") + sum(
            ln.excluded_kwh for ln in lines
        )

    balanced = all(
        accounted(a[cid]) == accounted(b[cid])
        and any(ln.kind == "status_exclusion" for ln in b[cid])
        for cid in partial
    )
    print(f"  contracts supported all month: identical lines: {same}")
    print(f"  partly supported: every kWh paid or excluded, as without windows: {balanced}")
    if not (same and balanced):
        raise SystemExit("MISMATCH")


if __name__ == "__main__":
    main()
