"""The `mzekari` command. Each package adds its subcommands through `register(subparsers)`.

Handlers import their heavy dependencies lazily so `mzekari --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from mzekari import __version__
from mzekari.errors import InputError, MzekariError

# Modules that contribute subcommands, in the order they appear in --help.
COMMAND_MODULES = ("auction.cli", "settlement.cli", "treasury.cli", "api.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mzekari",
        description="Renewable-energy support auctions, settlement and cost forecasts.",
    )
    parser.add_argument("--version", action="version", version=f"mzekari {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except BrokenPipeError:
        # The reader (`| head`) went away: not an error of ours. Silence the final flush.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MzekariError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
