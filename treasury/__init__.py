"""Treasury forecast: what the support contracts will cost, month by month, and the reserve needed.

    from settlement import load_contracts
    from treasury import ForecastConfig, run_forecast
    config = ForecastConfig(start_month="2026-01", months=60, scenarios=2000, seed=1,
                            price_history="scenarios/prices/ge_esco_balancing_monthly.csv",
                            contract_technologies={"GE-H-01": "hydro"}, auction_budget="25000000")
    result = run_forecast(load_contracts("contracts.csv"), config, progress=print)
    result.monthly, result.annual, result.summary(), result.write(out_dir)

Modes: stochastic (a price model calibrated on a monthly or hourly history), given monthly
price paths (`price_paths`), and exact (`realised_prices` + `realised_meters`: one path
settled with settlement's own money rules). The public names load lazily so `mzekari --help`
does not import pandas or numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ForecastConfig", "ForecastResult", "contracts_from_bids", "run_forecast"]

if TYPE_CHECKING:
    from treasury.bids import contracts_from_bids
    from treasury.config import ForecastConfig
    from treasury.engine import run_forecast
    from treasury.result import ForecastResult

_WHERE = {
    "ForecastConfig": "treasury.config",
    "ForecastResult": "treasury.result",
    "run_forecast": "treasury.engine",
    "contracts_from_bids": "treasury.bids",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'treasury' has no attribute {name!r}")
