"""The anchors' merit-order rules, for comparison with the optimiser on the same round.

Bids are taken in merit order (`Instance.rank_key`: preference-adjusted price, smaller capacity
first, then the lot). Every rule respects ceilings, alternatives, bidder caps, grid nodes and
the budget; they differ at the marginal bid:

- `germany` (EEG § 32): the bid that crosses a technology's volume (or the round's total) is
  awarded in full, overshooting it; once a volume is reached further bids are rejected. The
  first bid that would breach the budget ends the round (Germany has no budget; its award ends
  when the volume is exhausted).
- `uk_skip` (CfD since 2015): a bid that would breach the budget or a volume is skipped and the
  next ones are tried; a partial bid gets the largest capacity that still fits.
- `stop_at_breach` (CaCoCa): like `uk_skip` for volumes, but the first bid that would breach
  the budget ends the round.

Stages: the innovation ring-fence (innovative bids only, within the fenced budget) first, then
technology minimum volumes (bids of that technology until its minimum is reached), then all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .instance import Instance, ScaledBid
from .ledger import Ledger

RULES = ("germany", "uk_skip", "stop_at_breach")


@dataclass
class MeritOutcome:
    ledger: Ledger
    reasons: dict[str, str] = field(default_factory=dict)  # bid_id → rejection reason
    stage: dict[str, str] = field(default_factory=dict)  # bid_id → stage of the award
    stopped: bool = False


def _pass(
    inst: Instance,
    rule: str,
    out: MeritOutcome,
    ranked: list[ScaledBid],
    budget_mc: int | None,
    stage: str,
    goal_kw: dict[str, int] | None = None,
) -> None:
    ledger = out.ledger
    for b in ranked:
        if out.stopped:
            return
        if b.bid_id in ledger.awarded:
            continue
        if goal_kw is not None and ledger.by_tech[b.technology] >= goal_kw[b.technology]:
            continue
        if b.bid.alternative_group in ledger.groups:
            out.reasons[b.bid_id] = "alternative_chosen"
            continue
        room, reason = b.capacity_kw, ""
        for limit_reason, limit_room in ledger.rooms(b):
            overshoot = rule == "germany" and limit_reason == "target_met" and limit_room > 0
            if limit_room < room and not overshoot:
                room, reason = max(limit_room, 0), limit_reason
        if goal_kw is not None:
            room = min(room, max(goal_kw[b.technology] - ledger.by_tech[b.technology], b.min_kw))
        if room < b.min_kw:
            partial_room = room > 0 and b.min_kw < b.capacity_kw
            out.reasons[b.bid_id] = "below_minimum" if partial_room else reason or "target_met"
            continue
        awarded = ledger.largest_fit(b, room, budget_mc)
        if awarded == 0:
            out.reasons[b.bid_id] = "budget"
            if rule in ("germany", "stop_at_breach"):
                out.stopped = True
            continue
        ledger.add(b, awarded)
        out.reasons.pop(b.bid_id, None)
        out.stage[b.bid_id] = stage


def merit_clear(inst: Instance, rule: str) -> MeritOutcome:
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; known: {RULES}")
    out = MeritOutcome(Ledger(inst))
    ranked = sorted(inst.admissible, key=inst.rank_key)
    if inst.fence_mc > 0:
        fenced = [b for b in ranked if b.bid.innovative]
        _pass(inst, rule, out, fenced, inst.fence_mc, "ring_fence")
        out.stopped = False  # the fence ending does not end the round
    minimums = {t: v for t, v in inst.tech_min_kw.items() if v > 0}
    if minimums:
        goal = {t: minimums.get(t, 0) for t in inst.tech_min_kw}
        _pass(
            inst,
            rule,
            out,
            [b for b in ranked if b.technology in minimums],
            inst.budget_mc,
            "minimum",
            goal,
        )
    _pass(inst, rule, out, ranked, inst.budget_mc, "")
    for b in ranked:
        if b.bid_id not in out.ledger.awarded and b.bid_id not in out.reasons:
            out.reasons[b.bid_id] = "not_reached"
    return out
