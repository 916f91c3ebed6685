"""`mzekari forecast`: run a treasury forecast from a contract file and a TOML config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

PATH_KEYS = ("price_history", "hourly_history", "price_paths")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forecast",
        help="forecast support cost, its spread and the reserve it needs",
        description="Forecast monthly and annual support cost (expected, P5/P50/P95), payments "
        "out and paybacks in, the reserve at a stated probability, headroom against the "
        "auction budget and sensitivity to prices ±10 %. Writes CSV, PNG and HTML.",
    )
    parser.add_argument(
        "contracts", type=Path, help="contract file (CSV/JSON, as settlement reads)"
    )
    parser.add_argument("--config", type=Path, help="forecast config (TOML; paths relative to it)")
    parser.add_argument("--out", type=Path, default=Path("out/forecast"), help="output directory")
    parser.add_argument("--start-month", help="first month, YYYY-MM")
    parser.add_argument("--months", type=int, help="horizon in months")
    parser.add_argument("--scenarios", type=int, help="number of stochastic scenarios")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--budget", help="annual auction budget (currency per year)")
    parser.add_argument(
        "--round", type=Path, help="add the bids of a round being decided: round TOML"
    )
    parser.add_argument("--bids", type=Path, help="... and its bids CSV (with --round)")
    parser.add_argument(
        "--dask-workers",
        type=int,
        default=0,
        help="run on a local Dask cluster with this many worker processes",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_handle)


def load_config_file(path: Path | None) -> dict[str, Any]:
    """TOML settings with data paths made relative to the TOML file."""
    import tomllib

    if path is None:
        return {}
    from mzekari.errors import InputError

    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read the forecast config: {exc}") from exc
    for key in PATH_KEYS:
        if isinstance(values.get(key), str):
            values[key] = (path.parent / values[key]).resolve()
    return values


def _handle(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from tqdm import tqdm

    from mzekari.errors import InputError, Problem
    from settlement import load_contracts
    from treasury import ForecastConfig, contracts_from_bids, run_forecast

    values = load_config_file(args.config)
    overrides = {
        "start_month": args.start_month,
        "months": args.months,
        "scenarios": args.scenarios,
        "seed": args.seed,
        "auction_budget": args.budget,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        config = ForecastConfig(**values)
    except ValidationError as exc:
        source = str(args.config or "forecast options")
        raise InputError(
            [
                Problem(source, None, ".".join(str(p) for p in e["loc"]) or None, e["msg"])
                for e in exc.errors()
            ]
        ) from exc
    contracts = load_contracts(args.contracts)
    if args.round is not None:
        if args.bids is None:
            raise InputError("--round needs --bids")
        from auction import load_round, read_bids

        spec = load_round(args.round)
        contracts += contracts_from_bids(spec, read_bids(args.bids, spec), currency=config.currency)
    bar = (
        None if args.no_progress else tqdm(total=config.scenarios, unit="scenario", desc="forecast")
    )

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    client = cluster = None
    if args.dask_workers > 0:
        from treasury.cluster import local_cluster

        cluster, client = local_cluster(args.dask_workers)
    try:
        result = run_forecast(contracts, config, progress=progress, dask_client=client)
    finally:
        if bar is not None:
            bar.close()
        if client is not None:
            client.close()
            cluster.close()  # type: ignore[union-attr]
    written = result.write(args.out)
    annual = result.annual
    print(
        f"{result.scenarios} scenarios × {result.contracts} contracts × {config.months} months "
        f"in {result.runtime_s:.1f} s ({config.currency}, positive = paid to producers)"
    )
    for row in annual.itertuples():
        line = (
            f"  {row.year}: expected {row.expected:,.0f}  P5 {row.p5:,.0f}  P95 {row.p95:,.0f}  "
            f"reserve@{config.reserve_probability:.0%} {row.reserve:,.0f}"
        )
        if "headroom_expected" in annual:
            line += f"  headroom {row.headroom_expected:,.0f}"
        print(line)
    for note in result.notes:
        print(f"  note: {note}")
    for path in written:
        print(f"wrote {path}")
    return 0
