"""`mzekari settle` and `mzekari prices monthly`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from mzekari.errors import InputError, Problem
from mzekari.vocabulary import MARKET_TZ


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
        help=f"market time zone of the month (default: the contracts' market_tz, else {MARKET_TZ})",
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
    settle.add_argument(
        "--status",
        metavar="STATUS",
        help="privileged-producer status CSV: contract_id,action,effective_date[,term_from]; "
        "support is paid only inside each named contract's support windows",
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
            _add(out, dataclasses.replace(chosen, series=name or column, _cache={}))
        elif isinstance(loaded, dict):
            for series in loaded.values():
                _add(out, series)
        else:
            _add(out, dataclasses.replace(loaded, series=name or "dam", _cache={}))
    return out


def _add(out: dict[str, Any], series: Any) -> None:
    """Two files for one series are merged into one (or refused when they disagree)."""
    from settlement.prices import merge_series

    have = out.get(series.series)
    out[series.series] = series if have is None else merge_series(have, series)


def _settle(args: argparse.Namespace) -> int:
    from settlement.contracts import load_contracts
    from settlement.engine import settle_month
    from settlement.ledger import read_lines, unique_lines
    from settlement.meters import read_meters
    from settlement.price_io import read_profile
    from settlement.rates import read_cpi, read_fx

    contracts = load_contracts(args.contracts)
    zones = {c.market_tz for c in contracts if c.market_tz}
    tz = args.tz or (zones.pop() if len(zones) == 1 else MARKET_TZ)
    prices = _load_prices(args.prices)
    meters = read_meters(args.meters)
    profiles = {}
    for spec in args.profile:
        name, _, rest = spec.partition("=")
        path, _, column = rest.partition(":") if ":" in rest[2:] else (rest, "", "")
        profiles[name] = read_profile(path, column or None, name)
    # The same line in two files (a file passed twice) counts once.
    posted = unique_lines([line for path in args.posted for line in read_lines(path)], "--posted")
    guarantees = None
    if args.guarantees:
        from settlement.guarantee_io import check_contract_producers, read_ledger
        from settlement.guarantees import benefited

        ledger = read_ledger(args.guarantees)
        producers = {c.contract_id: c.producer for c in contracts}
        check_contract_producers(ledger, producers, args.month, args.guarantees)
        guarantees = benefited(ledger.batches.values(), ledger.holdings, args.month)
    windows = None
    if args.status:
        from settlement.lifecycle import read_status

        windows = read_status(args.status, contracts)
    result = settle_month(
        contracts,
        prices,
        meters,
        args.month,
        tz=tz,
        posted_lines=posted,
        fx_rates=read_fx(args.fx) if args.fx else None,
        cpi=read_cpi(args.cpi) if args.cpi else None,
        profiles=profiles,
        guarantees=guarantees,
        support_windows=windows,
    )
    try:
        lines_path, statements_path = result.write(args.out)
    except OSError as exc:
        raise InputError(Problem(args.out, None, "--out", f"cannot write: {exc}")) from exc
    print(
        f"settlement {args.month} ({tz}): {len(result.lines)} line(s) posted, "
        f"{len(result.statements)} statement(s)"
    )
    for st in result.statements:
        print(
            f"  {st.producer:<24} {st.currency}  to producer {st.paid_to_producer:>14}  "
            f"by producer {st.paid_by_producer:>14}  reductions {st.reductions:>12}  "
            f"net {st.net:>14}"
        )
    if not result.lines:
        print("  nothing to post: the period is already settled on these inputs")
    print(f"wrote {statements_path} and {lines_path}")
    return 0


def _monthly(args: argparse.Namespace) -> int:
    from settlement.price_io import read_profile
    from settlement.prices import read_prices
    from settlement.reference import monthly_reference_table

    loaded = read_prices(args.prices, series=args.series or "dam")
    if isinstance(loaded, dict):
        name = args.series or ("DE_LU" if "DE_LU" in loaded else sorted(loaded)[0])
        if name not in loaded:
            raise InputError(f"{args.prices}: no series {name!r}; have {sorted(loaded)}")
        loaded = loaded[name]
    weights = read_profile(args.weights, args.weights_column) if args.weights else None
    table = monthly_reference_table(loaded, args.tz, weights)
    basis = f"weighted by {weights.name}" if weights else "baseload"
    rows: list[list[Any]] = [
        ["month", "reference_price", "intervals", "missing", "basis", "series"]
    ]
    print(f"{'month':<8} {'reference_price':>15}  intervals  ({basis}, {args.tz})")
    for month, price, count, missing in table:
        rows.append([month, "" if price is None else price, count, missing, basis, loaded.series])
        shown = "not computed: " + missing if price is None else f"{price:>15}  {count:>9}"
        print(f"{month:<8} {shown}")
    write_csv_atomically(Path(args.out), rows)
    print(f"wrote {args.out}")
    incomplete = [month for month, price, _, _ in table if price is None]
    if incomplete:
        print(
            f"error: {len(incomplete)} month(s) could not be computed: {', '.join(incomplete)}",
            file=sys.stderr,
        )
        return 1
    return 0


def write_csv_atomically(path: Path, rows: list[list[Any]]) -> None:
    from settlement.ledger import write_atomically

    try:
        write_atomically({path: rows})
    except OSError as exc:
        raise InputError(Problem(str(path), None, "--out", f"cannot write: {exc}")) from exc
