"""`mzekari settle` and `mzekari prices monthly`."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    settle = subparsers.add_parser("settle", help="settle one month of support contracts")
    settle.set_defaults(handler=_settle)


def _settle(args: argparse.Namespace) -> int:
    raise NotImplementedError
