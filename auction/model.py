"""CP-SAT model of a round: variables, constraints, objectives (all integer, built in bid_id order).

Pricing is modelled exactly. Pay-as-bid: budget use Σ V(p_i)·e_i. Pay-as-clear and median: for
each pricing unit (a technology group, or a technology) one Boolean per candidate clearing
price c_k (the distinct bid prices in the unit) plus "nothing accepted"; exactly one holds.
With cnt_k = number of accepted bids priced ≤ c_k and n the number accepted:
  pay-as-clear: c_k is the price ⇒ cnt_k = n and some accepted bid is priced c_k;
  median (lower median): c_k is the price ⇒ 2·cnt_{k−1} ≤ n − 1 and 2·cnt_k ≥ n.
The unit's budget use U ≥ Σ_t V(min(c_k, ceiling_t))·E_t under that Boolean (E_t the unit's
energy of technology t); minimising cost makes it equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from ortools.sat.python import cp_model

from .instance import Instance, ScaledBid

LinearExpr = cp_model.LinearExprT


class AuctionModel:
    def __init__(
        self, inst: Instance, pool: list[ScaledBid], fixed_kw: Mapping[str, int],
        budget_mc: int | None, minimums: bool = True,
    ):
        self.inst = inst
        self.model = cp_model.CpModel()
        self.pool = sorted(pool, key=lambda b: b.bid_id)
        self.fixed_kw = fixed_kw
        self.budget_mc = budget_mc
        self.minimums = minimums  # the ring-fence stage is not bound by technology minimums
        self.accept: dict[str, cp_model.IntVar] = {}
        self.kw: dict[str, LinearExpr] = {}
        self.kwh: dict[str, LinearExpr] = {}
        self.partial: dict[str, tuple[cp_model.IntVar, cp_model.IntVar]] = {}  # (kW, kWh)
        self.cost_terms: list[LinearExpr] = []
        self._variables()
        self._volume_constraints()
        self._budget()

    # -- variables ----------------------------------------------------------------------------
    def _variables(self) -> None:
        m = self.model
        for b in self.pool:
            a = m.new_bool_var(f"accept[{b.bid_id}]")
            self.accept[b.bid_id] = a
            if b.min_kw < b.capacity_kw:
                x = m.new_int_var(0, b.capacity_kw, f"kw[{b.bid_id}]")
                e = m.new_int_var(0, b.annual_kwh, f"kwh[{b.bid_id}]")
                m.add(x >= b.min_kw * a)
                m.add(x <= b.capacity_kw * a)
                # e = floor(annual_kwh · x / capacity_kw)
                m.add(b.capacity_kw * e <= b.annual_kwh * x)
                m.add(b.capacity_kw * e >= b.annual_kwh * x - b.capacity_kw + 1)
                self.kw[b.bid_id], self.kwh[b.bid_id] = x, e
                self.partial[b.bid_id] = (x, e)
            else:
                self.kw[b.bid_id] = b.capacity_kw * a
                self.kwh[b.bid_id] = b.annual_kwh * a
            if b.bid_id in self.fixed_kw:
                m.add(a == 1)
                m.add(self.kw[b.bid_id] == self.fixed_kw[b.bid_id])

    # -- limits -------------------------------------------------------------------------------
    def _cap(self, groups: dict[str, list[ScaledBid]], limits: Mapping[str, int | None]) -> None:
        for key in sorted(groups):
            limit = limits.get(key)
            members = groups[key]
            if limit is not None and sum(b.capacity_kw for b in members) > limit:
                self.model.add(sum(self.kw[b.bid_id] for b in members) <= limit)

    def _volume_constraints(self) -> None:
        inst, m = self.inst, self.model
        alternatives: dict[str, list[ScaledBid]] = defaultdict(list)
        bidders: dict[str, list[ScaledBid]] = defaultdict(list)
        nodes: dict[str, list[ScaledBid]] = defaultdict(list)
        techs: dict[str, list[ScaledBid]] = defaultdict(list)
        for b in self.pool:
            if b.bid.alternative_group:
                alternatives[b.bid.alternative_group].append(b)
            bidders[b.bid.bidder].append(b)
            if b.bid.grid_node:
                nodes[b.bid.grid_node].append(b)
            techs[b.technology].append(b)
        for key in sorted(alternatives):
            if len(alternatives[key]) > 1:
                m.add_at_most_one(self.accept[b.bid_id] for b in alternatives[key])
        if inst.bidder_cap_kw is not None:
            self._cap(bidders, dict.fromkeys(bidders, inst.bidder_cap_kw))
        self._cap(nodes, inst.grid_kw)
        self._cap(techs, inst.tech_max_kw)
        for tech, minimum in sorted(inst.tech_min_kw.items() if self.minimums else ()):
            if minimum > 0 and not techs.get(tech):
                m.add_bool_or([])  # a minimum no bid can meet: infeasible
            elif minimum > 0:
                m.add(sum(self.kw[b.bid_id] for b in techs.get(tech, [])) >= minimum)
        if inst.total_kw is not None:
            self._cap({"": self.pool}, {"": inst.total_kw})

    # -- budget -------------------------------------------------------------------------------
    def _budget(self) -> None:
        inst = self.inst
        if inst.spec.pricing.rule == "pay_as_bid":
            self.cost_terms = [
                inst.valuation(b.price_cents) * self.kwh[b.bid_id] for b in self.pool
            ]
        else:
            units: dict[str, list[ScaledBid]] = defaultdict(list)
            for b in self.pool:
                unit = inst.group_of[b.technology] if inst.spec.pricing.rule == "pay_as_clear" else b.technology
                units[unit].append(b)
            self.cost_terms = [self._uniform_unit(u, units[u]) for u in sorted(units)]
        if self.budget_mc is not None:
            self.model.add(sum(self.cost_terms) <= self.budget_mc)

    def _uniform_unit(self, unit: str, members: list[ScaledBid]) -> cp_model.IntVar:
        inst, m = self.inst, self.model
        prices = sorted({b.price_cents for b in members})
        at_price: dict[int, list[ScaledBid]] = defaultdict(list)
        for b in members:
            at_price[b.price_cents].append(b)
        n = sum(self.accept[b.bid_id] for b in members)
        cnt: list[LinearExpr] = [0]
        for k, price in enumerate(prices):
            c = m.new_int_var(0, len(members), f"count_le[{unit},{k}]")
            m.add(c == cnt[-1] + sum(self.accept[b.bid_id] for b in at_price[price]))
            cnt.append(c)
        none = m.new_bool_var(f"nothing_accepted[{unit}]")
        chosen = [m.new_bool_var(f"clearing[{unit},{p}]") for p in prices]
        m.add_exactly_one([none, *chosen])
        m.add(n == 0).only_enforce_if(none)
        max_energy: dict[str, int] = defaultdict(int)
        for b in members:
            max_energy[b.technology] += b.annual_kwh
        energy: dict[str, cp_model.IntVar] = {}
        for tech in sorted(max_energy):
            energy[tech] = m.new_int_var(0, max_energy[tech], f"energy[{unit},{tech}]")
            m.add(energy[tech] == sum(self.kwh[b.bid_id] for b in members if b.technology == tech))
        values = [inst.valuation(inst.paid_cents(t, p)) for t in energy for p in prices]
        top = max(0, *values) * sum(max_energy.values())
        low = min(0, *values) * sum(max_energy.values())
        use = m.new_int_var(low, top, f"budget_use[{unit}]")
        m.add(use >= 0).only_enforce_if(none)
        for k, price in enumerate(prices):
            z = chosen[k]
            if inst.spec.pricing.rule == "pay_as_clear":
                m.add(cnt[k + 1] == n).only_enforce_if(z)
                m.add(cnt[k + 1] - cnt[k] >= 1).only_enforce_if(z)
            else:
                m.add(2 * cnt[k] <= n - 1).only_enforce_if(z)
                m.add(2 * cnt[k + 1] >= n).only_enforce_if(z)
            m.add(
                use >= sum(inst.valuation(inst.paid_cents(t, price)) * energy[t] for t in sorted(energy))
            ).only_enforce_if(z)
        return use

    # -- objectives ---------------------------------------------------------------------------
    def weighted_energy(self) -> LinearExpr:
        return sum(b.weight * self.kwh[b.bid_id] for b in self.pool)

    def cost(self) -> LinearExpr:
        return sum(self.cost_terms)

    def lot_order(self) -> LinearExpr:
        ranked = sorted(self.pool, key=lambda b: b.lot)
        return sum((i + 1) * self.accept[b.bid_id] for i, b in enumerate(ranked))

    def hint(self, awarded_kw: Mapping[str, int]) -> None:
        self.model.clear_hints()
        for b in self.pool:
            kw = awarded_kw.get(b.bid_id, 0)
            self.model.add_hint(self.accept[b.bid_id], kw > 0)
            if b.bid_id in self.partial:
                self.model.add_hint(self.partial[b.bid_id][0], kw)
                self.model.add_hint(self.partial[b.bid_id][1], b.energy(kw))
