"""Entry point: clear a round with the optimiser or with a merit-order rule."""

from __future__ import annotations

from collections.abc import Sequence

from .bids import Bid
from .result import ClearingResult
from .round import RoundSpec

# Merit-order rules of the anchor schemes, selectable for comparison with the optimiser.
RULES = ("germany", "uk_skip", "stop_at_breach")


def clear(round_spec: RoundSpec, bids: Sequence[Bid], rule: str | None = None) -> ClearingResult:
    raise NotImplementedError("clearing engine under construction")
