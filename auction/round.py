"""The round definition: what an operator publishes before bids are opened.

A round is read from TOML or JSON and validated by pydantic, then checked for limits that
contradict each other. Every option is optional and all of them combine:

- `budget`: the support budget and how a bid is valued against it (the valuation is
  computed in `instance.py`).
- `technologies[]`: per technology a ceiling price, a minimum and maximum volume (MW) and a
  plausibility limit on the claimed capacity factor (bids above it are inadmissible).
- `pricing.rule`: `pay_as_bid`; `pay_as_clear` (one price per group of technologies, the highest
  accepted bid, capped per technology by its ceiling); `median` (per technology, the lower
  median of the accepted bid prices, capped by the ceiling).
- `innovation`: (a) `bonus`: an innovative bid's energy counts (1 + bonus) in the objective and
  its price is ranked as price ÷ (1 + bonus) by the merit-order rules; (b) `ring_fence_share`:
  that share of the budget is cleared first among innovative bids only, and what they leave
  unused rolls back to the general pot; (c) `score_weight` w ≤ `MAX_SCORE_WEIGHT`: a bid's
  score is (1 − w)·(lowest admissible price / price) + w·(1 if innovative else 0), and the
  score weights its energy.
- `grid_nodes`: MW that can connect at each node; `bidder_cap_mw`; `max_total_mw`;
  `small_plant_threshold_mw` (a small-plant round admits only bids strictly below it).
"""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mzekari.errors import InputError, Problem, ProblemCollector
from mzekari.money import MINOR_UNITS

MAX_SCORE_WEIGHT = Decimal("0.30")  # EU state-aid practice: non-price criteria weigh ≤ 30 %


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TechnologySpec(_Strict):
    name: str = Field(min_length=1)
    ceiling_price: Decimal | None = None
    min_mw: Decimal = Decimal(0)
    max_mw: Decimal | None = None
    max_capacity_factor: Decimal | None = None


class BudgetSpec(_Strict):
    amount: Decimal
    # One reference price for every year, or a path by year (first counted year first).
    reference_price: Decimal | None = None
    reference_prices: list[Decimal] | None = None
    years: int = Field(default=1, ge=1, le=50)
    discount_rate: Decimal = Decimal(0)
    below_reference: Literal["zero", "negative"] = "zero"


class PricingSpec(_Strict):
    rule: Literal["pay_as_bid", "pay_as_clear", "median"] = "pay_as_bid"
    # pay_as_clear: technology groups that share one clearing price; others clear alone.
    groups: dict[str, list[str]] = Field(default_factory=dict)


class InnovationSpec(_Strict):
    bonus: Decimal = Decimal(0)
    ring_fence_share: Decimal = Decimal(0)
    score_weight: Decimal = Decimal(0)


class RoundSpec(_Strict):
    round_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    currency: str = "USD"
    technologies: list[TechnologySpec] = Field(min_length=1)
    budget: BudgetSpec | None = None
    pricing: PricingSpec = Field(default_factory=PricingSpec)
    innovation: InnovationSpec = Field(default_factory=InnovationSpec)
    grid_nodes: dict[str, Decimal] = Field(default_factory=dict)
    bidder_cap_mw: Decimal | None = None
    max_total_mw: Decimal | None = None
    small_plant_threshold_mw: Decimal | None = None
    time_limit_s: Decimal = Decimal(60)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value.upper() not in MINOR_UNITS:
            raise ValueError(f"unknown currency {value!r}; known: {sorted(MINOR_UNITS)}")
        return value.upper()

    @property
    def technology_names(self) -> list[str]:
        return [t.name for t in self.technologies]

    def technology(self, name: str) -> TechnologySpec:
        for tech in self.technologies:
            if tech.name == name:
                return tech
        raise KeyError(name)

    def price_groups(self) -> dict[str, list[str]]:
        """Technology → the group it clears in (pay_as_clear); ungrouped ones clear alone."""
        grouped = {t for members in self.pricing.groups.values() for t in members}
        groups = {name: sorted(members) for name, members in self.pricing.groups.items()}
        for tech in self.technology_names:
            if tech not in grouped:
                groups[tech] = [tech]
        return dict(sorted(groups.items()))


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _precision(spec: RoundSpec, problems: ProblemCollector) -> None:
    """MW to the kW (3 decimals) and money to the cent (2), as the integer model counts them."""
    checks: list[tuple[str, Decimal | None, int]] = [
        ("bidder_cap_mw", spec.bidder_cap_mw, 3),
        ("max_total_mw", spec.max_total_mw, 3),
        ("small_plant_threshold_mw", spec.small_plant_threshold_mw, 3),
    ]
    for i, t in enumerate(spec.technologies):
        checks += [
            (f"technologies[{i}].min_mw", t.min_mw, 3),
            (f"technologies[{i}].max_mw", t.max_mw, 3),
            (f"technologies[{i}].ceiling_price", t.ceiling_price, 2),
        ]
    checks += [(f"grid_nodes.{node}", mw, 3) for node, mw in spec.grid_nodes.items()]
    if spec.budget is not None:
        checks.append(("budget.amount", spec.budget.amount, 2))
    for field, value, places in checks:
        if value is not None and _places(value) > places:
            problems.add(None, field, f"at most {places} decimals, got {value}")


