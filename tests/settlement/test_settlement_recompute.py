"""An independent recomputation of every payment, written without the engine's arrays.

It walks intervals one by one with datetime/zoneinfo and Decimal, finds negative-price runs by
stepping hour by hour through a dict of prices, and rounds each line at the end. Random
contracts (seeded) cover every scheme with interval and monthly bases and the rules.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pandas as pd
from settlement_builders import meters, prices

from settlement import contracts_from_records, settle_month

TZ = ZoneInfo("Asia/Tbilisi")
HOUR = timedelta(hours=1)
CENT = Decimal("0.01")


def in_june(ts: datetime) -> bool:
    local = ts.astimezone(TZ)
    return (local.year, local.month) == (2025, 6)


def run_hours(price: dict[datetime, Decimal], ts: datetime) -> int:
    """Length in hours of the negative run containing ts (0 if the price is not negative)."""
    if price[ts] >= 0:
        return 0
    n, t = 1, ts - HOUR
    while t in price and price[t] < 0:
        n, t = n + 1, t - HOUR
    t = ts + HOUR
    while t in price and price[t] < 0:
        n, t = n + 1, t + HOUR
    return n


def rate_of(c: dict, r: Decimal) -> Decimal:
    k = Decimal(c["price"])
    if c.get("zero_floor") == "true" and r < 0:
        r = Decimal(0)
    if c["scheme"] == "cfd":
        upper = Decimal(c["upper_price"]) if c.get("upper_price") else k
        return max(k - r, Decimal(0)) - max(r - upper, Decimal(0))
    if c["scheme"] == "variable_premium":
        return max(k - r, Decimal(0))
    return k


def bounded(c: dict, rate: Decimal) -> Decimal:
    if c.get("floor"):
        rate = max(rate, Decimal(c["floor"]))
    if c.get("cap"):
        rate = min(rate, Decimal(c["cap"]))
    return rate


def recompute(c: dict, price: dict[datetime, Decimal], energy: dict[datetime, int]) -> dict:
    hours = sorted(t for t in energy if in_june(t))
    month_prices = [price[t] for t in sorted(price) if in_june(t)]
    if c["reference_basis"] == "monthly_baseload":
        monthly = (sum(month_prices) / len(month_prices)).quantize(CENT, ROUND_HALF_UP)
    elif c["reference_basis"] == "monthly_weighted":
        total = sum(energy[t] for t in hours)
        monthly = (sum(price[t] * energy[t] for t in hours) / total).quantize(CENT, ROUND_HALF_UP)
    else:
        monthly = None
    rule = c["negative_price_rule"]
    out = {
        "support": Decimal(0),
        "rate_cap": Decimal(0),
        "rate_floor": Decimal(0),
        "negative_kwh": 0,
        "eligible_kwh": 0,
    }
    for t in hours:
        q = energy[t]
        if (rule == "any" and price[t] < 0) or (
            rule.startswith("run:") and run_hours(price, t) >= int(rule[4:])
        ):
            out["negative_kwh"] += q
            continue
        r = monthly if monthly is not None else price[t]
        raw = rate_of(c, r)
        paid = bounded(c, raw)
        mwh = Decimal(q) / 1000
        out["support"] += raw * mwh
        out["rate_cap" if paid < raw else "rate_floor"] += (paid - raw) * mwh
        out["eligible_kwh"] += q
    for key in ("support", "rate_cap", "rate_floor"):
        out[key] = out[key].quantize(CENT, ROUND_HALF_UP)
    return out


def random_contract(rng: random.Random, i: int) -> dict:
    scheme = rng.choice(["cfd", "variable_premium", "fixed_premium", "feed_in"])
    c = dict(
        contract_id=f"R{i:03d}",
        producer=f"P{i % 4}",
        scheme=scheme,
        price=f"{rng.randint(500, 15000) / 100:.2f}",
        currency="GEL",
        start="2025-06-01",
        end="2026-06-30",
        capacity_mw="3",
        reference_basis=rng.choice(
            ["interval", "interval", "monthly_baseload", "monthly_weighted"]
        ),
        negative_price_rule=rng.choice(["none", "any", "run:1", "run:2", "run:3"]),
    )
    if rng.random() < 0.3:
        c["zero_floor"] = "true"
    if scheme in ("cfd", "variable_premium") and rng.random() < 0.3:
        c["cap"] = f"{rng.randint(100, 4000) / 100:.2f}"
    if scheme == "cfd" and rng.random() < 0.3:
        c["floor"] = f"{-rng.randint(0, 3000) / 100:.2f}"
    if scheme == "cfd" and rng.random() < 0.2:
        c["upper_price"] = f"{float(c['price']) + rng.randint(0, 3000) / 100:.2f}"
    return c


def test_engine_matches_the_interval_by_interval_recomputation():
    rng = random.Random(5652)
    start = datetime(2025, 5, 31, 0, tzinfo=UTC)
    stamps = [start + i * HOUR for i in range(24 * 32)]
    price = {
        t: Decimal(
            rng.choice([rng.randint(-3000, -1), rng.randint(0, 20000), rng.randint(0, 20000)])
        )
        / 100
        for t in stamps
    }
    records = [random_contract(rng, i) for i in range(40)]
    contracts = contracts_from_records(records)
    june = [t for t in stamps if in_june(t)]
    energy = {c["contract_id"]: {t: rng.randint(0, 3000) for t in june} for c in records}
    index = pd.DatetimeIndex(stamps)
    series = prices(index, [str(price[t]) for t in stamps])
    june_index = pd.DatetimeIndex(june)
    data = meters({cid: (june_index, [e[t] for t in june]) for cid, e in energy.items()})
    result = settle_month(contracts, {"dam": series}, data, "2025-06")
    for c in records:
        expected = recompute(c, price, energy[c["contract_id"]])
        got = {}
        for line in result.lines:
            if line.contract_id == c["contract_id"]:
                got[line.kind] = got.get(line.kind, Decimal(0)) + line.amount
                if line.kind == "negative_price_exclusion":
                    got["negative_kwh"] = line.excluded_kwh
                if line.kind == "support":
                    got["eligible_kwh"] = line.eligible_kwh
        for key in ("support", "rate_cap", "rate_floor"):
            assert got.get(key, Decimal("0.00")) == expected[key], (c, key)
        assert got.get("negative_kwh", 0) == expected["negative_kwh"], c
        assert got["eligible_kwh"] == expected["eligible_kwh"], c
