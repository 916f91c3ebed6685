"""Budget-limited renewable-energy auction clearing (Georgia, Law No. 5652-RS).

from auction import load_round, read_bids, clear, validate_result
spec = load_round("scenarios/georgia_2023/round.toml")
bids = read_bids("scenarios/georgia_2023/bids.csv", spec)
result = clear(spec, bids)              # exact optimiser (CP-SAT)
result = clear(spec, bids, "uk_skip")   # or a merit-order rule from RULES
assert validate_result(spec, bids, result) == []
"""

from typing import TYPE_CHECKING, Any

from .bids import Bid, read_bids, read_bids_text
from .curve import budget_curve
from .merit import RULES
from .result import REJECTION_REASONS, Award, ClearingResult
from .round import RoundSpec, load_round, parse_round, read_round_text
from .validate import validate_result

if TYPE_CHECKING:
    from .clearing import clear


def __getattr__(name: str) -> Any:
    # OR-Tools loads only when a clearing runs, so `mzekari --help` stays fast.
    if name == "clear":
        from .clearing import clear

        return clear
    raise AttributeError(f"module 'auction' has no attribute {name!r}")


__all__ = [
    "REJECTION_REASONS",
    "RULES",
    "Award",
    "Bid",
    "ClearingResult",
    "RoundSpec",
    "budget_curve",
    "clear",
    "load_round",
    "parse_round",
    "read_bids",
    "read_bids_text",
    "read_round_text",
    "validate_result",
]
