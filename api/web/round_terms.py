"""A round's rules and a rejected bid's limit, in words of the page's language with units.

Read from the round definition as stored (the engine's own parsed spec); nothing here decides
anything, it only says what the round says.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.web.format import grouped
from api.web.i18n import N_, _

PRICING_RULES = {
    "pay_as_bid": N_("pay as bid: each accepted bid is paid its own price"),
    "pay_as_clear": N_(
        "pay as clear: one price per technology group, the highest accepted bid, "
        "capped by the ceiling"
    ),
    "median": N_(
        "median: per technology, the lower median of the accepted prices, capped by the ceiling"
    ),
}
METHODS = {
    "optimiser": N_(
        "The exact optimiser (CP-SAT): the set of bids that buys the most "
        "preference-weighted energy within every limit and the budget."
    ),
    "germany": N_(
        "Germany (EEG § 32): bids in merit order; the bid that crosses a volume is "
        "awarded in full, overshooting it; the first bid that would breach the budget ends the "
        "round."
    ),
    "uk_skip": N_(
        "UK skip (CfD since 2015): bids in merit order; a bid that would breach the "
        "budget or a volume is skipped and the next ones are tried; a partial bid gets the largest "
        "capacity that still fits."
    ),
    "stop_at_breach": N_(
        "Stop at breach: like UK skip for volumes, but the first bid that would "
        "breach the budget ends the round."
    ),
}

# The engine's rejection reasons (auction.REJECTION_REASONS, same English words) for the
# catalogue; a test keeps the two identical.
REASONS = {
    "inadmissible": N_("the bid's claimed capacity factor is above the round's plausibility limit"),
    "not_small_plant": N_("the round admits only plants below its small-plant threshold"),
    "above_ceiling": N_("the price is above the technology's ceiling price"),
    "alternative_chosen": N_("another alternative of the same project was accepted"),
    "bidder_cap": N_("accepting it would exceed the cap per bidder"),
    "grid_node_full": N_("its grid node has no room left for it"),
    "target_met": N_("its technology's (or the round's) volume limit is reached"),
    "budget": N_("it does not fit in the budget that remains"),
    "below_minimum": N_("the room left is below the bid's minimum capacity"),
    "not_selected": N_("it fits every limit alone but the selected set buys more preferred energy"),
    "not_reached": N_("the merit-order rule stopped before reaching it"),
    "infeasible": N_("the round has no feasible award (e.g. a minimum volume cannot be met)"),
}


def reason_text(reason: str | None) -> str:
    return _(REASONS[reason]) if reason in REASONS else (reason or "")


def method_text(method: str) -> str:
    return _(METHODS[method]) if method in METHODS else method


def _money(value: Any, currency: str, per_mwh: bool = False) -> str:
    unit = f"{currency}/MWh" if per_mwh else currency
    return f"{grouped(Decimal(str(value)), 2)} {unit}"


def _mw(value: Any) -> str:
    return f"{grouped(Decimal(str(value)).normalize())} MW"


def budget_valuation(spec: dict[str, Any]) -> str:
    budget = spec.get("budget")
    cur = spec["currency"]
    if not budget:
        return _("No budget: the round is limited by its volumes only.")
    years = int(budget.get("years", 1))
    if budget.get("reference_prices"):
        reference = ", ".join(_money(p, cur, True) for p in budget["reference_prices"])
    else:
        reference = _money(budget.get("reference_price") or 0, cur, True)
    text = _(
        "A bid paid p per MWh uses (p − reference price) × its annual energy, for each of "
        "{years} counted year(s); reference price: {reference}."
    ).format(years=years, reference=reference)
    rate = Decimal(str(budget.get("discount_rate", 0)))
    if rate:
        text += " " + _("Each year is discounted at {rate} %.").format(
            rate=grouped((rate * 100).normalize())
        )
    if budget.get("below_reference", "zero") == "zero":
        text += " " + _("A price below the reference counts as zero, not as a saving.")
    else:
        text += " " + _("A price below the reference counts as a saving (negative use).")
    return text


def rules(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(term, what the round says) for the round's page."""
    cur = spec["currency"]
    out: list[tuple[str, str]] = [(_("Currency"), cur)]
    budget = spec.get("budget")
    if budget:
        out.append((_("Budget"), _money(budget["amount"], cur)))
    out.append((_("How budget use is valued"), budget_valuation(spec)))
    pricing = (spec.get("pricing") or {}).get("rule", "pay_as_bid")
    out.append((_("Pricing rule"), _(PRICING_RULES.get(pricing, pricing))))
    innovation = spec.get("innovation") or {}
    bonus = Decimal(str(innovation.get("bonus", 0)))
    if bonus:
        out.append(
            (
                _("Innovation bonus"),
                _("an innovative bid's energy counts {share} % more").format(
                    share=grouped((bonus * 100).normalize())
                ),
            )
        )
    fence = Decimal(str(innovation.get("ring_fence_share", 0)))
    if fence:
        out.append(
            (
                _("Ring-fenced for innovative bids"),
                _("{share} % of the budget").format(share=grouped((fence * 100).normalize())),
            )
        )
    if spec.get("bidder_cap_mw") is not None:
        out.append((_("Cap per bidder"), _mw(spec["bidder_cap_mw"])))
    if spec.get("max_total_mw") is not None:
        out.append((_("Round volume"), _mw(spec["max_total_mw"])))
    if spec.get("small_plant_threshold_mw") is not None:
        out.append((_("Small plants only: below"), _mw(spec["small_plant_threshold_mw"])))
    for node, room in sorted((spec.get("grid_nodes") or {}).items()):
        out.append((_("Grid node {node}").format(node=node), _mw(room)))
    out.append(
        (
            _("Deadline"),
            _(
                "Bids are accepted while the round is open, until the operator closes it; "
                "the round definition sets no fixed time."
            ),
        )
    )
    return out


