"""Input problems that say where they came from, and the errors that carry them.

Validators collect every problem they find (file, row, field, message) and raise one
`InputError` with all of them, so a user fixes a file in one pass, not one error at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input. `row` is the 1-based data row (header excluded)."""

    source: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "row": self.row,
            "field": self.field,
            "message": self.message,
        }


class MzekariError(Exception):
    """Base of every domain error; the service turns these into HTTP responses in one place."""

    kind = "error"


class InputError(MzekariError, ValueError):
    """Invalid input. Nothing is computed from input that raised this."""

    kind = "invalid_input"

    def __init__(self, problems: Sequence[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("input", None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems: list[Problem] = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  … and {more} more" if more > 0 else ""
        return f"{len(self.problems)} problem(s) in the input:\n{shown}{tail}"


class ProblemCollector:
    """Accumulates problems during a validation pass; `raise_if_any()` at the end."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def add(self, row: int | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(self.source, row, field, message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)
