"""Solver-independent check of a clearing result."""

from __future__ import annotations

from collections.abc import Sequence

from .bids import Bid
from .result import ClearingResult
from .round import RoundSpec


def validate_result(round_spec: RoundSpec, bids: Sequence[Bid], result: ClearingResult) -> list[str]:
    raise NotImplementedError("validator under construction")
