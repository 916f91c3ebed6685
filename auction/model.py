"""CP-SAT model of a round: variables, constraints, objectives (all integer, built in bid_id order).

Pricing is modelled exactly. Pay-as-bid: budget use Σ V(p_i)·e_i. Pay-as-clear (per group)
and median (per technology): see `_uniform_unit`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Mapping

from ortools.sat.python import cp_model

from .instance import INT_LIMIT, Instance, PriceWindow, ScaledBid
from .reduction import Restriction

LinearExpr = cp_model.LinearExprT


def lot_positions(pool: list[ScaledBid]) -> dict[str, int]:
    """Each bid's place (from 1) in the published lot order of the stage's pool."""
    return {b.bid_id: i + 1 for i, b in enumerate(sorted(pool, key=lambda b: b.lot))}


class AuctionModel:
    def __init__(
        self,
        inst: Instance,
        pool: list[ScaledBid],
        fixed_kw: Mapping[str, int],
        budget_mc: int | None,
        minimums: bool = True,
        pricing: str | None = None,
        restriction: Restriction | None = None,
        lot_pool: list[ScaledBid] | None = None,
        clearing: Mapping[str, PriceWindow] | None = None,
    ):
        self.inst = inst
        self.clearing = clearing or {}  # median prices allowed per technology (`uniform.py`)
        self.model = cp_model.CpModel()
        self.restriction = restriction or Restriction()
        # Lot positions count every bid of the stage (`lot_pool`, default `pool`), whatever a
        # restriction or a fixed clearing price leaves out, so lot sums compare across models.
        self.lot_position = lot_positions(lot_pool or pool)
        excluded = self.restriction.excluded
        self.pool = sorted((b for b in pool if b.bid_id not in excluded), key=lambda b: b.bid_id)
        self.fixed_kw = fixed_kw
        self.budget_mc = budget_mc
        self.minimums = minimums  # the ring-fence stage is not bound by technology minimums
        self.pricing = pricing or inst.spec.pricing.rule  # override: a pay-as-bid relaxation
        self.accept: dict[str, cp_model.IntVar] = {}
        self.kw: dict[str, LinearExpr] = {}
        self.kwh: dict[str, LinearExpr] = {}
        self.partial: dict[str, tuple[cp_model.IntVar, cp_model.IntVar]] = {}  # (kW, kWh)
        self.cost_terms: list[LinearExpr] = []
        # Per pricing unit: the values its price variables take for a given award (hints).
        self.price_hints: list[
            Callable[[Mapping[str, int]], list[tuple[cp_model.IntVar, int]]]
        ] = []
        self._variables()
        self._restrict(pool)
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
                if b.annual_kwh % b.capacity_kw == 0:
                    # Whole kWh per kW: the energy is exactly linear, no rounding to model.
                    m.add(e == (b.annual_kwh // b.capacity_kw) * x)
                else:  # e = floor(annual_kwh · x / capacity_kw)
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

    def _restrict(self, pool: list[ScaledBid]) -> None:
        """Choices a reduction (see `reduction.py`) proved no optimal award makes."""
        m, r = self.model, self.restriction
        if any(b.bid_id in r.excluded and b.bid_id in self.fixed_kw for b in pool):
            m.add_bool_or([])  # a fixed award cannot reach the target: infeasible
        for block in r.required:
            m.add_bool_or([self.accept[bid_id] for bid_id in block])
        for bid_id, (low, high) in sorted(r.kw_range.items()):
            x = self.partial[bid_id][0]
            m.add(x >= low * self.accept[bid_id])
            m.add(x <= high * self.accept[bid_id])

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
        if self.pricing == "pay_as_bid":
            self.cost_terms = [
                inst.valuation(b.price_cents) * self.kwh[b.bid_id] for b in self.pool
            ]
        else:
            median = self.pricing == "median"
            units: dict[str, list[ScaledBid]] = defaultdict(list)
            for b in self.pool:
                units[b.technology if median else inst.group_of[b.technology]].append(b)
            build = self._median_unit if median else self._uniform_unit
            self.cost_terms = [build(u, units[u]) for u in sorted(units)]
            if any(not w.none for u, w in self.clearing.items() if u not in units):
                self.model.add_bool_or([])  # a median required, but no bid left to set it
        if self.budget_mc is not None:
            self.model.add(sum(self.cost_terms) <= self.budget_mc)

    def _uniform_unit(self, unit: str, members: list[ScaledBid]) -> LinearExpr:
        """Pay-as-clear budget use of one group, its energy split by candidate clearing price.

        One Boolean per candidate price c_k (the group's distinct bid prices) or "nothing"; a bid
        may be accepted only if the chosen price is at least its own. E[t,k], the energy of
        technology t counted at c_k, is zero unless c_k is chosen, so the use
        Σ V(min(c_k, ceiling_t))·E[t,k] is linear and exact. The chosen price need only be at
        least the true one: V never decreases with the price, so any award is feasible at its
        true price and minimising the cost selects exactly that price.
        """
        inst, m = self.inst, self.model
        prices = sorted({b.price_cents for b in members})
        none = m.new_bool_var(f"nothing_accepted[{unit}]")
        chosen = [m.new_bool_var(f"clearing[{unit},{p}]") for p in prices]
        m.add_exactly_one([none, *chosen])
        for b in members:
            m.add(self.accept[b.bid_id] <= sum(chosen[bisect.bisect_left(prices, b.price_cents) :]))
        self._hint_choice(members, prices, none, chosen, median=False)
        use: list[LinearExpr] = []
        techs = sorted({b.technology for b in members})
        largest = sum(
            inst.valuation(inst.paid_cents(t, p)) * sum(b.annual_kwh for b in members)
            for t in techs
            for p in prices
        )
        if largest >= INT_LIMIT:  # the split would overflow int64: bound the use instead
            return self._uniform_use(members, prices, chosen)
        for tech in techs:
            of_tech = [b for b in members if b.technology == tech]
            parts = []
            for k, price in enumerate(prices):
                reach = sum(b.annual_kwh for b in of_tech if b.price_cents <= price)
                if not reach:
                    continue
                part = m.new_int_var(0, reach, f"energy[{unit},{tech},{k}]")
                m.add(part <= reach * chosen[k])
                parts.append(part)
                self._hint_energy(members, of_tech, part, price)
                use.append(inst.valuation(inst.paid_cents(tech, price)) * part)
            m.add(sum(parts) == sum(self.kwh[b.bid_id] for b in of_tech))
        return sum(use)

    def _uniform_use(
        self, members: list[ScaledBid], prices: list[int], chosen: list[cp_model.IntVar]
    ) -> LinearExpr:
        """The same budget use for a group too large to split: per technology, U_t ≥
        V(min(c_k, ceiling_t))·E_t under the chosen price; minimising the cost makes it equal."""
        inst, m = self.inst, self.model
        use: list[LinearExpr] = []
        for tech in sorted({b.technology for b in members}):
            of_tech = [b for b in members if b.technology == tech]
            top = sum(b.annual_kwh for b in of_tech)
            values = [inst.valuation(inst.paid_cents(tech, p)) for p in prices]
            energy = m.new_int_var(0, top, f"energy[{tech}]")
            m.add(energy == sum(self.kwh[b.bid_id] for b in of_tech))
            low, high = min(0, *values) * top, max(0, *values) * top
            spent = m.new_int_var(low, high, f"budget_use[{tech}]")
            m.add(spent >= 0).only_enforce_if([c.Not() for c in chosen])
            for k, value in enumerate(values):
                m.add(spent >= value * energy).only_enforce_if(chosen[k])
            use.append(spent)
            self._hint_energy(members, of_tech, energy)
            self._hint_use(members, of_tech, spent, tech, median=False)
        return sum(use)

    def _median_unit(self, tech: str, members: list[ScaledBid]) -> cp_model.IntVar:
        """Median-priced budget use of one technology.

        One Boolean per candidate price c_k (those the technology's `clearing` window allows,
        if any) or "nothing". With cnt_k the number of accepted bids priced at or below c_k and
        n the number accepted, c_k is the lower median exactly when 2·cnt_{k−1} ≤ n − 1 and
        2·cnt_k ≥ n. The use U ≥ V(min(c_k, ceiling))·E under that Boolean (E the technology's
        energy); minimising the cost makes it equal.
        """
        inst, m = self.inst, self.model
        prices = sorted({b.price_cents for b in members})
        window = self.clearing.get(tech)
        allowed = [window is None or window.allows(p) for p in prices]
        at_price: dict[int, list[ScaledBid]] = defaultdict(list)
        for b in members:
            at_price[b.price_cents].append(b)
        n = sum(self.accept[b.bid_id] for b in members)
        none = m.new_bool_var(f"nothing_accepted[{tech}]")
        chosen = {
            k: m.new_bool_var(f"clearing[{tech},{p}]") for k, p in enumerate(prices) if allowed[k]
        }
        m.add_exactly_one([none, *chosen.values()])
        m.add(n == 0).only_enforce_if(none)
        self._winner(members, window, none)
        self._hint_choice(members, [prices[k] for k in chosen], none, list(chosen.values()), True)
        top_energy = sum(b.annual_kwh for b in members)
        energy = m.new_int_var(0, top_energy, f"energy[{tech}]")
        m.add(energy == sum(self.kwh[b.bid_id] for b in members))
        self._hint_energy(members, members, energy)
        values = [inst.valuation(inst.paid_cents(tech, p)) for p in prices]
        use = m.new_int_var(
            min(0, *values) * top_energy, max(0, *values) * top_energy, f"budget_use[{tech}]"
        )
        m.add(use >= 0).only_enforce_if(none)
        self._hint_use(members, members, use, tech, median=True)
        below: cp_model.IntVar | None = None  # accepted bids priced below c_k
        for k, price in enumerate(prices):
            c = m.new_int_var(0, len(members), f"count_le[{tech},{k}]")
            here = sum(self.accept[b.bid_id] for b in at_price[price])
            m.add(c == (below + here if below is not None else here))
            self._hint_count(members, c, price)
            if k in chosen:
                m.add(2 * c >= n).only_enforce_if(chosen[k])
                if below is not None:
                    m.add(2 * below <= n - 1).only_enforce_if(chosen[k])
                m.add(use >= values[k] * energy).only_enforce_if(chosen[k])
            below = c
        return use

    def _winner(
        self, members: list[ScaledBid], window: PriceWindow | None, none: cp_model.IntVar
    ) -> None:
        """A `clearing` window without "no winner": some bid of the technology priced in it
        wins (the lower median is an accepted bid's price)."""
        if window is not None and not window.none:
            self.model.add(none == 0)
            inside = [self.accept[b.bid_id] for b in members if window.allows(b.price_cents)]
            self.model.add_bool_or(inside)

    # -- hints for the price variables ------------------------------------------------------
    def _clearing(
        self, members: list[ScaledBid], awarded: Mapping[str, int], median: bool
    ) -> int | None:
        prices = sorted(b.price_cents for b in members if awarded.get(b.bid_id, 0) > 0)
        if not prices:
            return None
        return prices[(len(prices) - 1) // 2] if median else prices[-1]

    def _hint_choice(
        self,
        members: list[ScaledBid],
        prices: list[int],
        none: cp_model.IntVar,
        chosen: list[cp_model.IntVar],
        median: bool,
    ) -> None:
        def values(awarded: Mapping[str, int]) -> list[tuple[cp_model.IntVar, int]]:
            clearing = self._clearing(members, awarded, median)
            return [(none, int(clearing is None))] + [
                (var, int(price == clearing)) for var, price in zip(chosen, prices, strict=True)
            ]

        self.price_hints.append(values)

    def _hint_energy(
        self,
        unit: list[ScaledBid],
        members: list[ScaledBid],
        var: cp_model.IntVar,
        at_price: int | None = None,
    ) -> None:
        """`var` holds the members' energy (only when the unit clears at `at_price`, if given)."""
        median = self.pricing == "median"

        def values(awarded: Mapping[str, int]) -> list[tuple[cp_model.IntVar, int]]:
            clearing = self._clearing(unit, awarded, median)
            energy = sum(b.energy(awarded.get(b.bid_id, 0)) for b in members)
            return [(var, energy if at_price is None or clearing == at_price else 0)]

        self.price_hints.append(values)

    def _hint_use(
        self,
        unit: list[ScaledBid],
        members: list[ScaledBid],
        var: cp_model.IntVar,
        tech: str,
        median: bool,
    ) -> None:
        def values(awarded: Mapping[str, int]) -> list[tuple[cp_model.IntVar, int]]:
            clearing = self._clearing(unit, awarded, median)
            if clearing is None:
                return [(var, 0)]
            energy = sum(b.energy(awarded.get(b.bid_id, 0)) for b in members)
            return [(var, self.inst.valuation(self.inst.paid_cents(tech, clearing)) * energy)]

        self.price_hints.append(values)

    def _hint_count(self, members: list[ScaledBid], var: cp_model.IntVar, price: int) -> None:
        def values(awarded: Mapping[str, int]) -> list[tuple[cp_model.IntVar, int]]:
            won = [b for b in members if awarded.get(b.bid_id, 0) > 0]
            return [(var, sum(b.price_cents <= price for b in won))]

        self.price_hints.append(values)

    # -- objectives ---------------------------------------------------------------------------
    def weighted_energy(self) -> LinearExpr:
        return sum(b.weight * self.kwh[b.bid_id] for b in self.pool)

    def cost(self) -> LinearExpr:
        return sum(self.cost_terms)

    def lot_order(self) -> LinearExpr:
        return sum(self.lot_position[b.bid_id] * self.accept[b.bid_id] for b in self.pool)

    def hint(self, awarded_kw: Mapping[str, int]) -> None:
        self.model.clear_hints()
        for b in self.pool:
            kw = awarded_kw.get(b.bid_id, 0)
            self.model.add_hint(self.accept[b.bid_id], kw > 0)
            if b.bid_id in self.partial:
                self.model.add_hint(self.partial[b.bid_id][0], kw)
                self.model.add_hint(self.partial[b.bid_id][1], b.energy(kw))
        for values in self.price_hints:
            for var, value in values(awarded_kw):
                self.model.add_hint(var, value)
