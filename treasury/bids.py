"""Hypothetical contracts for the bids of a round being decided, so a budget's commitment shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def contracts_from_bids(
    round_spec: Any, bids: Sequence[Any], clearing_result: Any = None
) -> list[Any]:
    """One settlement.Contract per bid (or per accepted award if `clearing_result` is given)."""
    raise NotImplementedError("lands with the settlement contract model")
