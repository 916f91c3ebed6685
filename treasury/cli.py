"""`mzekari forecast`: run a treasury forecast from a contract file and a scenario config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forecast",
        help="forecast support cost, its spread and the reserve it needs",
        description="Forecast monthly and annual support cost (expected, P5/P50/P95), payments "
        "and paybacks, the reserve at a stated probability and headroom against the budget.",
    )
    parser.add_argument("contracts", type=Path, help="contract file (as settlement reads it)")
    parser.add_argument("--config", type=Path, help="forecast config (TOML)")
    parser.add_argument("--out", type=Path, default=Path("out/forecast"), help="output directory")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    raise NotImplementedError
