"""`mzekari settle` and `mzekari prices monthly`."""

from __future__ import annotations

import argparse
import csv
import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

from mzekari.errors import InputError


def register(subparsers: Any) -> None:
    settle = subparsers.add_parser(
        "settle",
        help="settle one month of support contracts",
        description="Settle a calendar month: writes statements.csv and lines.csv to --out.",
    )
    settle.add_argument("--contracts", required=True, help="contracts CSV or JSON")
    settle.add_argument(
        "--prices",
        required=True,
        nargs="+",
        metavar="[NAME=]FILE[@SERIES]",
        help="price files (CSV, SMARD, OPSD, monthly); NAME names a one-series "
        "file (default: dam); several-series files give all their columns, "
        "or the one named by @SERIES (e.g. dam=smard.csv@DE_LU)",
    )
    settle.add_argument(
        "--meters", required=True, help="meter CSV: contract_id,timestamp,energy_kwh"
    )
    settle.add_argument("--month", required=True, help="YYYY-MM")
    settle.add_argument("--out", required=True, help="output directory")
    settle.add_argument(
        "--tz",
        default=None,
        help="market time zone of the month (default: the contracts' market_tz, else Asia/Tbilisi)",
    )
    settle.add_argument("--posted", nargs="*", default=[], help="lines.csv files already posted")
    settle.add_argument("--fx", help="official exchange rates CSV: date,pair,rate (pair USD/GEL)")
    settle.add_argument("--cpi", help="CPI CSV: month,cpi")
    settle.add_argument(
        "--profile",
        nargs="*",
        default=[],
        metavar="NAME=FILE[:COLUMN]",
        help="generation profiles for technology-weighted reference prices",
    )
    settle.add_argument(
        "--guarantees",
        metavar="LEDGER",
        help="GO ledger CSV (the export of `GET /api/guarantees/export`): GOs of the month's "
        "supported energy sold or cancelled for the producer give double-benefit lines",
    )
    settle.set_defaults(handler=_settle)

    prices = subparsers.add_parser("prices", help="reference prices")
    prices.set_defaults(handler=lambda _args: prices.print_help() or 2)
    sub = prices.add_subparsers(dest="prices_command", metavar="COMMAND")
    monthly = sub.add_parser("monthly", help="each month's reference price (baseload or weighted)")
    monthly.add_argument("prices", metavar="PRICES")
    monthly.add_argument(
        "--series", default=None, help="series in a several-series file (SMARD default: DE_LU)"
    )
    monthly.add_argument("--weights", metavar="GENERATION", help="generation series CSV")
    monthly.add_argument("--weights-column", help="column of the generation file")
    monthly.add_argument("--tz", required=True, help="market time zone, e.g. Europe/Berlin")
    monthly.add_argument(
        "--out",
        default="out/monthly_reference_prices.csv",
        help="CSV to write (default %(default)s)",
    )
    monthly.set_defaults(handler=_monthly)


def _load_prices(specs: list[str]) -> dict[str, Any]:
    """`FILE`, `NAME=FILE`, or `NAME=FILE@SERIES` (one series of a several-series file, e.g.
    `dam=smard.csv@DE_LU`)."""
    from settlement.prices import PriceSeries, read_prices

    out: dict[str, PriceSeries] = {}
    for spec in specs:
        name, _, path = spec.partition("=") if "=" in spec else ("", "", spec)
        path, _, column = path.rpartition("@") if "@" in path else (path, "", "")
        loaded = read_prices(path, series=name or "dam")
        if isinstance(loaded, dict) and column:
            if column not in loaded:
                raise InputError(f"{path}: no series {column!r}; have {sorted(loaded)}")
            chosen = loaded[column]
            out[name or column] = dataclasses.replace(chosen, series=name or column, _cache={})
        elif isinstance(loaded, dict):
            out.update(loaded)
        else:
            out[name or "dam"] = loaded
    return out


def _read_fx(path: str) -> dict[str, dict[str, Decimal]]:
    from mzekari.money import parse_decimal

    rates: dict[str, dict[str, Decimal]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            rates.setdefault(row["pair"].strip().upper(), {})[row["date"].strip()] = parse_decimal(
                row["rate"]
            )
    return rates


def _read_cpi(path: str) -> dict[str, Decimal]:
    from mzekari.money import parse_decimal

    with open(path, newline="", encoding="utf-8-sig") as handle:
        return {row["month"].strip(): parse_decimal(row["cpi"]) for row in csv.DictReader(handle)}


def _settle(args: argparse.Namespace) -> int:
    from settlement.contracts import load_contracts
    from settlement.engine import settle_month
    from settlement.ledger import read_lines
    from settlement.meters import read_meters
    from settlement.price_io import read_profile

    contracts = load_contracts(args.contracts)
    zones = {c.market_tz for c in contracts if c.market_tz}
    tz = args.tz or (zones.pop() if len(zones) == 1 else "Asia/Tbilisi")
    prices = _load_prices(args.prices)
    meters = read_meters(args.meters)
    profiles = {}
    for spec in args.profile:
        name, _, rest = spec.partition("=")
        path, _, column = rest.partition(":") if ":" in rest[2:] else (rest, "", "")
        profiles[name] = read_profile(path, column or None, name)
    posted = [line for path in args.posted for line in read_lines(path)]
    guarantees = None
    if args.guarantees:
        from settlement.guarantee_io import read_ledger
        from settlement.guarantees import benefited

        ledger = read_ledger(args.guarantees)
        guarantees = benefited(ledger.batches.values(), ledger.holdings, args.month)
    result = settle_month(
        contracts,
        prices,
        meters,
        args.month,
        tz=tz,
        posted_lines=posted,
        fx_rates=_read_fx(args.fx) if args.fx else None,
        cpi=_read_cpi(args.cpi) if args.cpi else None,
        profiles=profiles,
        guarantees=guarantees,
    )
    lines_path, statements_path = result.write(args.out)
    print(
        f"settlement {args.month} ({tz}): {len(result.lines)} line(s) posted, "
        f"{len(result.statements)} statement(s)"
    )
    for st in result.statements:
        print(
            f"  {st.producer:<24} {st.currency}  to producer {st.paid_to_producer:>14}  "
            f"by producer {st.paid_by_producer:>14}  net {st.net:>14}"
        )
    if not result.lines:
        print("  nothing to post: the period is already settled on these inputs")
    print(f"wrote {statements_path} and {lines_path}")
    return 0


def _monthly(args: argparse.Namespace) -> int:
    from settlement.price_io import read_profile
    from settlement.prices import monthly_reference_prices, read_prices

    loaded = read_prices(args.prices, series=args.series or "dam")
    if isinstance(loaded, dict):
        name = args.series or ("DE_LU" if "DE_LU" in loaded else sorted(loaded)[0])
        if name not in loaded:
            raise InputError(f"{args.prices}: no series {name!r}; have {sorted(loaded)}")
        loaded = loaded[name]
    weights = read_profile(args.weights, args.weights_column) if args.weights else None
    table = monthly_reference_prices(loaded, args.tz, weights)
    basis = f"weighted by {weights.name}" if weights else "baseload"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", "reference_price", "intervals", "basis", "series"])
        print(f"{'month':<8} {'reference_price':>15}  intervals  ({basis}, {args.tz})")
        for month, price, count in table:
            writer.writerow([month, price, count, basis, loaded.series])
            print(f"{month:<8} {price:>15}  {count:>9}")
    print(f"wrote {out}")
    return 0
