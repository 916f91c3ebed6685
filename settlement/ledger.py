"""Lines, their identities, adjustments against posted lines, statements and their files.

A line's id is a hash of what it says (contract, month, kind, series and the figures), so the
same inputs always give the same ids. Posted lines are never edited: a re-run compares what the
period's lines should be now with what was posted (originals plus earlier adjustments) and posts
only the differences, as `adjustment` lines that name the line they correct.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from mzekari.errors import ProblemCollector
from mzekari.money import parse_decimal
from mzekari.months import parse_month
from mzekari.vocabulary import LINE_KINDS
from settlement.model import Line, Statement
from settlement.tables import Column, Source, read_table

LINE_COLUMNS = [f.name for f in fields(Line)]
_new_line = object.__new__
STATEMENT_COLUMNS = [
    "producer",
    "month",
    "currency",
    "lines",
    "paid_to_producer",
    "paid_by_producer",
    "reductions",
    "net",
]


def make_line(
    *,
    contract_id: str,
    producer: str,
    month: str,
    kind: str,
    amount: Decimal,
    currency: str,
    reference_price: Decimal | None = None,
    reference_series: str | None = None,
    eligible_kwh: int = 0,
    excluded_kwh: int = 0,
    rate: Decimal | None = None,
    explanation: str = "",
    corrects_line_id: str | None = None,
    adjusted_kind: str | None = None,
) -> Line:
    return new_line(
        contract_id,
        producer,
        month,
        kind,
        reference_price,
        reference_series,
        eligible_kwh,
        excluded_kwh,
        rate,
        amount,
        currency,
        corrects_line_id,
        explanation,
        adjusted_kind,
    )


def new_line(
    contract_id: str,
    producer: str,
    month: str,
    kind: str,
    reference_price: Decimal | None,
    reference_series: str | None,
    eligible_kwh: int,
    excluded_kwh: int,
    rate: Decimal | None,
    amount: Decimal,
    currency: str,
    corrects_line_id: str | None,
    explanation: str,
    adjusted_kind: str | None,
) -> Line:
    """A line with its id: a hash of what it says (same inputs → same id)."""
    text = (
        f"{contract_id}|{month}|{kind}|{reference_series or ''}|{adjusted_kind or ''}|"
        f"{corrects_line_id or ''}|{amount}|{eligible_kwh}|{excluded_kwh}|"
        f"{'' if reference_price is None else reference_price}|"
        f"{'' if rate is None else rate}|{currency}"
    )
    ident = hashlib.blake2b(text.encode(), digest_size=10).hexdigest()
    direction = "to_producer" if amount > 0 else "to_counterparty" if amount < 0 else "none"
    # A frozen dataclass's __init__ sets each field through object.__setattr__; filling the
    # instance dict directly gives the same immutable Line three times faster (hot path:
    # one line per contract and month).
    line = _new_line(Line)
    line.__dict__.update(
        zip(
            LINE_COLUMNS,
            (
                ident,
                contract_id,
                producer,
                month,
                kind,
                reference_price,
                reference_series,
                int(eligible_kwh),
                int(excluded_kwh),
                rate,
                amount,
                currency,
                direction,
                corrects_line_id,
                explanation,
                adjusted_kind,
            ),
            strict=True,
        )
    )
    return line


def _key(line: Line) -> tuple[str, str, str, str | None]:
    kind = line.adjusted_kind if line.kind == "adjustment" and line.adjusted_kind else line.kind
    return (line.contract_id, line.month, kind, line.reference_series)


def reconcile(
    target: Sequence[Line], posted: Iterable[Line], month: str, contract_ids: set[str] | None = None
) -> list[Line]:
    """The lines to post now for `month`, given what was already posted for it.

    Only posted lines of `contract_ids` (the contracts this run settles) are considered, so
    settling a few contracts never reverses the lines of the others.
    """
    posted_by_key: dict[tuple[str, str, str, str | None], list[Line]] = defaultdict(list)
    for line in posted:
        if line.month == month and (contract_ids is None or line.contract_id in contract_ids):
            posted_by_key[_key(line)].append(line)
    if not posted_by_key:
        return list(target)
    out: list[Line] = []
    seen = set()
    for line in target:
        key = _key(line)
        seen.add(key)
        out.extend(_difference(line, key, posted_by_key.get(key, [])))
    for key, lines in sorted(posted_by_key.items(), key=lambda kv: tuple(map(str, kv[0]))):
        if key not in seen:
            out.extend(_difference(None, key, lines))
    return out


def _difference(
    line: Line | None, key: tuple[str, str, str, str | None], posted: list[Line]
) -> list[Line]:
    if not posted:
        if line is None:
            return []
        # A line that was not posted before is new now: it is posted as an adjustment.
        return [
            make_line(
                contract_id=line.contract_id,
                producer=line.producer,
                month=line.month,
                kind="adjustment",
                amount=line.amount,
                currency=line.currency,
                reference_price=line.reference_price,
                reference_series=line.reference_series,
                eligible_kwh=line.eligible_kwh,
                excluded_kwh=line.excluded_kwh,
                rate=line.rate,
                adjusted_kind=line.kind,
                explanation=f"new {line.kind} line on re-settlement: {line.explanation}",
            )
        ]
    amount = sum((p.amount for p in posted), Decimal(0))
    eligible = sum(p.eligible_kwh for p in posted)
    excluded = sum(p.excluded_kwh for p in posted)
    original = next((p for p in posted if p.kind != "adjustment"), posted[0])
    new_amount = line.amount if line else Decimal(0)
    new_eligible = line.eligible_kwh if line else 0
    new_excluded = line.excluded_kwh if line else 0
    if (new_amount, new_eligible, new_excluded) == (amount, eligible, excluded):
        return []
    last = posted[-1]
    what = (
        f"re-settled {key[2]}: amount {amount} → {new_amount}, eligible {eligible} → "
        f"{new_eligible} kWh, excluded {excluded} → {new_excluded} kWh"
    )
    return [
        make_line(
            contract_id=key[0],
            producer=(line or original).producer,
            month=key[1],
            kind="adjustment",
            amount=new_amount - amount,
            currency=(line or original).currency,
            reference_price=line.reference_price if line else None,
            reference_series=key[3],
            eligible_kwh=new_eligible - eligible,
            excluded_kwh=new_excluded - excluded,
            rate=line.rate if line else None,
            corrects_line_id=original.line_id,
            adjusted_kind=key[2],
            explanation=f"{what} (posted total of {len(posted)} line(s), last {last.line_id})",
        )
    ]


def statements_of(lines: Sequence[Line]) -> list[Statement]:
    groups: dict[tuple[str, str, str], list[Line]] = defaultdict(list)
    for line in lines:
        groups[(line.producer, line.month, line.currency)].append(line)
    return [Statement(p, m, c, tuple(ls)) for (p, m, c), ls in sorted(groups.items())]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def write_files(
    out_dir: str | Path, lines: Sequence[Line], statements: Sequence[Statement]
) -> tuple[Path, Path]:
    """Both files or neither: each is written to a temporary file beside its target and renamed
    into place only when both are complete (a failure leaves the previous pair untouched)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines_path, statements_path = out / "lines.csv", out / "statements.csv"
    rows: dict[Path, list[list[Any]]] = {
        lines_path: [list(LINE_COLUMNS)]
        + [[_text(getattr(line, name)) for name in LINE_COLUMNS] for line in lines],
        statements_path: [list(STATEMENT_COLUMNS)]
        + [
            [
                st.producer,
                st.month,
                st.currency,
                len(st.lines),
                st.paid_to_producer,
                st.paid_by_producer,
                st.reductions,
                st.net,
            ]
            for st in statements
        ],
    }
    write_atomically(rows)
    return lines_path, statements_path


