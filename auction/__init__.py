"""Budget-limited renewable-energy auction clearing (Georgia, Law No. 5652-RS).

    from auction import load_round, read_bids, clear, validate_result
    spec = load_round("scenarios/georgia_2023/round.toml")
    bids = read_bids("scenarios/georgia_2023/bids.csv", spec)
    result = clear(spec, bids)              # exact optimiser (CP-SAT)
    result = clear(spec, bids, "uk_skip")   # or a merit-order rule from RULES
    assert validate_result(spec, bids, result) == []
"""

from .bids import Bid, read_bids, read_bids_text
from .clearing import RULES, clear
from .curve import budget_curve
from .result import REJECTION_REASONS, Award, ClearingResult
from .round import RoundSpec, load_round, parse_round
from .validate import validate_result

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
    "validate_result",
]
