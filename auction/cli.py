"""`mzekari auction clear|curve`."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("auction", help="clear auction rounds")
    commands = parser.add_subparsers(dest="auction_command", metavar="COMMAND")
    clear_parser = commands.add_parser("clear", help="clear a round")
    clear_parser.add_argument("round")
    clear_parser.add_argument("bids")
    clear_parser.add_argument("--out", required=True)
    clear_parser.add_argument("--rule", default=None)
    clear_parser.set_defaults(handler=_not_ready)


def _not_ready(args: argparse.Namespace) -> int:
    raise NotImplementedError
