"""Loading and validating contracts from CSV, JSON or records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from settlement.model import Contract


def contracts_from_records(records: list[dict[str, Any]], source: str = "contracts") -> list[Contract]:
    raise NotImplementedError


def load_contracts(path: str | Path) -> list[Contract]:
    raise NotImplementedError
