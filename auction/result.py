"""What a clearing produces: one award line per bid and a summary of the round."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

# Reasons a bid is rejected, in the order they are checked (published with every result).
REJECTION_REASONS = {
    "inadmissible": "the bid's claimed capacity factor is above the round's plausibility limit",
    "not_small_plant": "the round admits only plants below its small-plant threshold",
    "above_ceiling": "the price is above the technology's ceiling price",
    "alternative_chosen": "another alternative of the same project was accepted",
    "bidder_cap": "accepting it would exceed the cap per bidder",
    "grid_node_full": "its grid node has no room left for it",
    "target_met": "its technology's (or the round's) volume limit is reached",
    "budget": "it does not fit in the budget that remains",
    "below_minimum": "the room left is below the bid's minimum capacity",
    "not_selected": "it fits every limit alone but the selected set buys more preferred energy",
    "not_reached": "the merit-order rule stopped before reaching it",
    "infeasible": "the round has no feasible award (e.g. a minimum volume cannot be met)",
}


@dataclass(frozen=True)
class Award:
    bid_id: str
    bidder: str
    technology: str
    accepted: bool
    awarded_capacity_mw: Decimal
    awarded_annual_mwh: Decimal
    price_paid: Decimal | None
    budget_used: Decimal
    reason: str
    explanation: str = ""
    stage: str = ""  # "ring_fence" for awards made from the innovation ring-fence
    bid_price: Decimal | None = None  # the bid's own price
    sets_price: bool = False  # its price is its unit's uniform or median clearing price

    def row(self) -> dict[str, str]:
        return {
            "bid_id": self.bid_id,
            "bidder": self.bidder,
            "technology": self.technology,
            "accepted": "true" if self.accepted else "false",
            "awarded_capacity_mw": str(self.awarded_capacity_mw),
            "awarded_annual_mwh": str(self.awarded_annual_mwh),
            "bid_price": "" if self.bid_price is None else str(self.bid_price),
            "price_paid": "" if self.price_paid is None else str(self.price_paid),
            "sets_price": "true" if self.sets_price else "false",
            "budget_used": str(self.budget_used),
            "reason": self.reason,
            "stage": self.stage,
            "explanation": self.explanation,
        }


AWARD_COLUMNS = list(Award("", "", "", False, Decimal(0), Decimal(0), None, Decimal(0), "").row())


@dataclass
class ClearingResult:
    round_id: str
    rule: str  # "optimiser" or a merit-order rule name
    pricing_rule: str
    currency: str
    status: str
    proven_optimal: bool
    objective: Decimal | None  # preference-weighted annual energy, MWh
    bound: Decimal | None
    gap: Decimal | None
    awards: list[Award]
    budget: Decimal | None = None
    clearing_prices: dict[str, Decimal] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    tie_break: str = ""
    notes: list[str] = field(default_factory=list)
    weight_scale: int = 10_000  # preference weights are counted in 1/weight_scale

    @property
    def accepted(self) -> list[Award]:
        return [a for a in self.awards if a.accepted]

    @property
    def budget_used(self) -> Decimal:
        return sum((a.budget_used for a in self.accepted), Decimal(0))

    @property
    def energy_mwh(self) -> Decimal:
        return sum((a.awarded_annual_mwh for a in self.accepted), Decimal(0))

    @property
    def capacity_mw(self) -> Decimal:
        return sum((a.awarded_capacity_mw for a in self.accepted), Decimal(0))

    def by_technology(self) -> dict[str, dict[str, str]]:
        totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
        for a in self.awards:
            t = totals[a.technology]
            if a.accepted:
                totals[a.technology] = [
                    t[0] + a.awarded_capacity_mw,
                    t[1] + a.awarded_annual_mwh,
                    t[2] + a.budget_used,
                ]
        return {
            tech: {"capacity_mw": str(c), "energy_mwh": str(e), "budget_used": str(b)}
            for tech, (c, e, b) in sorted(totals.items())
        }

    def summary(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        reasons: dict[str, int] = defaultdict(int)
        for a in self.awards:
            reasons[a.reason] += 1
        return {
            "round_id": self.round_id,
            "rule": self.rule,
            "pricing_rule": self.pricing_rule,
            "status": self.status,
            "proven_optimal": self.proven_optimal,
            "objective": text(self.objective),
            "objective_meaning": "preference-weighted annual energy, MWh",
            "weight_scale": self.weight_scale,
            "bound": text(self.bound),
            "gap": text(self.gap),
            "currency": self.currency,
            "budget": text(self.budget),
            "budget_used": str(self.budget_used),
            "energy_mwh": str(self.energy_mwh),
            "capacity_mw": str(self.capacity_mw),
            "accepted_bids": len(self.accepted),
            "rejected_bids": len(self.awards) - len(self.accepted),
            "reasons": dict(sorted(reasons.items())),
            "by_technology": self.by_technology(),
            "clearing_prices": {k: str(v) for k, v in sorted(self.clearing_prices.items())},
            "solver": self.solver,
            "tie_break": self.tie_break,
            "notes": self.notes,
        }

    def awards_rows(self) -> list[dict[str, str]]:
        return [a.row() for a in self.awards]

    def write(self, out_dir: Path | str) -> None:
        """awards.csv and summary.json, each written whole or not at all (temporary file,
        then renamed), summary last."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        awards = io.StringIO()
        writer = csv.DictWriter(awards, fieldnames=AWARD_COLUMNS)
        writer.writeheader()
        writer.writerows(self.awards_rows())
        _atomic_write(out / "awards.csv", awards.getvalue())
        summary = json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n"
        _atomic_write(out / "summary.json", summary)


OUTPUT_FILES = ("awards.csv", "summary.json")


def remove_outputs(out_dir: Path | str) -> None:
    """Remove a previous run's outputs, so a refused run leaves no awards behind."""
    for name in OUTPUT_FILES:
        (Path(out_dir) / name).unlink(missing_ok=True)


def _atomic_write(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