def technology(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next((t for t in spec["technologies"] if t["name"] == name), {})


def rejection_limit(
    spec: dict[str, Any],
    payload: dict[str, Any] | None,
    reason: str,
    budget_used: Any = None,
) -> str:
    """The specific limit a rejected bid met, e.g. `hydro ceiling 90.00 GEL/MWh`."""
    cur = spec["currency"]
    if payload is None:
        return "—"
    tech = technology(spec, payload["technology"])
    if reason == "above_ceiling" and tech.get("ceiling_price") is not None:
        return _("{technology} ceiling {ceiling}").format(
            technology=payload["technology"], ceiling=_money(tech["ceiling_price"], cur, True)
        )
    if reason == "target_met":
        if tech.get("max_mw") is not None:
            return _("{technology} volume {volume}").format(
                technology=payload["technology"], volume=_mw(tech["max_mw"])
            )
        if spec.get("max_total_mw") is not None:
            return _("round volume {volume}").format(volume=_mw(spec["max_total_mw"]))
    if reason == "bidder_cap" and spec.get("bidder_cap_mw") is not None:
        return _("cap per bidder {cap}").format(cap=_mw(spec["bidder_cap_mw"]))
    if reason == "grid_node_full" and payload.get("grid_node"):
        room = (spec.get("grid_nodes") or {}).get(payload["grid_node"])
        if room is not None:
            return _("node {node}: {room}").format(node=payload["grid_node"], room=_mw(room))
    if reason == "not_small_plant" and spec.get("small_plant_threshold_mw") is not None:
        return _("below {threshold}").format(threshold=_mw(spec["small_plant_threshold_mw"]))
    if reason == "below_minimum" and payload.get("min_capacity_mw") is not None:
        return _("bid's minimum {minimum}").format(minimum=_mw(payload["min_capacity_mw"]))
    if reason == "inadmissible" and tech.get("max_capacity_factor") is not None:
        return _("capacity factor limit {limit} %").format(
            limit=grouped((Decimal(str(tech["max_capacity_factor"])) * 100).normalize())
        )
    if reason == "budget" and spec.get("budget"):
        amount = Decimal(str(spec["budget"]["amount"]))
        if budget_used is None:
            return _("budget {budget}").format(budget=_money(amount, cur))
        return _("budget {budget}, of which {left} left by the accepted bids").format(
            budget=_money(amount, cur), left=_money(amount - Decimal(str(budget_used)), cur)
        )
    return "—"
