"""Checks of uploaded CSV chunks under settlement's cell rules; each problem names its row and
field, with the same messages as the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mzekari.errors import InputError, Problem, ProblemCollector
from settlement.tables import TIMESTAMP_HINT, UTC_NS, checked_cells, whole_kwh

MAX_PROBLEMS = 1000


@dataclass
class Problems:
    """Collects at most MAX_PROBLEMS problems, counting the rest."""

    source: str
    items: list[Problem] = field(default_factory=list)
    more: int = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(self.source, row, column, message))
        else:
            self.more += 1

    def add_rows(self, rows: np.ndarray, column: str, values: Any, message: str) -> None:
        for index, (row, value) in enumerate(zip(rows.tolist(), list(values), strict=True)):
            self.add(int(row), column, f"{message}: {value!r}")
            if self.more:  # the list is full: count the rest without formatting them
                self.more += len(rows) - index - 1
                break

    def all(self) -> list[Problem]:
        if self.more:
            return [
                *self.items,
                Problem(self.source, None, None, f"… and {self.more} more problem(s)"),
            ]
        return list(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def check_header(
    columns: list[str],
    required: tuple[str, ...],
    problems: Problems,
    optional: tuple[str, ...] = (),
) -> bool:
    missing = [c for c in required if c not in columns]
    extra = [c for c in columns if c not in required and c not in optional]
    if missing:
        problems.add(None, ", ".join(missing), "missing column(s)")
    if extra:
        expected = list(required) + [f"{c} (optional)" for c in optional]
        problems.add(None, ", ".join(extra), f"unexpected column(s); expected {expected}")
    return not missing and not extra


def shared_check(problems: Problems, check: Any) -> Any:
    """Run one of settlement's readers or cell rules and copy what it found into `problems`
    (None when it refused the input as a whole)."""
    collector = ProblemCollector(problems.source)
    try:
        result = check(collector)
    except InputError as exc:
        collector.extend(exc.problems)
        result = None
    for problem in collector.problems:
        problems.add(problem.row, problem.field, problem.message)
    return result


def timestamps_ns(
    values: pd.Series, rows: np.ndarray, column: str, problems: Problems
) -> tuple[np.ndarray, np.ndarray]:
    """UTC nanoseconds and a validity mask, under settlement's one timestamp rule: ISO 8601
    with an offset (a reading without one cannot be placed in the settlement month)."""
    text = values.astype("string").fillna("").to_numpy(dtype=object)
    return shared_check(
        problems,
        lambda c: checked_cells(text, UTC_NS, c, column, TIMESTAMP_HINT, rows, MAX_PROBLEMS),
    )


def whole_numbers(
    values: pd.Series, rows: np.ndarray, column: str, problems: Problems
) -> tuple[np.ndarray, np.ndarray]:
    """Whole, non-negative kWh under the meter files' rule (settlement.tables.whole_kwh)."""
    text = values.astype("string").fillna("").to_numpy(dtype=object)
    return shared_check(problems, lambda c: whole_kwh(text, c, column, rows))
