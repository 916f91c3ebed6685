"""`mzekari auction clear|curve`: clear a round, or show what each budget buys."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

RULE_NAMES = ("germany", "uk_skip", "stop_at_breach")  # auction.RULES, without importing ortools


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("auction", help="clear renewable-energy support auctions")
    commands = parser.add_subparsers(dest="auction_command", metavar="COMMAND", required=True)

    clear_parser = commands.add_parser(
        "clear", help="clear a round and write awards.csv, summary.json"
    )
    clear_parser.add_argument("round", help="round definition (.toml or .json)")
    clear_parser.add_argument("bids", help="bids (.csv)")
    clear_parser.add_argument("--out", required=True, help="output directory")
    clear_parser.add_argument(
        "--rule",
        choices=RULE_NAMES,
        default=None,
        help="a merit-order rule instead of the optimiser",
    )
    clear_parser.set_defaults(handler=run_clear)

    curve_parser = commands.add_parser("curve", help="energy, cost and price for a list of budgets")
    curve_parser.add_argument("round")
    curve_parser.add_argument("bids")
    curve_parser.add_argument(
        "--budgets", required=True, nargs="+", help="budgets, space- or comma-separated"
    )
    curve_parser.add_argument(
        "--rule",
        choices=RULE_NAMES,
        default="uk_skip",
        help="merit-order rule to compare with (default uk_skip)",
    )
    curve_parser.add_argument("--out", required=True, help="output directory")
    curve_parser.set_defaults(handler=run_curve)


def _table(headers: list[str], rows: list[list[str]], numeric: frozenset[str] = frozenset()) -> str:
    """A plain-text table; the columns named in `numeric` are right-aligned."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def cell(text: str, width: int, header: str) -> str:
        return text.rjust(width) if header in numeric else text.ljust(width)

    lines = ["  ".join(cell(h, w, h) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(cell(c, w, h) for c, w, h in zip(r, widths, headers, strict=True)) for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def _money(value: object, currency: str) -> str:
    """For people: to the minor unit, half-up, with separators (files keep the exact value)."""
    from mzekari.money import for_people

    return "" if value is None or value == "" else for_people(str(value), currency)


NUMERIC = frozenset(
    {
        "capacity_mw",
        "energy_mwh",
        "budget_used",
        "clearing_price",
        "price_paid",
        "budget",
        "average_price",
    }
)


def run_clear(args: argparse.Namespace) -> int:
    from . import clear, load_round, read_bids, validate_result
    from .result import remove_outputs

    remove_outputs(args.out)  # whatever happens next, no stale award stays in --out
    spec = load_round(args.round)
    bids = read_bids(args.bids, spec)
    result = clear(spec, bids, args.rule)
    violations = validate_result(spec, bids, result)
    if result.status not in ("OPTIMAL", "FEASIBLE", "RULE"):
        print(f"{spec.name} ({spec.round_id}): no award ({result.status})", file=sys.stderr)
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        return 1
    if violations:
        print("VALIDATION FAILED, nothing written:\n  " + "\n  ".join(violations))
        return 1
    result.write(Path(args.out))
    s = result.summary()
    cur = spec.currency
    print(f"{spec.name} ({spec.round_id}) — {s['rule']}, {s['pricing_rule']} pricing")
    print(
        f"status {s['status']}  proven optimal: {'yes' if s['proven_optimal'] else 'NO'}  "
        f"objective {s['objective']} MWh  bound {s['bound']}  gap {s['gap']}  "
        f"certified by: {', '.join(s['solver'].get('certified_by') or ['-'])}"
    )
    print(
        f"budget used {_money(s['budget_used'], cur)} of {_money(s['budget'], cur)} {cur}; "
        f"{s['energy_mwh']} MWh/yr; {s['capacity_mw']} MW; "
        f"{s['accepted_bids']} accepted, {s['rejected_bids']} rejected"
    )
    print()
    tech_rows = [
        [
            t,
            v["capacity_mw"],
            v["energy_mwh"],
            _money(v["budget_used"], cur),
            s["clearing_prices"].get(t, ""),
        ]
        for t, v in s["by_technology"].items()
    ]
    print(
        _table(
            ["technology", "capacity_mw", "energy_mwh", "budget_used", "clearing_price"],
            tech_rows,
            NUMERIC,
        )
    )
    print()
    award_rows = [
        [
            a.bid_id,
            a.bidder,
            a.technology,
            "yes" if a.accepted else "no",
            str(a.awarded_capacity_mw),
            "" if a.price_paid is None else str(a.price_paid),
            _money(a.budget_used, cur),
            a.reason,
        ]
        for a in sorted(result.awards, key=lambda a: (not a.accepted, a.technology, a.bid_id))
    ]
    print(
        _table(
            [
                "bid_id",
                "bidder",
                "technology",
                "accepted",
                "capacity_mw",
                "price_paid",
                "budget_used",
                "reason",
            ],
            award_rows,
            NUMERIC,
        )
    )
    for note in result.notes:
        print(f"note: {note}")
    print(f"\nwrote {Path(args.out) / 'awards.csv'} and {Path(args.out) / 'summary.json'}")
    return 0


def _budgets(values: list[str]) -> list[Decimal]:
    from mzekari.errors import InputError, Problem
    from mzekari.money import parse_decimal

    out = []
    for text in (v for value in values for v in value.split(",") if v.strip()):
        try:
            out.append(parse_decimal(text))
        except (ValueError, InvalidOperation):
            raise InputError(
                Problem("--budgets", None, "budgets", f"not a number: {text!r}")
            ) from None
    return out


def run_curve(args: argparse.Namespace) -> int:
    from . import budget_curve, load_round, read_bids
    from .curve import write_curve

    budgets = _budgets(args.budgets)
    spec = load_round(args.round)
    bids = read_bids(args.bids, spec)
    rows = budget_curve(spec, bids, budgets, args.rule)
    paths = write_curve(rows, Path(args.out), spec.currency)
    print(
        _table(
            [
                "budget",
                "method",
                "status",
                "energy_mwh",
                "capacity_mw",
                "budget_used",
                "average_price",
            ],
            [
                [
                    _money(r["budget"], spec.currency),
                    r["method"],
                    r["status"],
                    str(r["energy_mwh"]),
                    str(r["capacity_mw"]),
                    _money(r["budget_used"], spec.currency),
                    str(r["average_price"] or ""),
                ]
                for r in rows
            ],
            NUMERIC,
        )
    )
    print("\nwrote " + " and ".join(str(p) for p in paths))
    return 0
