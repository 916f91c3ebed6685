"""Treasury forecast: what the support contracts will cost, month by month, and the reserve needed.

The public names load lazily so `mzekari --help` does not import pandas or numpy.
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
