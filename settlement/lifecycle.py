"""A privileged producer's status over its contract's life, and the support it earns.

Status is granted at award, then moves by actions: `commission`, `suspend`, `resume`,
`revoke`, `terminate`, `expire`. Revoked, terminated and expired are final. Every action has
an effective date (a local calendar date of the market); support stops at the start of that
day and, for `resume` and `commission`, restarts at it.

`support_windows` turns a contract's term and its status history into the local dates on
which support is paid; the settlement engine excludes every interval outside them.
`read_status` reads a status CSV for `mzekari settle --status`.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from mzekari.errors import InputError, Problem, ProblemCollector
from settlement.model import Contract

STATUSES = ("granted", "commissioned", "suspended", "revoked", "terminated", "expired")
FINAL = frozenset({"revoked", "terminated", "expired"})
# action: (statuses it may leave, the status it sets)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "commission": (frozenset({"granted"}), "commissioned"),
    "suspend": (frozenset({"commissioned"}), "suspended"),
    "resume": (frozenset({"suspended"}), "commissioned"),
    "revoke": (frozenset({"granted", "commissioned", "suspended"}), "revoked"),
    "terminate": (frozenset({"granted", "commissioned", "suspended"}), "terminated"),
    "expire": (frozenset({"commissioned", "suspended"}), "expired"),
}
# Dates a contract's life may use: bounds every date before any arithmetic on it.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
# When the support term runs: from the contract's fixed start date, or from commissioning.
TERM_FROM = ("start", "commissioning")


class TransitionRefused(ValueError):
    """The action is not allowed from the contract's current status or on that date."""


@dataclass(frozen=True)
class StatusEvent:
    action: str
    effective: date


@dataclass(frozen=True)
class SupportWindow:
    """Inclusive local dates on which support is paid."""

    first_day: date
    last_day: date

    def __str__(self) -> str:
        return f"{self.first_day} to {self.last_day}"


def status_after(events: Sequence[StatusEvent]) -> str:
    status = "granted"
    for event in events:
        status = ACTIONS[event.action][1]
    return status


def check_transition(
    status: str,
    action: str,
    effective: date,
    *,
    last_effective: date,
    term_end: date,
) -> str:
    """The status `action` leads to, or TransitionRefused saying why not.

    `last_effective`: the grant date or the latest event's effective date; events are in
    order, so a new one may not take effect before it. `term_end`: expiry comes after it.
    """
    if action not in ACTIONS:
        raise TransitionRefused(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    sources, target = ACTIONS[action]
    if status not in sources:
        why = (
            "a final status"
            if status in FINAL
            else f"{action} needs {' or '.join(sorted(sources))}"
        )
        raise TransitionRefused(f"cannot {action}: the contract is {status} ({why})")
    if effective < last_effective:
        raise TransitionRefused(
            f"cannot {action} effective {effective}: the contract's last status change "
            f"took effect on {last_effective}"
        )
    if action == "expire" and effective <= term_end:
        raise TransitionRefused(f"cannot expire effective {effective}: the term runs to {term_end}")
    if action == "commission" and effective > term_end:
        raise TransitionRefused(
            f"cannot commission effective {effective}: after the term's end {term_end}"
        )
    return target


def term_dates(start: date, years: int) -> tuple[date, date]:
    """First and last day of a term of `years` from `start` (from 29 Feb: to 28 Feb)."""
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:
        anniversary = date(start.year + years, 3, 1)
    return start, anniversary - timedelta(days=1)


def support_windows(
    term_start: date, term_end: date, term_from: str, events: Sequence[StatusEvent]
) -> tuple[SupportWindow, ...]:
    """The dates in [term_start, term_end] on which support is paid.

    Under `term_from="start"` support runs from the start date whatever the commissioning
    date; under "commissioning" only from the commissioning date on. A suspension removes
    its days; revocation, termination and expiry end support on the day before they take
    effect.
    """
    if term_from not in TERM_FROM:
        raise ValueError(f"term_from must be one of {TERM_FROM}, got {term_from!r}")
    windows: list[SupportWindow] = []
    paying_since: date | None = term_start if term_from == "start" else None
    for event in events:
        target = ACTIONS[event.action][1]
        if target == "commissioned":
            if paying_since is None:
                paying_since = event.effective
        elif paying_since is not None:
            windows.append(SupportWindow(paying_since, event.effective - timedelta(days=1)))
            paying_since = None
        if target in FINAL:
            break
    else:
        if paying_since is not None:
            windows.append(SupportWindow(paying_since, term_end))
    clipped = (
        SupportWindow(max(w.first_day, term_start), min(w.last_day, term_end)) for w in windows
    )
    return tuple(w for w in clipped if w.first_day <= w.last_day)


STATUS_COLUMNS = ("contract_id", "action", "effective_date")


def windows_from_status_rows(
    rows: Sequence[Mapping[str, str]], contracts: Sequence[Contract], source: str
) -> dict[str, tuple[SupportWindow, ...]]:
    """Support windows from a status file's rows (`contract_id, action, effective_date` and an
    optional `term_from`, the same on every row of a contract; default `start`), each
    contract's rows in order. Every problem is reported at once, by row and field."""
    problems = ProblemCollector(source)
    by_id = {c.contract_id: c for c in contracts}
    events: dict[str, list[StatusEvent]] = {}
    state: dict[str, tuple[str, date]] = {}
    term_from: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        cid = (row.get("contract_id") or "").strip()
        contract = by_id.get(cid)
        if contract is None:
            problems.add(number, "contract_id", f"unknown contract {cid!r}")
            continue
        rule = (row.get("term_from") or "start").strip()
        if rule not in TERM_FROM or term_from.setdefault(cid, rule) != rule:
            problems.add(number, "term_from", f"one of {TERM_FROM}, the same on each row of {cid}")
            continue
        try:
            effective = date.fromisoformat((row.get("effective_date") or "").strip())
        except ValueError:
            problems.add(number, "effective_date", f"expected YYYY-MM-DD in {EARLIEST}..{LATEST}")
            continue
        if not EARLIEST <= effective <= LATEST:
            problems.add(number, "effective_date", f"outside {EARLIEST}..{LATEST}")
            continue
        action = (row.get("action") or "").strip()
        status, last = state.get(cid, ("granted", EARLIEST))
        try:
            status = check_transition(
                status, action, effective, last_effective=last, term_end=contract.end
            )
        except TransitionRefused as exc:
            problems.add(number, "action", f"{cid}: {exc}")
            continue
        state[cid] = (status, effective)
        events.setdefault(cid, []).append(StatusEvent(action, effective))
    problems.raise_if_any()
    return {
        cid: support_windows(by_id[cid].start, by_id[cid].end, term_from[cid], evs)
        for cid, evs in events.items()
    }


def read_status(
    path: str | Path, contracts: Sequence[Contract]
) -> dict[str, tuple[SupportWindow, ...]]:
    """A status CSV (see `windows_from_status_rows`) as support windows per contract."""
    source = str(path)
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in STATUS_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(Problem(source, None, missing[0], "missing column"))
            rows = list(reader)
    except OSError as exc:
        raise InputError(Problem(source, None, None, f"cannot read: {exc.strerror}")) from exc
    return windows_from_status_rows(rows, contracts, source)