def write_atomically(tables: dict[Path, list[list[Any]]]) -> None:
    """CSV files all or none: each is written complete beside its target, then all are renamed
    into place; if a rename fails, the targets already replaced get their previous content back."""
    written: dict[Path, str] = {}
    backups: dict[Path, str] = {}
    replaced: list[Path] = []
    try:
        for target, table in tables.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            written[target] = _temp_beside(target)
            with open(written[target], "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(table)
                handle.flush()
                os.fsync(handle.fileno())
            if target.exists():
                backups[target] = _temp_beside(target)
                shutil.copy2(target, backups[target])
        try:
            for target, temp in written.items():
                os.replace(temp, target)
                replaced.append(target)
        except BaseException:
            for target in replaced:
                if target in backups:
                    os.replace(backups.pop(target), target)
                else:
                    target.unlink()
            raise
    finally:
        for temp in [*written.values(), *backups.values()]:
            if os.path.exists(temp):
                os.unlink(temp)


def _temp_beside(target: Path) -> str:
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    return name


_OPTIONAL_LINE_FIELDS = ("adjusted_kind",)


def read_lines(data: Source, source: str | None = None) -> list[Line]:
    """Posted lines from a `lines.csv` written by `write_files`; every field checked."""
    name = source or str(data)
    columns = {
        col: Column(pa.string(), required=col not in _OPTIONAL_LINE_FIELDS) for col in LINE_COLUMNS
    }
    table = read_table(data, columns, name)
    problems = ProblemCollector(name)
    records = table.to_pylist()
    out = []
    for row, record in enumerate(records, start=1):
        line = _line_of(record, row, problems)
        if line is not None:
            out.append(line)
    problems.raise_if_any()
    return unique_lines(out, name)


def _line_of(record: dict[str, str], row: int, problems: ProblemCollector) -> Line | None:
    values: dict[str, object] = {}
    ok = True
    for field_name in LINE_COLUMNS:
        text = (record.get(field_name) or "").strip()
        try:
            if field_name in ("eligible_kwh", "excluded_kwh"):
                if not re.fullmatch(r"-?[0-9]+", text):
                    raise ValueError("expected a whole number of kWh")
                values[field_name] = int(text)
            elif field_name in ("reference_price", "rate"):
                values[field_name] = parse_decimal(text) if text else None
            elif field_name == "amount":
                values[field_name] = parse_decimal(text)
            elif field_name == "month":
                parse_month(text)
                values[field_name] = text
            elif field_name in ("kind", "adjusted_kind") and text and text not in LINE_KINDS:
                raise ValueError(f"unknown kind; known: {', '.join(LINE_KINDS)}")
            elif field_name in _REQUIRED_TEXT and not text:
                raise ValueError("required field is empty")
            else:
                values[field_name] = text or (None if field_name in _NULLABLE else "")
        except (ValueError, TypeError) as exc:
            problems.add(row, field_name, f"{exc}: {text!r}")
            ok = False
    if not ok:
        return None
    return Line(**values)  # type: ignore[arg-type]


_NULLABLE = ("reference_series", "corrects_line_id", "adjusted_kind")
_REQUIRED_TEXT = ("line_id", "contract_id", "producer", "kind", "currency", "direction")


def unique_lines(lines: Iterable[Line], source: str = "posted lines") -> list[Line]:
    """Posted lines with each `line_id` once: a line given twice (the same file passed twice,
    a re-export) counts once; two different lines under one id are refused."""
    seen: dict[str, Line] = {}
    problems = ProblemCollector(source)
    for line in lines:
        first = seen.setdefault(line.line_id, line)
        if first is not line and first != line:
            problems.add(
                None,
                "line_id",
                f"two different lines carry line_id {line.line_id} "
                f"({first.contract_id} {first.month} {first.kind} {first.amount} and "
                f"{line.contract_id} {line.month} {line.kind} {line.amount})",
            )
    problems.raise_if_any()
    return list(seen.values())
