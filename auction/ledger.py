"""Running totals of a set of awards: volumes per limit, clearing prices and budget use.

Used by the merit-order rules (to test whether the next bid fits), to explain why the
optimiser rejected a bid, and to price the final award set under the round's pricing rule.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from .instance import Instance, ScaledBid


class Ledger:
    def __init__(self, inst: Instance):
        self.inst = inst
        self.rule = inst.spec.pricing.rule
        self.awarded: dict[str, int] = {}  # bid_id → kW
        self.by_bidder: dict[str, int] = defaultdict(int)
        self.by_node: dict[str, int] = defaultdict(int)
        self.by_tech: dict[str, int] = defaultdict(int)
        self.total_kw = 0
        self.groups: set[str] = set()  # alternative groups with an award
        self.alternatives: dict[str, str] = {}  # awarded bid_id → its alternative group
        # Pricing units: a technology group (pay_as_clear) or a technology (median);
        # pay_as_bid keeps one running sum.
        self.unit_prices: dict[str, list[int]] = defaultdict(list)  # sorted accepted prices
        self.tech_energy: dict[str, int] = defaultdict(int)  # kWh
        self.bid_use_mc = 0  # pay_as_bid running budget use

    def unit(self, technology: str) -> str:
        return self.inst.group_of[technology] if self.rule == "pay_as_clear" else technology

    def add(self, b: ScaledBid, awarded_kw: int) -> None:
        self.awarded[b.bid_id] = awarded_kw
        bid = b.bid
        self.by_bidder[bid.bidder] += awarded_kw
        if bid.grid_node:
            self.by_node[bid.grid_node] += awarded_kw
        self.by_tech[bid.technology] += awarded_kw
        self.total_kw += awarded_kw
        if bid.alternative_group:
            self.groups.add(bid.alternative_group)
            self.alternatives[b.bid_id] = bid.alternative_group
        energy = b.energy(awarded_kw)
        bisect.insort(self.unit_prices[self.unit(bid.technology)], b.price_cents)
        self.tech_energy[bid.technology] += energy
        self.bid_use_mc += self.inst.valuation(b.price_cents) * energy

    # -- prices and budget ------------------------------------------------------------------
    def _unit_price(self, prices: list[int]) -> int:
        if self.rule == "median":
            return prices[(len(prices) - 1) // 2]  # lower median: always a price someone bid
        return prices[-1]

    def clearing_prices(self) -> dict[str, int]:
        if self.rule == "pay_as_bid":
            return {}
        return {u: self._unit_price(p) for u, p in sorted(self.unit_prices.items()) if p}

    def paid_cents(self, b: ScaledBid) -> int:
        if self.rule == "pay_as_bid":
            return b.price_cents
        clearing = self._unit_price(self.unit_prices[self.unit(b.technology)])
        return self.inst.paid_cents(b.technology, clearing)

    def _unit_use(
        self, unit: str, prices: list[int], extra_tech: str = "", extra_kwh: int = 0
    ) -> int:
        if not prices:
            return 0
        clearing = self._unit_price(prices)
        techs = {t for t, g in self.inst.group_of.items() if self.unit(t) == unit}
        use = 0
        for tech in techs:
            energy = self.tech_energy[tech] + (extra_kwh if tech == extra_tech else 0)
            if energy:
                use += self.inst.valuation(self.inst.paid_cents(tech, clearing)) * energy
        return use

    def budget_use_mc(self) -> int:
        if self.rule == "pay_as_bid":
            return self.bid_use_mc
        return sum(self._unit_use(u, p) for u, p in self.unit_prices.items())

    def budget_use_with(self, b: ScaledBid, awarded_kw: int) -> int:
        """Total budget use if `b` were added with `awarded_kw` (nothing is changed)."""
        energy = b.energy(awarded_kw)
        if self.rule == "pay_as_bid":
            return self.bid_use_mc + self.inst.valuation(b.price_cents) * energy
        unit = self.unit(b.technology)
        total = 0
        for u, prices in self.unit_prices.items():
            if u != unit:
                total += self._unit_use(u, prices)
        widened = list(self.unit_prices.get(unit, []))
        bisect.insort(widened, b.price_cents)
        return total + self._unit_use(unit, widened, b.technology, energy)

    # -- room under each limit --------------------------------------------------------------
    def rooms(self, b: ScaledBid) -> list[tuple[str, int]]:
        """(reason, kW of room) for every limit that applies to `b`, in the published order."""
        return [(reason, room) for reason, room, _, _ in self.limits(b)]

    def limits(self, b: ScaledBid) -> list[tuple[str, int, str, int]]:
        """(reason, kW of room, the limit's name, its kW) for every limit that applies to `b`,
        in the published order."""
        inst, bid = self.inst, b.bid
        out: list[tuple[str, int, str, int]] = []
        if inst.bidder_cap_kw is not None:
            used = self.by_bidder[bid.bidder]
            cap = inst.bidder_cap_kw
            out.append(("bidder_cap", cap - used, f"bidder {bid.bidder}'s cap", cap))
        if bid.grid_node and bid.grid_node in inst.grid_kw:
            cap = inst.grid_kw[bid.grid_node]
            room = cap - self.by_node[bid.grid_node]
            out.append(("grid_node_full", room, f"grid node {bid.grid_node}", cap))
        limit = inst.tech_max_kw[bid.technology]
        if limit is not None:
            room = limit - self.by_tech[bid.technology]
            out.append(("target_met", room, f"technology {bid.technology}'s maximum", limit))
        if inst.total_kw is not None:
            room = inst.total_kw - self.total_kw
            out.append(("target_met", room, "the round's maximum", inst.total_kw))
        return out

    def largest_fit(self, b: ScaledBid, room_kw: int, budget_mc: int | None) -> int:
        """Largest award in [min_kw, room] that fits the budget, or 0 if none does."""
        high = min(room_kw, b.capacity_kw)
        if high < b.min_kw:
            return 0
        if budget_mc is None or self.budget_use_with(b, high) <= budget_mc:
            return high
        if b.min_kw == b.capacity_kw or self.budget_use_with(b, b.min_kw) > budget_mc:
            return 0
        low = b.min_kw  # fits; budget use is non-decreasing in the awarded kW
        while low < high:
            mid = (low + high + 1) // 2
            if self.budget_use_with(b, mid) <= budget_mc:
                low = mid
            else:
                high = mid - 1
        return low
