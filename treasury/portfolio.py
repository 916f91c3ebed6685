"""A portfolio of settlement contracts as arrays, grouped so contracts share their price path.

Contracts of one technology see the same price and capacity factor in a scenario; contracts
that also share scheme, reference basis, negative-price rule and rate bounds differ only in
strike and in capacity per month, so a group is (sorted strikes, capacity per month).
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from mzekari.errors import ProblemCollector
from treasury.config import TECHNOLOGIES, Delivery, ForecastConfig
from treasury.generation import DEFAULT_CAPACITY_FACTORS

SCHEMES = ("cfd", "variable_premium", "fixed_premium", "feed_in")
BASES = ("interval", "monthly_baseload", "monthly_weighted", "annual_weighted")


@dataclass(frozen=True)
class GroupKey:
    technology: str
    scheme: str
    basis: str
    zero_floor: bool
    rule: int  # -1 none, 0 any negative hour, N: runs of at least N hours
    rate_floor: float  # -inf when none
    rate_cap: float  # +inf when none
    upper_price: float  # cap-and-floor upper strike, nan when none
    # CPI indexation of the strike (settlement.md): base month, re-set month, indexed share.
    index_base_month: str = ""
    index_month: int = 0
    indexed_share: float = 0.0
    # A plant that may not be built: its own group, built or not per scenario (index into the
    # plan's build probabilities); -1 for contracts that deliver for certain.
    pipeline: int = -1


@dataclass
class ContractGroup:
    key: GroupKey
    contract_ids: tuple[str, ...]
    strike: np.ndarray  # (C,) ascending, payment currency per MWh
    weight_mw: np.ndarray  # (M, C) eligible capacity per month (term, season, double benefit)
    strike_factor: np.ndarray | None = None  # (M,) CPI indexation common to the group
    build_probability: float = 1.0  # of a pipeline plant (key.pipeline >= 0)

    def prefix_sums(self) -> tuple[np.ndarray, np.ndarray]:
        zeros = np.zeros((self.weight_mw.shape[0], 1))
        p0 = np.concatenate([zeros, np.cumsum(self.weight_mw, axis=1)], axis=1)
        p1 = np.concatenate(
            [zeros, np.cumsum(self.weight_mw * self.strike[None, :], axis=1)], axis=1
        )
        return p0, p1


def technology_of(contract: Any, config: ForecastConfig) -> str | None:
    tech = config.contract_technologies.get(contract.contract_id) or getattr(
        contract, "technology", None
    )
    if tech is None and getattr(contract, "weighting", "own") in TECHNOLOGIES:
        tech = contract.weighting
    return str(tech).lower() if tech else None


def _active_share(start: date, end: date, labels: Sequence[str]) -> np.ndarray:
    """Share of each month's days inside the contract term [start, end] (inclusive)."""
    share = np.zeros(len(labels))
    for k, label in enumerate(labels):
        year, month = int(label[:4]), int(label[5:])
        days = calendar.monthrange(year, month)[1]
        first, last = date(year, month, 1), date(year, month, days)
        lo, hi = max(first, start), min(last, end)
        if lo <= hi:
            share[k] = ((hi - lo).days + 1) / days
    return share


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    last = calendar.monthrange(day.year + year, month + 1)[1]
    return date(day.year + year, month + 1, min(day.day, last))


def delivered_share(
    start: date, end: date, labels: Sequence[str], delivery: Delivery | None
) -> np.ndarray:
    """Share of each month the contract delivers once built, its whole term moved by the
    expected delay (a fractional delay of k + f months is k months with probability 1 − f and
    k + 1 with probability f). Whether it is built at all is drawn per scenario."""
    if delivery is None:
        return _active_share(start, end, labels)
    whole = int(np.floor(delivery.delay_months))
    part = delivery.delay_months - whole
    return (1 - part) * _active_share(
        _add_months(start, whole), _add_months(end, whole), labels
    ) + part * _active_share(_add_months(start, whole + 1), _add_months(end, whole + 1), labels)


