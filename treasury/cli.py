"""`mzekari forecast`: run a treasury forecast from a contract file and a TOML config;
`mzekari forecast backtest`: check the price model against the history it is fitted on."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

# Config keys that name files: resolved against the config file's folder, not the caller's.
PATH_KEYS = (
    "price_history",
    "hourly_history",
    "price_paths",
    "realised_prices",
    "realised_meters",
)
BACKTEST = "backtest"
# Config fields the command line sets, and the option that sets each (named in its errors).
OPTIONS = {
    "start_month": "--start-month",
    "months": "--months",
    "scenarios": "--scenarios",
    "seed": "--seed",
    "auction_budget": "--budget",
    "as_of": "--as-of",
}


def _workers(text: str) -> int:
    """Dask worker processes: 0 (none) up to one per CPU core; more only compete for cores."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from exc
    cores = os.cpu_count() or 1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    if value > cores:
        raise argparse.ArgumentTypeError(f"at most {cores} (this machine's CPU cores), got {value}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from exc


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forecast",
        help="forecast support cost, its spread and the reserve it needs",
        description="Forecast monthly and annual support cost (expected, P5/P50/P95), payments "
        "out and paybacks in, the reserve at a stated probability, headroom against the "
        "auction budget and sensitivity to prices ±10 %. Writes CSV, PNG and HTML. "
        "`mzekari forecast backtest [--history FILE]` instead checks the price model on the "
        "history: calibrate to each December, forecast the next 12 months, score the fan.",
    )
    parser.add_argument(
        "contracts",
        type=Path,
        help="contract file (CSV/JSON, as settlement reads), or the word 'backtest'",
    )
    parser.add_argument("--config", type=Path, help="forecast config (TOML; paths relative to it)")
    parser.add_argument("--out", type=Path, default=Path("out/forecast"), help="output directory")
    parser.add_argument("--start-month", help="first month, YYYY-MM")
    parser.add_argument("--months", type=int, help="horizon in months")
    parser.add_argument("--scenarios", type=int, help="number of stochastic scenarios")
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--as-of",
        type=_day,
        help="the date the forecast is made, YYYY-MM-DD (default: first day of the start month)",
    )
    parser.add_argument(
        "--budget", dest="auction_budget", help="annual auction budget (currency per year)"
    )
    parser.add_argument(
        "--round", type=Path, help="add the winners of a round: its round TOML (clears the round)"
    )
    parser.add_argument("--bids", type=Path, help="... and its bids CSV (with --round)")
    parser.add_argument(
        "--all-bids",
        action="store_true",
        help="with --round: take every bid as a winner (a stated hypothetical set)",
    )
    parser.add_argument(
        "--bids-start",
        help="first month of the round's contracts, YYYY-MM (default: the start month)",
    )
    parser.add_argument(
        "--dask-workers",
        type=_workers,
        default=0,
        help="run on a local Dask cluster with this many worker processes (at most one per core)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    group = parser.add_argument_group("backtest (mzekari forecast backtest)")
    group.add_argument(
        "--history", type=Path, help="monthly price history (default: the shipped ESCO prices)"
    )
    group.add_argument(
        "--first-origin",
        type=int,
        help="first December calibrated to (default: three years into the history)",
    )
    parser.set_defaults(handler=_handle)


def load_config_file(path: Path | None) -> dict[str, Any]:
    """TOML settings with data paths made relative to the TOML file."""
    import tomllib

    if path is None:
        return {}
    from mzekari.errors import InputError

    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: the forecast config is not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read the forecast config: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not a TOML forecast config: {exc}") from exc
    for key in PATH_KEYS:
        if isinstance(values.get(key), str):
            values[key] = (path.parent / values[key]).resolve()
    if isinstance(values.get("profiles"), dict):
        values["profiles"] = {
            name: (path.parent / file).resolve() if isinstance(file, str) else file
            for name, file in values["profiles"].items()
        }
    return values


def check_out_dir(out: Path) -> None:
    """An output folder that can be made and written, checked before any work: not a file, no
    file on the way, and a probe file can be written there. The probe and any folders made
    for it are removed again, so a refused run leaves nothing behind."""
    from mzekari.errors import InputError

    existing = next((f for f in (out, *out.parents) if f.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"--out {out}: {existing} is a file, not a folder")
    made = [f for f in (out, *out.parents) if not f.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror})") from exc
    finally:
        for folder in made:  # deepest first
            if folder.is_dir():
                folder.rmdir()


def _config(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from mzekari.errors import InputError
    from treasury import ForecastConfig

    values = load_config_file(args.config)
    overrides = {name: getattr(args, name) for name in OPTIONS}
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ForecastConfig(**values)
    except ValidationError as exc:
        raise InputError([_problem(args, e["loc"], e["msg"]) for e in exc.errors()]) from exc


def _problem(args: argparse.Namespace, location: tuple[int | str, ...], message: str) -> Any:
    """Blame the option that set a field, else the config file (or the options if none)."""
    from mzekari.errors import Problem
    from treasury.config import field_path

    name = str(location[0]) if location else ""
    if name in OPTIONS and getattr(args, name) is not None:
        return Problem("command line", None, OPTIONS[name], message)
    source = str(args.config) if args.config is not None else "forecast options"
    return Problem(source, None, field_path(location) or None, message)


def _round_contracts(args: argparse.Namespace, config: Any) -> tuple[list[Any], dict[str, Any]]:
    """The round's winners (or every bid, with --all-bids) as contracts, and their energy."""
    from auction import load_round, read_bids
    from mzekari.errors import InputError
    from treasury import contracts_from_bids

    if args.bids is None:
        raise InputError("--round needs --bids")
    month = args.bids_start or config.start_month
    try:
        start = date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise InputError(f"--bids-start must be YYYY-MM, got {month!r}") from exc
    spec = load_round(args.round)
    bids = read_bids(args.bids, spec)
    result = None
    if not args.all_bids:
        from auction import clear

        result = clear(spec, bids)
    return contracts_from_bids(spec, bids, result, start=start, currency=config.currency)


def _handle(args: argparse.Namespace) -> int:
    if str(args.contracts) == BACKTEST:
        return _backtest(args)
    from tqdm import tqdm

    from settlement import load_contracts
    from treasury import run_forecast

    check_out_dir(args.out)
    config = _config(args)
    contracts = load_contracts(args.contracts)
    if args.round is not None:
        extra, energy = _round_contracts(args, config)
        contracts += extra
        config = config.model_copy(
            update={"contract_annual_mwh": {**config.contract_annual_mwh, **energy}}
        )
        print(
            f"round {args.round.name}: "
            + (
                f"{len(extra)} bids as a hypothetical set (every bid wins)"
                if args.all_bids
                else f"{len(extra)} winners of the cleared round"
            )
            + f", from {extra[0].start if extra else '-'}, with their own annual energy"
        )
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
    _print_summary(result, config)
    for path in written:
        print(f"wrote {path}")
    return 0


def _print_summary(result: Any, config: Any) -> None:
    annual = result.annual
    print(
        f"{result.scenarios} scenarios × {result.contracts} contracts × {config.months} months "
        f"in {result.runtime_s:.1f} s ({config.currency}, positive = paid to producers), "
        f"as of {result.as_of}"
        + (f", price history to {result.history_end}" if result.history_end else "")
    )
    for warning in result.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
        print(f"  WARNING: {warning}")
    level = f"{config.reserve_probability:.0%}"
    for row in annual.to_dict(orient="records"):
        line = (
            f"  {row['year']}: expected {float(row['expected']):,.0f}"
            f" (±{float(row.get('expected_se', 0)):,.0f})"
            f"  P5 {float(row['p5']):,.0f}  P95 {float(row['p95']):,.0f}"
            f"  reserve@{level} {float(row['reserve']):,.0f}"
            f" (±{float(row.get('reserve_se', 0)):,.0f})"
        )
        if "headroom_reserve" in row:
            line += (
                f"  headroom at the reserve {float(row['headroom_reserve']):,.0f}"
                f" (at the expected cost {float(row['headroom_expected']):,.0f})"
            )
        print(line)
    if result.mode != "exact" and "scenarios_needed" in annual:
        worst = int(annual["scenarios_needed"].max())
        print(
            f"  Monte Carlo: ± is one standard error; the reserve to 1 % (or reserve_precision) "
            f"needs {worst:,} scenarios"
        )
    for note in result.notes:
        print(f"  note: {note}")


def _backtest(args: argparse.Namespace) -> int:
    from treasury.backtest import run_backtest, write_backtest

    check_out_dir(args.out)
    scenarios = args.scenarios or 2000
    if not 1 <= scenarios <= 100_000:
        from mzekari.errors import InputError

        raise InputError(f"--scenarios must be in 1..100000 for a backtest, got {scenarios}")
    report = run_backtest(
        args.history, scenarios=scenarios, seed=args.seed or 0, first_origin=args.first_origin
    )
    for path in write_backtest(report, args.out):
        print(f"wrote {path}")
    print(report.text())
    return 0
