"""The forecast of one known path: realised prices and meter data, settled with settlement's
exact rules (integer/Decimal money, one rounding per line), so forecast and settlement of a
past month agree to the tetri. Prices ± the sensitivity are settled the same way, on prices
scaled and rounded half-up to 0.01 per MWh.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from mzekari.money import D
from mzekari.vocabulary import MARKET_TZ
from settlement import Contract, MeterData, PriceSeries, settle_month
from settlement.prices import round_half_up_div
from treasury.config import ForecastConfig
from treasury.result import ForecastResult

ZERO = Decimal(0)


def scaled_prices(prices: Mapping[str, PriceSeries], factor: Decimal) -> dict[str, PriceSeries]:
    """Every price × factor, rounded half-up to 0.01 per MWh (int hundredths stay exact)."""
    numerator, exponent = factor.as_integer_ratio()
    out = {}
    for name, series in prices.items():
        hundredths = round_half_up_div(
            series.price_hundredths.astype(np.int64) * numerator, exponent
        )
        monthly = {
            m: int(round_half_up_div(np.array([v * numerator]), exponent)[0])
            for m, v in series.monthly.items()
        }
        out[name] = dataclasses.replace(
            series, price_hundredths=hundredths, monthly=monthly, _cache={}
        )
    return out


def _month_amounts(
    contracts: Sequence[Contract],
    prices: Mapping[str, PriceSeries],
    meters: MeterData,
    month: str,
    tz: str,
    settle_kwargs: dict[str, Any],
) -> tuple[Decimal, Decimal, Decimal, int, int]:
    """Net, paid out, paid back, eligible and excluded kWh of one month."""
    settled = settle_month(contracts, prices, meters, month, tz=tz, **settle_kwargs)
    per_contract: dict[str, Decimal] = {}
    eligible = excluded = 0
    for line in settled.computed_lines:
        per_contract[line.contract_id] = per_contract.get(line.contract_id, ZERO) + line.amount
        if line.kind == "support":
            eligible += line.eligible_kwh
            excluded += line.excluded_kwh
    out = sum((v for v in per_contract.values() if v > 0), ZERO)
    back = -sum((v for v in per_contract.values() if v < 0), ZERO)
    return out - back, out, back, eligible, excluded


def forecast_realised(
    contracts: Sequence[Contract],
    prices: Mapping[str, PriceSeries],
    meters: MeterData,
    config: ForecastConfig,
    *,
    tz: str = MARKET_TZ,
    **settle_kwargs: Any,
) -> ForecastResult:
    """Forecast with a single path equal to the given prices and generation, month by month.

    Every statistic of a month is that one path's exact amount (Decimal). `settle_kwargs`
    (fx_rates, cpi, profiles) go to `settlement.settle_month` unchanged.
    """
    started = time.perf_counter()
    shift = D(repr(config.sensitivity))
    scenarios = {
        "net": prices,
        "minus": scaled_prices(prices, 1 - shift),
        "plus": scaled_prices(prices, 1 + shift),
    }
    rows = []
    for month in config.month_labels:
        net, out, back, eligible, excluded = _month_amounts(
            contracts, prices, meters, month, tz, settle_kwargs
        )
        minus = _month_amounts(contracts, scenarios["minus"], meters, month, tz, settle_kwargs)[0]
        plus = _month_amounts(contracts, scenarios["plus"], meters, month, tz, settle_kwargs)[0]
        rows.append(
            {
                "month": month,
                "expected": net,
                "p5": net,
                "p50": net,
                "p95": net,
                "reserve": net,
                "expected_se": ZERO,
                "reserve_se": ZERO,
                "payments_out": out,
                "paybacks_in": back,
                "expected_prices_minus": minus,
                "expected_prices_plus": plus,
                "energy_mwh": eligible / 1000,
                "excluded_mwh": excluded / 1000,
            }
        )
    monthly = pd.DataFrame(rows)
    annual_rows = []
    for year, part in monthly.groupby(monthly["month"].str[:4], sort=True):
        row: dict[str, Any] = {"year": int(str(year)), "months": len(part)}
        for name in (
            "expected",
            "payments_out",
            "paybacks_in",
            "expected_prices_minus",
            "expected_prices_plus",
        ):
            row[name] = sum(part[name], ZERO)
        for name in ("p5", "p50", "p95", "reserve"):
            row[name] = row["expected"]
        row["expected_se"] = row["reserve_se"] = ZERO
        row["energy_mwh"] = float(part["energy_mwh"].sum())
        if config.auction_budget is not None:
            row["budget"] = config.auction_budget * len(part) / 12
            row["headroom_expected"] = row["budget"] - row["expected"]
            row["headroom_p95"] = row["budget"] - row["p95"]
            row["headroom_reserve"] = row["budget"] - row["reserve"]
        annual_rows.append(row)
    return ForecastResult(
        config=config,
        monthly=monthly,
        annual=pd.DataFrame(annual_rows),
        contracts=len(contracts),
        scenarios=1,
        mode="exact",
        runtime_s=time.perf_counter() - started,
    )
