"""Run a forecast: validate, calibrate, simulate in seeded chunks, reduce to tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from treasury.config import ForecastConfig
from treasury.result import ForecastResult

ProgressCallback = Callable[[int, int], None]


def run_forecast(
    contracts: Sequence[Any],
    config: ForecastConfig,
    *,
    progress: ProgressCallback | None = None,
    dask_client: Any = None,
) -> ForecastResult:
    """Forecast the support cost of `contracts` (settlement.Contract) under `config`.

    `progress(done, total)` is called after each chunk of scenarios; `dask_client`
    (a dask.distributed Client) runs the chunks on its workers with the same seeds.
    """
    raise NotImplementedError("forecast engine lands in the next commit")
