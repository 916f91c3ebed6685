"""Bid securities and the penalty schedule drawn from them (cf. Germany § 55 EEG).

A round may require a security per MW of capacity bid. Losers get theirs back at award,
winners at commissioning. When an awarded plant is late, or awarded capacity is given back,
a penalty per kW is drawn from the security by a schedule of months since award (e.g.
onshore wind: EUR 10/20/30 per kW from month 24/26/28); capacity within the tolerance share
of the awarded capacity is not penalised. A draw never exceeds the security held.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mzekari.errors import InputError, ProblemCollector
from mzekari.money import MINOR_UNITS, round_money

MAX_MONTHS = 600


@dataclass(frozen=True, order=True)
class PenaltyStep:
    """From `from_month` months after award on, `per_kw` is due per kW not commissioned."""

    from_month: int
    per_kw: Decimal


@dataclass(frozen=True)
class SecurityRules:
    currency: str
    security_per_mw: Decimal
    steps: tuple[PenaltyStep, ...]  # ascending months
    tolerance_share: Decimal = Decimal(0)  # of awarded capacity, penalty-free

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "security_per_mw": format(self.security_per_mw, "f"),
            "tolerance_share": format(self.tolerance_share, "f"),
            "steps": [
                {"from_month": s.from_month, "per_kw": format(s.per_kw, "f")} for s in self.steps
            ],
        }


def _decimal(value: Any, field: str, problems: ProblemCollector) -> Decimal | None:
    if isinstance(value, float | bool) or value is None:
        problems.add(None, field, f"expected a decimal number as text or integer, got {value!r}")
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        problems.add(None, field, f"not a number: {value!r}")
        return None
    if not number.is_finite() or number < 0 or number > Decimal("1e9"):
        problems.add(None, field, f"must be between 0 and 1e9, got {value!r}")
        return None
    return number


def parse_rules(data: Any, source: str = "securities") -> SecurityRules:
    """Rules from JSON; every problem is reported at once."""
    problems = ProblemCollector(source)
    if not isinstance(data, dict):
        problems.add(None, None, "expected an object")
        problems.raise_if_any()
    unknown = set(data) - {"currency", "security_per_mw", "tolerance_share", "steps"}
    for name in sorted(unknown):
        problems.add(None, name, "unknown field")
    currency = data.get("currency")
    if currency not in MINOR_UNITS:
        problems.add(None, "currency", f"one of {', '.join(sorted(MINOR_UNITS))}, got {currency!r}")
    per_mw = _decimal(data.get("security_per_mw"), "security_per_mw", problems)
    tolerance = _decimal(data.get("tolerance_share", "0"), "tolerance_share", problems)
    if tolerance is not None and tolerance > 1:
        problems.add(None, "tolerance_share", f"must be at most 1, got {tolerance}")
    raw_steps = data.get("steps", [])
    steps: list[PenaltyStep] = []
    if not isinstance(raw_steps, list) or len(raw_steps) > 24:
        problems.add(None, "steps", "expected a list of at most 24 {from_month, per_kw}")
        raw_steps = []
    for i, step in enumerate(raw_steps, start=1):
        field = f"steps[{i}]"
        if not isinstance(step, dict) or set(step) != {"from_month", "per_kw"}:
            problems.add(None, field, "expected exactly {from_month, per_kw}")
            continue
        month = step["from_month"]
        if not isinstance(month, int) or isinstance(month, bool) or not 0 <= month <= MAX_MONTHS:
            problems.add(None, f"{field}.from_month", f"months 0..{MAX_MONTHS}, got {month!r}")
            continue
        per_kw = _decimal(step["per_kw"], f"{field}.per_kw", problems)
        if per_kw is not None:
            steps.append(PenaltyStep(month, per_kw))
    months = [s.from_month for s in steps]
    if months != sorted(set(months)):
        problems.add(None, "steps", "from_month must strictly increase")
    elif any(b.per_kw < a.per_kw for a, b in itertools.pairwise(steps)):
        problems.add(None, "steps", "a later step may not charge less per kW")
    problems.raise_if_any()
    assert per_mw is not None and tolerance is not None and isinstance(currency, str)
    return SecurityRules(currency, per_mw, tuple(steps), tolerance)


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (31 Jan → 28 Feb is 0; → 29 Feb is 1 in a leap
    year, as 31 Jan → 1 Mar is)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def security_due(rules: SecurityRules, capacity_mw: Decimal) -> Decimal:
    return round_money(rules.security_per_mw * capacity_mw, rules.currency, "half_up")


@dataclass(frozen=True)
class Penalty:
    months_since_award: int
    per_kw: Decimal
    penalised_kw: Decimal
    amount: Decimal  # the schedule's amount, before the cap at the security held
    explanation: str


def penalty(
    rules: SecurityRules,
    awarded_mw: Decimal,
    commissioned_mw: Decimal,
    awarded_on: date,
    as_of: date,
) -> Penalty:
    """The penalty due on `as_of` for capacity not commissioned (or given back)."""
    if not 0 <= commissioned_mw <= awarded_mw:
        raise InputError(f"commissioned capacity {commissioned_mw} MW outside 0..{awarded_mw} MW")
    months = months_between(awarded_on, as_of)
    due = [s for s in rules.steps if months >= s.from_month]
    per_kw = due[-1].per_kw if due else Decimal(0)
    missing_kw = (awarded_mw - commissioned_mw) * 1000
    tolerated_kw = awarded_mw * 1000 * rules.tolerance_share
    penalised_kw = max(Decimal(0), missing_kw - tolerated_kw)
    amount = round_money(per_kw * penalised_kw, rules.currency, "half_up")
    explanation = (
        f"{months} month(s) after award: {per_kw} {rules.currency}/kW × {penalised_kw} kW "
        f"({missing_kw} kW not commissioned, {tolerated_kw} kW within the tolerance "
        f"share {rules.tolerance_share})"
    )
    return Penalty(months, per_kw, penalised_kw, amount, explanation)
