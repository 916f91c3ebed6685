"""The integer-scaled, solver-independent instance every clearing rule works on.

Units: capacity in kW, annual energy in kWh, prices in cents per MWh, budget use in
milli-cents (cents per MWh × kWh). Every number is exact: the only rounding is the valuation
per MWh (below), rounded half-up once to the cent.

Budget valuation of an award paid `p` per MWh: V(p) = Σ_{y=1..years} d_y·(p − ref_y) cents per
MWh of annual energy, with d_y = (1 + r)^−y and (p − ref_y) replaced by 0 when it is negative
and the round says `below_reference = "zero"`. Without a budget section V(p) = p (one year of
payments). An award's budget use is V(p) × its annual energy, exact.

Partial awards: a bid with `min_capacity_mw` may be awarded any whole kW from its minimum to
its capacity; its energy is pro rata, rounded down to the kWh.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from .bids import Bid
from .round import RoundSpec

WEIGHT_SCALE = 10_000  # preference weights in 1/10,000 (exact: a bonus has ≤ 4 decimals)
INT_LIMIT = 2**62  # CP-SAT works on int64; refuse instances that could overflow
# A score-weighted objective stays exact in a double (< 2**53): the certificate's second solver
# works in floating point, and refuses matrix values above 1e15.
SCORE_HEADROOM = 10**15
MAX_SCORE_SCALE = 10**12


def weight_scale(spec: RoundSpec, bids: list[Bid]) -> int:
    """Units of a preference weight. A score (`score_weight`) is a ratio of prices, not exact
    in any fixed decimal: it is counted in the finest power of ten that keeps the round's
    whole weighted energy (score < 2) within SCORE_HEADROOM, up to 1e-12 (small rounds get
    the finest scores; a 10,000-bid round stays at 1e-4)."""
    if spec.innovation.score_weight == 0:
        return WEIGHT_SCALE
    energy = sum(kw(b.annual_mwh) for b in bids) or 1
    scale = WEIGHT_SCALE
    while scale < MAX_SCORE_SCALE and 10 * scale * 2 * energy < SCORE_HEADROOM:
        scale *= 10
    return scale


def kw(mw: Decimal) -> int:
    return int(mw * 1000)


def awarded_energy_kwh(annual_kwh: int, capacity_kw: int, awarded_kw: int) -> int:
    return annual_kwh * awarded_kw // capacity_kw


@dataclass(frozen=True)
class PriceWindow:
    """The median prices (cents) a technology may clear at in a stage: [low, high], and, when
    `none`, also no winner at all (`uniform.py` searches boxes of these)."""

    low: int
    high: int
    none: bool = False

    def allows(self, price_cents: int) -> bool:
        return self.low <= price_cents <= self.high


@dataclass(frozen=True)
class ScaledBid:
    bid: Bid
    capacity_kw: int
    min_kw: int  # == capacity_kw for all-or-nothing bids
    annual_kwh: int
    price_cents: int
    weight: int  # preference weight × the instance's weight_scale
    lot: str  # published tie-break key
    excluded: str | None  # rejection reason known before clearing, if any

    @property
    def bid_id(self) -> str:
        return self.bid.bid_id

    @property
    def technology(self) -> str:
        return self.bid.technology

    def energy(self, awarded_kw: int) -> int:
        return awarded_energy_kwh(self.annual_kwh, self.capacity_kw, awarded_kw)


@dataclass
class Instance:
    spec: RoundSpec
    bids: list[ScaledBid]  # sorted by bid_id
    budget_mc: int | None  # milli-cents
    fence_mc: int  # innovation ring-fence, milli-cents
    tech_min_kw: dict[str, int]
    tech_max_kw: dict[str, int | None]
    ceiling_cents: dict[str, int | None]
    grid_kw: dict[str, int]
    bidder_cap_kw: int | None
    total_kw: int | None
    group_of: dict[str, str]  # technology → pricing group
    weight_scale: int = WEIGHT_SCALE
    # Each bid's weight before rounding (score × weight_scale, exact): see `rounding.py`.
    exact_weight: dict[str, Fraction] = field(default_factory=dict)
    _valuations: dict[int, int] = field(default_factory=dict)

    @property
    def admissible(self) -> list[ScaledBid]:
        return [b for b in self.bids if b.excluded is None]

    def valuation(self, price_cents: int) -> int:
        """V(p) in cents per MWh of annual energy (see module docstring)."""
        if price_cents not in self._valuations:
            self._valuations[price_cents] = _valuation(self.spec, price_cents)
        return self._valuations[price_cents]

    def paid_cents(self, technology: str, clearing_cents: int) -> int:
        ceiling = self.ceiling_cents[technology]
        return clearing_cents if ceiling is None else min(clearing_cents, ceiling)

    def rank_key(self, b: ScaledBid) -> tuple[Fraction, int, str]:
        """Merit order: preference-adjusted price, then smaller capacity, then the lot."""
        if self.spec.innovation.score_weight > 0:
            primary = Fraction(-b.weight)
        else:
            primary = Fraction(b.price_cents * self.weight_scale, b.weight)
        return (primary, b.capacity_kw, b.lot)


def scale_problem(inst: Instance) -> str | None:
    """Why the instance cannot be solved exactly in 64-bit integers, if it cannot.

    CP-SAT coefficients and every partial sum must stay within int64; a wrapped coefficient
    would silently change the model, so oversized rounds are refused before modelling."""
    bids = inst.admissible
    if not bids:
        return None
    energy = sum(b.annual_kwh for b in bids)
    top_price = max(max(b.price_cents, inst.ceiling_cents[b.technology] or 0) for b in bids)
    valuation = max(abs(inst.valuation(top_price)), abs(inst.valuation(0)))
    sizes = {
        "budget use (valuation × energy)": valuation * energy,
        "budget": abs(inst.budget_mc or 0),
        "weighted energy": max(b.weight for b in bids) * energy,
        "partial award rounding": max(b.capacity_kw * b.annual_kwh for b in bids),
    }
    too_big = [name for name, size in sizes.items() if size >= INT_LIMIT]
    return ", ".join(too_big) or None


def _valuation(spec: RoundSpec, price_cents: int) -> int:
    budget = spec.budget
    price = Decimal(price_cents)
    if budget is None:
        return price_cents
    with localcontext() as ctx:
        ctx.prec = 40
        total = Decimal(0)
        for year in range(1, budget.years + 1):
            if budget.reference_prices is not None:
                reference = budget.reference_prices[year - 1]
            else:
                reference = budget.reference_price or Decimal(0)
            support = price - reference * 100
            if support < 0 and budget.below_reference == "zero":
                support = Decimal(0)
            total += support / (1 + budget.discount_rate) ** year
        return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def lot(round_id: str, bid_id: str) -> str:
    """The published tie-break: sha256 of "round_id:bid_id", lowest first (a reproducible lot)."""
    return hashlib.sha256(f"{round_id}:{bid_id}".encode()).hexdigest()


TIE_BREAK = (
    "most preference-weighted energy; then least budget use; then fewest bids by lot order "
    "(sha256 of 'round_id:bid_id', lowest preferred)"
)


def _exclusion(spec: RoundSpec, bid: Bid) -> str | None:
    tech = spec.technology(bid.technology)
    threshold = spec.small_plant_threshold_mw
    cf = tech.max_capacity_factor
    if cf is not None and bid.annual_mwh > bid.capacity_mw * 8760 * cf:
        return "inadmissible"
    if threshold is not None and bid.capacity_mw >= threshold:
        return "not_small_plant"
    if tech.ceiling_price is not None and bid.price > tech.ceiling_price:
        return "above_ceiling"
    return None


def exact_score(spec: RoundSpec, lowest_price: Decimal, bid: Bid) -> Fraction:
    """A bid's preference weight, exactly: (1 − w)·(lowest ÷ price) + w·(1 if innovative)
    with a score weight w (else 1), × (1 + bonus) if innovative."""
    inn = spec.innovation
    score = Fraction(1)
    if inn.score_weight > 0:
        w = Fraction(inn.score_weight)
        score = (1 - w) * Fraction(lowest_price) / Fraction(bid.price)
        score += w if bid.innovative else 0
    if bid.innovative:
        score *= 1 + Fraction(inn.bonus)
    return score


def build_instance(spec: RoundSpec, bids: list[Bid]) -> Instance:
    ordered = sorted(bids, key=lambda b: b.bid_id)
    excluded = {b.bid_id: _exclusion(spec, b) for b in ordered}
    admissible_prices = [b.price for b in ordered if excluded[b.bid_id] is None]
    lowest = min(admissible_prices) if admissible_prices else Decimal(1)
    scale = weight_scale(spec, [b for b in ordered if excluded[b.bid_id] is None])
    scaled = []
    exact: dict[str, Fraction] = {}
    for b in ordered:
        weight = exact[b.bid_id] = exact_score(spec, lowest, b) * scale
        rounded = int(weight + Fraction(1, 2))  # half up, once (a score is positive)
        minimum = b.min_capacity_mw if b.min_capacity_mw is not None else b.capacity_mw
        scaled.append(
            ScaledBid(
                bid=b,
                capacity_kw=kw(b.capacity_mw),
                min_kw=kw(minimum),
                annual_kwh=kw(b.annual_mwh),
                price_cents=int(b.price * 100),
                weight=max(rounded, 1),
                lot=lot(spec.round_id, b.bid_id),
                excluded=excluded[b.bid_id],
            )
        )
    budget_mc = None if spec.budget is None else int(spec.budget.amount * 100_000)
    fence_mc = 0
    if spec.budget is not None and budget_mc is not None:
        fence_mc = int(Decimal(budget_mc) * spec.innovation.ring_fence_share)
    group_of = {t: g for g, members in spec.price_groups().items() for t in members}
    return Instance(
        spec=spec,
        bids=scaled,
        budget_mc=budget_mc,
        fence_mc=fence_mc,
        tech_min_kw={t.name: kw(t.min_mw) for t in spec.technologies},
        tech_max_kw={t.name: None if t.max_mw is None else kw(t.max_mw) for t in spec.technologies},
        ceiling_cents={
            t.name: None if t.ceiling_price is None else int(t.ceiling_price * 100)
            for t in spec.technologies
        },
        grid_kw={n: kw(v) for n, v in spec.grid_nodes.items()},
        bidder_cap_kw=None if spec.bidder_cap_mw is None else kw(spec.bidder_cap_mw),
        total_kw=None if spec.max_total_mw is None else kw(spec.max_total_mw),
        group_of=group_of,
        weight_scale=scale,
        exact_weight=exact,
    )