def pipeline_delivery(contract: Any, tech: str, config: ForecastConfig) -> Delivery | None:
    """A contract's own delivery terms, else its technology's if it starts after the as-of
    date (a plant already delivering is not in the pipeline)."""
    own = config.delivery.get(contract.contract_id)
    if own is not None:
        return own
    return config.delivery.get(tech) if contract.start > config.as_of_date else None


def energy_scale(contract: Any, tech: str, config: ForecastConfig) -> float:
    """Factor from capacity × capacity factor to the contract's own annual energy, if given."""
    annual = config.contract_annual_mwh.get(contract.contract_id)
    if annual is None:
        return 1.0
    factors = config.capacity_factors.get(tech, DEFAULT_CAPACITY_FACTORS[tech])
    days = np.array([calendar.monthrange(2025, m)[1] for m in range(1, 13)])
    typical_mwh = float(contract.capacity_mw) * float(np.dot(factors, days * 24.0))
    return float(annual) / typical_mwh if typical_mwh > 0 else 0.0


def _float(value: Decimal | None, default: float) -> float:
    return default if value is None else float(value)


def build_groups(contracts: Sequence[Any], config: ForecastConfig) -> list[ContractGroup]:
    """Validate the contracts for forecasting and group them; all problems raised at once."""
    collector = ProblemCollector("contracts")
    labels = config.month_labels
    months = np.array([int(label[5:]) for label in labels])
    ids = [getattr(c, "contract_id", None) for c in contracts]
    for name in sorted(set(config.contract_technologies) - set(ids)):
        collector.add(None, "contract_id", f"technology given for unknown contract {name!r}")
    for name in sorted(set(config.delivery) - set(ids) - set(TECHNOLOGIES)):
        collector.add(None, "delivery", f"{name!r} is neither a contract id nor a technology")
    for name in sorted(set(config.contract_annual_mwh) - set(ids)):
        collector.add(None, "contract_annual_mwh", f"energy given for unknown contract {name!r}")
    if not contracts:
        collector.add(None, None, "no contracts to forecast")
    members: dict[GroupKey, list[tuple[str, float, np.ndarray]]] = {}
    build_probability: dict[int, float] = {}
    for row, contract in enumerate(contracts, start=1):
        cid = getattr(contract, "contract_id", None)
        if not cid:
            collector.add(row, "contract_id", "not a contract (no contract_id)")
            continue
        tech = technology_of(contract, config)
        if tech not in TECHNOLOGIES:
            collector.add(
                row,
                "technology",
                f"contract {cid}: technology unknown ({tech!r}); "
                f"give it in contract_technologies as one of {TECHNOLOGIES}",
            )
        if contract.scheme not in SCHEMES:
            collector.add(row, "scheme", f"contract {cid}: unknown scheme {contract.scheme!r}")
        if contract.reference_basis not in BASES:
            collector.add(
                row,
                "reference_basis",
                f"contract {cid}: unknown basis {contract.reference_basis!r}",
            )
        if contract.currency != config.currency:
            collector.add(
                row,
                "currency",
                f"contract {cid} pays in {contract.currency}, the forecast is in {config.currency}",
            )
        fx = Decimal(1)
        if contract.price_currency != contract.currency:
            rate = config.fx_rates.get(contract.price_currency)
            if rate is None:
                collector.add(
                    row,
                    "strike_currency",
                    f"contract {cid}: strike in "
                    f"{contract.price_currency} needs fx_rates[{contract.price_currency!r}]",
                )
            else:
                fx = rate
        if collector:
            continue
        rule = contract.negative_run_hours()
        key = GroupKey(
            technology=str(tech),
            scheme=contract.scheme,
            basis=contract.reference_basis,
            zero_floor=bool(contract.zero_floor),
            rule=-1 if rule is None else int(rule),
            rate_floor=_float(contract.floor, -np.inf),
            rate_cap=_float(contract.cap, np.inf),
            upper_price=float(contract.upper_price * fx)
            if contract.upper_price is not None
            else np.nan,
        )
        if contract.indexation == "cpi":
            key = dataclasses.replace(
                key,
                index_base_month=str(contract.index_base_month),
                index_month=int(contract.index_month),
                indexed_share=float(contract.indexed_share),
            )
        delivery = pipeline_delivery(contract, str(tech), config)
        if delivery is not None and delivery.probability < 1:
            key = dataclasses.replace(key, pipeline=len(build_probability))
            build_probability[key.pipeline] = delivery.probability
        weight = float(contract.capacity_mw) * delivered_share(
            contract.start, contract.end, labels, delivery
        )
        weight *= energy_scale(contract, str(tech), config)
        weight *= ~np.isin(months, list(contract.excluded_months))
        weight *= 1.0 - float(contract.double_benefit_share)
        members.setdefault(key, []).append((cid, float(contract.price * fx), weight))
    collector.raise_if_any()
    groups = []
    for key in sorted(members, key=lambda k: tuple(str(v) for v in vars(k).values())):
        rows = sorted(members[key], key=lambda item: (item[1], item[0]))
        groups.append(
            ContractGroup(
                key=key,
                contract_ids=tuple(r[0] for r in rows),
                strike=np.array([r[1] for r in rows]),
                weight_mw=np.stack([r[2] for r in rows], axis=1),
                strike_factor=indexation_factor(key, labels, config.cpi_inflation),
                build_probability=build_probability.get(key.pipeline, 1.0),
            )
        )
    return groups


