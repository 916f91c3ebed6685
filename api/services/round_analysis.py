"""What the optimiser and each merit-order rule buy from a round's bids, computed once when
the round is cleared and stored with it (pages read it; nothing re-solves on a page view).

The analysis holds, at the round's budget, one row per method (optimiser, then `auction.RULES`):
status, energy, capacity, budget used, energy-weighted average price and the accepted bids;
and the budget curve: the same figures at each share of the budget in `CURVE_SHARES`.

Reproducible: no timings are stored, rows are in a fixed order, and every optimiser solve gets
a fixed time limit (a share of the round's), so the same round and bids give the same analysis
whenever each solve is proven optimal (each row says whether it was).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from api.canonical import canonical_json, sha256_hex

VERSION = 1
# The published budget fractions of the curve (1 is the round's own budget).
CURVE_SHARES = (
    Decimal("0.25"),
    Decimal("0.5"),
    Decimal("0.75"),
    Decimal("1"),
    Decimal("1.25"),
    Decimal("1.5"),
)
CENT = Decimal("0.01")
MILLISECOND = Decimal("0.001")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _average_price(result: Any) -> Decimal | None:
    """Energy-weighted price paid per MWh, half-up to the cent."""
    energy = result.energy_mwh
    if not energy:
        return None
    paid = sum(
        (a.price_paid * a.awarded_annual_mwh for a in result.accepted if a.price_paid), Decimal(0)
    )
    return (paid / energy).quantize(CENT, rounding=ROUND_HALF_UP)


def _over_volume(spec: Any, result: Any) -> list[str]:
    """Volumes an award exceeds (the `germany` rule awards the crossing bid in full)."""
    by_tech: dict[str, Decimal] = {}
    for award in result.accepted:
        by_tech[award.technology] = (
            by_tech.get(award.technology, Decimal(0)) + award.awarded_capacity_mw
        )
    over = [
        f"{t.name}: {by_tech[t.name]} MW of at most {t.max_mw} MW"
        for t in spec.technologies
        if t.max_mw is not None and by_tech.get(t.name, Decimal(0)) > t.max_mw
    ]
    total = sum(by_tech.values(), Decimal(0))
    if spec.max_total_mw is not None and total > spec.max_total_mw:
        over.append(f"round: {total} MW of at most {spec.max_total_mw} MW")
    return over


def method_row(spec: Any, result: Any, *, with_bids: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "method": result.rule,
        "status": result.status,
        "proven_optimal": result.proven_optimal,
        "objective": _text(result.objective),
        "energy_mwh": _text(result.energy_mwh),
        "capacity_mw": _text(result.capacity_mw),
        "budget_used": _text(result.budget_used),
        "average_price": _text(_average_price(result)),
        "accepted_bids": len(result.accepted),
        "over_volume": _over_volume(spec, result),
    }
    if with_bids:
        row["accepted"] = sorted(a.bid_id for a in result.accepted)
    return row


def curve_budget(spec: Any, share: Decimal) -> Decimal:
    """A share of the round's budget, to the cent (the engine refuses finer budgets)."""
    if share == 1:
        return Decimal(spec.budget.amount)
    return (spec.budget.amount * share).quantize(CENT, rounding=ROUND_HALF_UP)


def _with_budget(spec: Any, amount: Decimal) -> Any:
    return spec.model_copy(update={"budget": spec.budget.model_copy(update={"amount": amount})})


def solve_time_limit(spec: Any) -> Decimal:
    """Each optimiser solve of the analysis gets an equal share of the round's time limit, one
    per point of the curve, so the analysis takes at most one more time limit than the
    clearing. The share depends on the round only (reproducible, whether or not the clearing
    is reused at the round's budget)."""
    points = len(CURVE_SHARES) if spec.budget is not None else 1
    share = (Decimal(spec.time_limit_s) / points).quantize(MILLISECOND, ROUND_DOWN)
    return max(share, MILLISECOND)


def analyse(spec: Any, bids: Sequence[Any], cleared: Any | None = None) -> dict[str, Any]:
    """The analysis of a round. `cleared` is the round's own clearing result: when it is the
    optimiser's, it is reused at the round's budget rather than solved again."""
    from auction import RULES, clear

    optimiser = cleared if cleared is not None and cleared.rule == "optimiser" else None
    shares = [s for s in CURVE_SHARES if s != 1] if spec.budget is not None else []
    limit = solve_time_limit(spec)
    limited = spec.model_copy(update={"time_limit_s": limit})
    if optimiser is None:
        optimiser = clear(limited, bids)
    results = {Decimal(1): [optimiser, *(clear(spec, bids, rule) for rule in RULES)]}
    for share in shares:
        at = _with_budget(limited, curve_budget(spec, share))
        results[share] = [clear(at, bids), *(clear(at, bids, rule) for rule in RULES)]
    curve = []
    for share in sorted(results) if spec.budget is not None else []:
        for result in results[share]:
            curve.append(
                {
                    "share": _text(share.normalize()),
                    "budget": _text(curve_budget(spec, share)),
                    **method_row(spec, result, with_bids=False),
                }
            )
    return {
        "version": VERSION,
        "round_id": spec.round_id,
        "currency": spec.currency,
        "budget": _text(spec.budget.amount) if spec.budget is not None else None,
        "methods": ["optimiser", *RULES],
        "comparison": [method_row(spec, r, with_bids=True) for r in results[Decimal(1)]],
        "curve_shares": [_text(s.normalize()) for s in CURVE_SHARES] if shares else [],
        "curve": curve,
        "solve_time_limit_s": _text(limit),
        "round_time_limit_s": _text(Decimal(spec.time_limit_s)),
    }


def analysis_sha256(analysis: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(analysis))
