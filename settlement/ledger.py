"""Lines, their identities, adjustments against posted lines, statements and their files.

A line's id is a hash of what it says (contract, month, kind, series and the figures), so the
same inputs always give the same ids. Posted lines are never edited: a re-run compares what the
period's lines should be now with what was posted (originals plus earlier adjustments) and posts
only the differences, as `adjustment` lines that name the line they correct.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

from settlement.model import Line, Statement

LINE_COLUMNS = [f.name for f in fields(Line)]
_new_line = object.__new__
STATEMENT_COLUMNS = [
    "producer",
    "month",
    "currency",
    "lines",
    "paid_to_producer",
    "paid_by_producer",
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
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines_path, statements_path = out / "lines.csv", out / "statements.csv"
    with lines_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LINE_COLUMNS)
        for line in lines:
            writer.writerow([_text(getattr(line, name)) for name in LINE_COLUMNS])
    with statements_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(STATEMENT_COLUMNS)
        for st in statements:
            writer.writerow(
                [
                    st.producer,
                    st.month,
                    st.currency,
                    len(st.lines),
                    st.paid_to_producer,
                    st.paid_by_producer,
                    st.net,
                ]
            )
    return lines_path, statements_path


def read_lines(path: str | Path) -> list[Line]:
    """Posted lines from a `lines.csv` written by `write_files`."""
    out = []
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):

            def opt_dec(v: str) -> Decimal | None:
                return Decimal(v) if v else None

            out.append(
                Line(
                    row["line_id"],
                    row["contract_id"],
                    row["producer"],
                    row["month"],
                    row["kind"],
                    opt_dec(row["reference_price"]),
                    row["reference_series"] or None,
                    int(row["eligible_kwh"]),
                    int(row["excluded_kwh"]),
                    opt_dec(row["rate"]),
                    Decimal(row["amount"]),
                    row["currency"],
                    row["direction"],
                    row["corrects_line_id"] or None,
                    row["explanation"],
                    row.get("adjusted_kind") or None,
                )
            )
    return out
