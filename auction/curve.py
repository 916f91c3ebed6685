"""Budget curve: what each budget buys under the optimiser and under a merit-order rule."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .bids import Bid
from .round import RoundSpec


def budget_curve(
    round_spec: RoundSpec, bids: Sequence[Bid], budgets: Sequence[Decimal], rule: str = "uk_skip"
) -> list[dict[str, Any]]:
    raise NotImplementedError("budget curve under construction")
