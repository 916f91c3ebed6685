"""Budget curve: what each budget buys under the optimiser and under a merit-order rule."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mzekari.errors import InputError, Problem

from .bids import Bid
from .round import BudgetSpec, RoundSpec

CURVE_COLUMNS = (
    "budget",
    "method",
    "status",
    "proven_optimal",
    "energy_mwh",
    "capacity_mw",
    "budget_used",
    "average_price",
    "accepted_bids",
)


def with_budget(round_spec: RoundSpec, amount: Decimal) -> RoundSpec:
    """The same round with another budget amount (valuation settings unchanged)."""
    budget = round_spec.budget or BudgetSpec(amount=amount)
    return round_spec.model_copy(update={"budget": budget.model_copy(update={"amount": amount})})


def budget_curve(
    round_spec: RoundSpec, bids: Sequence[Bid], budgets: Sequence[Decimal], rule: str = "uk_skip"
) -> list[dict[str, Any]]:
    """One row per (budget, method): energy, capacity, budget used and energy-weighted price."""
    from .clearing import RULES, clear

    if rule not in RULES:
        raise InputError(Problem("budgets", None, "rule", f"unknown rule {rule!r}; known: {RULES}"))
    bad = [b for b in budgets if b <= 0]
    if bad or not budgets:
        raise InputError(Problem("budgets", None, "budgets", "give one or more positive budgets"))
    rows = []
    for amount in sorted(set(budgets)):
        spec = with_budget(round_spec, amount)
        for method in (None, rule):
            result = clear(spec, bids, method)
            energy = result.energy_mwh
            paid = sum(
                (a.price_paid * a.awarded_annual_mwh for a in result.accepted if a.price_paid),
                Decimal(0),
            )
            average = (paid / energy).quantize(Decimal("0.01")) if energy else None
            rows.append(
                {
                    "budget": amount,
                    "method": method or "optimiser",
                    "status": result.status,
                    "proven_optimal": result.proven_optimal,
                    "energy_mwh": energy,
                    "capacity_mw": result.capacity_mw,
                    "budget_used": result.budget_used,
                    "average_price": average,
                    "accepted_bids": len(result.accepted),
                }
            )
    return rows


def write_curve(rows: list[dict[str, Any]], out_dir: Path, currency: str) -> list[Path]:
    """curve.csv and curve.png (energy bought against budget, one line per method)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out_dir / "curve.csv", out_dir / "curve.png"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CURVE_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row[k] is None else str(row[k]) for k in CURVE_COLUMNS})
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in dict.fromkeys(r["method"] for r in rows):
        points = [r for r in rows if r["method"] == method]
        ax.plot(
            [float(r["budget"]) for r in points],
            [float(r["energy_mwh"]) / 1000 for r in points],
            marker="o",
            label=method,
        )
    ax.set_xlabel(f"budget ({currency})")
    ax.set_ylabel("annual energy bought (GWh)")
    ax.set_title("What each budget buys")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    return [csv_path, png_path]