def indexation_factor(key: GroupKey, labels: Sequence[str], inflation: float) -> np.ndarray | None:
    """K_t / K_0 = 1 − s + s · CPI_t / CPI_base with CPI growing at a planning `inflation`
    per year; CPI_t is the CPI of the latest re-set month (index_month) not after t."""
    if not key.index_base_month:
        return None
    base_year, base_month = (int(x) for x in key.index_base_month.split("-"))
    factor = np.empty(len(labels))
    for k, label in enumerate(labels):
        year, month = int(label[:4]), int(label[5:])
        if month < key.index_month:
            year -= 1
        elapsed = (year - base_year) * 12 + key.index_month - base_month
        ratio = (1.0 + inflation) ** (elapsed / 12)
        factor[k] = 1.0 - key.indexed_share + key.indexed_share * ratio
    return factor


def approximation_notes(contracts: Sequence[Any], config: ForecastConfig) -> list[str]:
    """What the monthly engine does not model exactly for this portfolio, said plainly."""
    notes = []

    def count(test: Any) -> int:
        return sum(1 for c in contracts if test(c))

    checks = (
        (
            lambda c: c.annual_cap_mwh is not None,
            "annual volume cap not applied (the forecast is an upper bound for these)",
        ),
        (lambda c: c.interval_cap, "per-interval capacity cap not applied (monthly resolution)"),
        (
            lambda c: c.curtailment_compensated,
            "curtailment compensation not modelled (no curtailment in the scenarios)",
        ),
        (
            lambda c: c.reference_basis == "annual_weighted",
            "annual weighted reference taken month by month (no annual true-up)",
        ),
        (
            lambda c: c.reference_basis == "interval" and c.scheme != "cfd",
            "interval reference of a one-sided scheme taken on the month's eligible capture "
            "price (understates payments from hours above and below the strike)",
        ),
        (
            lambda c: c.indexation == "cpi",
            f"strike indexed on a planning CPI growth of {config.cpi_inflation:.1%} a year",
        ),
        (
            lambda c: c.price_currency != c.currency,
            "strike converted at the constant planning rate in fx_rates",
        ),
    )
    for test, text in checks:
        n = count(test)
        if n:
            notes.append(f"{n} contract(s): {text}")
    pipeline = count(
        lambda c: pipeline_delivery(c, technology_of(c, config) or "other", config) is not None
    )
    if pipeline:
        notes.append(
            f"{pipeline} contract(s) in the pipeline: built or not in each scenario with their "
            "delivery probability, term moved by the expected delay (not a random delay)"
        )
    own = count(lambda c: c.contract_id in config.contract_annual_mwh)
    if own:
        notes.append(f"{own} contract(s): energy scaled to their own annual_mwh")
    return notes