def _contradictions(spec: RoundSpec, problems: ProblemCollector) -> None:
    """Limits that cannot all hold, or options outside their meaning."""
    _precision(spec, problems)
    seen: set[str] = set()
    for i, tech in enumerate(spec.technologies):
        where = f"technologies[{i}]"
        if tech.name in seen:
            problems.add(None, f"{where}.name", f"technology {tech.name!r} listed twice")
        seen.add(tech.name)
        if tech.min_mw < 0:
            problems.add(None, f"{where}.min_mw", "must not be negative")
        if tech.max_mw is not None and tech.max_mw < tech.min_mw:
            problems.add(None, f"{where}.max_mw", f"{tech.max_mw} is below min_mw {tech.min_mw}")
        if tech.ceiling_price is not None and tech.ceiling_price <= 0:
            problems.add(None, f"{where}.ceiling_price", "must be positive")
        cf = tech.max_capacity_factor
        if cf is not None and not 0 < cf <= 1:
            problems.add(None, f"{where}.max_capacity_factor", "must be in (0, 1]")
    total_min = sum((t.min_mw for t in spec.technologies), Decimal(0))
    if spec.max_total_mw is not None:
        if spec.max_total_mw <= 0:
            problems.add(None, "max_total_mw", "must be positive")
        elif total_min > spec.max_total_mw:
            problems.add(None, "max_total_mw", f"below the sum of minimums {total_min}")
    for field in ("bidder_cap_mw", "small_plant_threshold_mw"):
        value = getattr(spec, field)
        if value is not None and value <= 0:
            problems.add(None, field, "must be positive")
    for node, limit in spec.grid_nodes.items():
        if limit < 0:
            problems.add(None, f"grid_nodes.{node}", "must not be negative")
    if spec.time_limit_s <= 0:
        problems.add(None, "time_limit_s", "must be positive")
    if spec.budget is not None:
        _budget_problems(spec.budget, problems)
    inn = spec.innovation
    if not 0 <= inn.bonus < 1:
        problems.add(None, "innovation.bonus", "must be in [0, 1)")
    if not 0 <= inn.ring_fence_share <= 1:
        problems.add(None, "innovation.ring_fence_share", "must be in [0, 1]")
    elif inn.ring_fence_share > 0 and spec.budget is None:
        problems.add(None, "innovation.ring_fence_share", "a ring-fence needs a budget")
    if not 0 <= inn.score_weight <= MAX_SCORE_WEIGHT:
        problems.add(None, "innovation.score_weight", f"must be in [0, {MAX_SCORE_WEIGHT}]")
    placed: dict[str, str] = {}
    for group, members in spec.pricing.groups.items():
        for member in members:
            if member not in seen:
                problems.add(None, f"pricing.groups.{group}", f"unknown technology {member!r}")
            elif member in placed:
                problems.add(
                    None, f"pricing.groups.{group}", f"{member!r} is also in {placed[member]!r}"
                )
            placed[member] = group


def _budget_problems(budget: BudgetSpec, problems: ProblemCollector) -> None:
    if budget.amount <= 0:
        problems.add(None, "budget.amount", "must be positive")
    if budget.reference_price is not None and budget.reference_prices is not None:
        problems.add(None, "budget.reference_prices", "give reference_price or a path, not both")
    if budget.reference_prices is not None and len(budget.reference_prices) < budget.years:
        problems.add(
            None,
            "budget.reference_prices",
            f"{len(budget.reference_prices)} prices for {budget.years} counted years",
        )
    if not 0 <= budget.discount_rate < 1:
        problems.add(None, "budget.discount_rate", "must be in [0, 1)")


def parse_round(data: dict[str, Any], source: str = "round") -> RoundSpec:
    """Validate a round definition given as a mapping; raises InputError naming each field."""
    try:
        spec = RoundSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            [
                Problem(source, None, ".".join(str(p) for p in err["loc"]) or None, err["msg"])
                for err in exc.errors()
            ]
        ) from None
    problems = ProblemCollector(source)
    _contradictions(spec, problems)
    problems.raise_if_any()
    return spec


def read_round_text(text: str, source: str, json_format: bool = False) -> RoundSpec:
    """Read a round from TOML (or JSON) text (numbers are read exactly, never as floats)."""
    try:
        if json_format:
            data = json.loads(text, parse_float=Decimal)
        else:
            data = tomllib.loads(text, parse_float=Decimal)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InputError(Problem(source, None, None, f"not valid: {exc}")) from None
    if not isinstance(data, dict):
        raise InputError(Problem(source, None, None, "the round must be a table/object"))
    return parse_round(data, source=source)


def load_round(path: str | Path) -> RoundSpec:
    """Read a round from a .toml or .json file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem(str(path), None, None, f"cannot read: {exc.strerror}")) from None
    return read_round_text(text, str(path), json_format=path.suffix.lower() == ".json")
