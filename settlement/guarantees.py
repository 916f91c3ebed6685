"""Guarantees of origin (law Art. 15): issuance, transfer, cancellation, expiry, recognition.

A GO is one MWh (15(4)). GOs issued together — one installation, one production month — form a
`Batch` numbered 1…volume; a GO's unique id is the batch id and its serial
(``GE-HPP-7-202506-0000401``). Holdings are runs of consecutive serials of one batch held by
one account, as registries keep them (EECS "certificate bundles"); a transfer or cancellation
of part of a run splits it. Every serial of a batch is in exactly one holding, so one MWh is
counted once (15(5)).

Pure: the service keeps batches and holdings in its tables and applies the same operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd

from mzekari.errors import InputError, MzekariError, Problem
from mzekari.months import next_month, parse_month
from mzekari.vocabulary import SCHEMES

COUNTRY = "GE"
KWH_PER_GO = 1000  # 15(4): the standard unit is 1 MWh
VALID_MONTHS = 12  # 15(8): a GO is used within 12 months of the end of its production
SERIAL_WIDTH = 7
FIRST_YEAR, LAST_YEAR = 2000, 2199  # production months a GO here may describe
# Art. 2(1)(e): the renewable sources the law names.
ENERGY_SOURCES = (
    "solar",
    "wind",
    "hydro",
    "geothermal",
    "biomass",
    "biogas",
    "landfill_gas",
    "sewage_gas",
    "ambient",
    "marine",
)
SUPPORT_SCHEMES = ("none", *SCHEMES)
# 15(14): the Parties to the Energy Community Treaty — its nine contracting parties and the
# European Union's member states.
_CONTRACTING_PARTIES = "AL BA GE MD ME MK RS UA XK"
_EU_STATES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
ENERGY_COMMUNITY = frozenset(f"{_CONTRACTING_PARTIES} {_EU_STATES}".split())
ORIGINS = ("issued", "imported")
RECOGNITION = ("recognised", "refused")
STATUSES = ("active", "cancelled")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_TEXT_LIMITS = (
    ("producer", 200),
    ("installation_type", 200),
    ("location", 200),
    ("investment_support", 500),
    ("production_support", 200),
)
# Accounts, consumers and the installation's words: printable, no edge spaces (a trailing
# space would name another, unreachable account) and no leading = + - @ (a spreadsheet
# opening the registry's CSV would run them as formulas).
_NAME = re.compile(r"^(?![=+\-@\s])[^\x00-\x1f\x7f]*(?<!\s)$")
_ID_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_GO_ID = re.compile(r"^(?P<batch>[A-Za-z0-9][A-Za-z0-9._-]{0,99})-(?P<serial>[0-9]{1,12})$")


class GuaranteeConflict(MzekariError):
    """The GOs are not in a state that allows the action (already cancelled, expired, …)."""

    kind = "conflict"


class GuaranteeNotFound(MzekariError):
    """No such GOs in the acting account (an account cannot tell another's from none)."""

    kind = "not_found"


@dataclass(frozen=True)
class Installation:
    """A production installation as 15(12) describes it, and the account its GOs go to."""

    installation_id: str
    producer: str
    energy_source: str
    installation_type: str
    location: str
    capacity_mw: Decimal
    commissioning_date: date
    # 15(12): whether and how far it received investment support, and its national support.
    investment_support: str = "none"
    support_scheme: str = "none"
    production_support: str = "none"
    contract_id: str | None = None  # the support contract whose settlement its GOs affect
    country: str = COUNTRY
    energy_carrier: str = "electricity"


def check_installation(inst: Installation, source: str = "installation") -> None:
    problems = []

    def bad(field_name: str, message: str) -> None:
        problems.append(Problem(source, None, field_name, message))

    if not _ID_PART.match(inst.installation_id):
        bad("installation_id", "1–80 letters, digits, '.', '_' or '-'")
    if inst.energy_source not in ENERGY_SOURCES:
        bad("energy_source", f"unknown source; known: {', '.join(ENERGY_SOURCES)}")
    if inst.support_scheme not in SUPPORT_SCHEMES:
        bad("support_scheme", f"unknown scheme; known: {', '.join(SUPPORT_SCHEMES)}")
    if not Decimal(0) < inst.capacity_mw <= Decimal(100_000):
        bad("capacity_mw", "must be above 0 and at most 100000 MW")
    elif inst.capacity_mw != inst.capacity_mw.quantize(Decimal("0.001")):
        bad("capacity_mw", "is stated to 0.001 MW at most")
    if not _COUNTRY.match(inst.country):
        bad("country", "an ISO 3166 alpha-2 code")
    if inst.contract_id is not None and name_problem(inst.contract_id, 100):
        bad("contract_id", str(name_problem(inst.contract_id, 100)))
    if inst.energy_carrier != "electricity":
        bad("energy_carrier", "only electricity GOs are issued")
    if (inst.support_scheme == "none") != (inst.contract_id is None) and inst.country == COUNTRY:
        bad("contract_id", "a supported installation names its contract, an unsupported none")
    for name, longest in _TEXT_LIMITS:
        problem = name_problem(getattr(inst, name), longest)
        if problem:
            bad(name, problem)
    if problems:
        raise InputError(problems)


def name_problem(text: str, longest: int = 200) -> str | None:
    """Why `text` cannot name an account, consumer or installation detail (None: it can)."""
    if not 0 < len(text) <= longest:
        return f"1–{longest} characters"
    if not _NAME.match(text):
        return (
            "printable characters without leading or trailing spaces, not starting with "
            "'=', '+', '-' or '@'"
        )
    return None


def check_name(text: str, field_name: str, longest: int = 200) -> None:
    problem = name_problem(text, longest)
    if problem:
        raise InputError(Problem("guarantees", None, field_name, problem))


@dataclass(frozen=True)
class Batch:
    """GOs issued together: every 15(12) field, the production and the energy carried."""

    batch_id: str
    installation: Installation
    production_start: date
    production_end: date
    issue_date: date
    volume: int  # GOs = MWh
    issued_to: str
    metered_kwh: int = 0
    carried_in_kwh: int = 0  # remainder of earlier months counted in this batch's first GO
    carried_out_kwh: int = 0  # remainder below one MWh left for the next month
    origin: str = "issued"
    recognition: str = "recognised"
    refusal_reason: str = ""
    serial_width: int = SERIAL_WIDTH

    @property
    def month(self) -> str:
        return self.production_end.strftime("%Y-%m")

    @property
    def expires_on(self) -> date:
        """The last day a GO of this batch may be used (15(8))."""
        # The same day 12 months on, or that month's last day (29 Feb 2024 → 28 Feb 2025).
        return (pd.Timestamp(self.production_end) + pd.DateOffset(months=VALID_MONTHS)).date()

    def go_id(self, serial: int) -> str:
        return f"{self.batch_id}-{serial:0{self.serial_width}d}"


@dataclass(frozen=True)
class Holding:
    """GOs `first`…`last` of a batch held by one account; cancelled ones name the consumer."""

    batch_id: str
    first: int
    last: int
    holder: str
    status: str = "active"
    cancelled_on: date | None = None
    beneficiary: str | None = None

    @property
    def count(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class Change:
    """What an action did: holdings that ended and those that replace them."""

    removed: tuple[Holding, ...]
    added: tuple[Holding, ...]


def check_month(month: str, source: str = "issuance") -> tuple[int, int]:
    """A production month as (year, month), within the years a GO can describe."""
    try:
        year, mon = parse_month(month)
    except ValueError as exc:
        raise InputError(Problem(source, None, "month", str(exc))) from exc
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(
            Problem(source, None, "month", f"{month} is not within {FIRST_YEAR} and {LAST_YEAR}")
        )
    return year, mon


def month_batch_id(inst: Installation, month: str) -> str:
    return f"{inst.country}-{inst.installation_id}-{month.replace('-', '')}"


def issue_batch(
    inst: Installation,
    month: str,
    metered_kwh: int,
    issue_date: date,
    earlier: Sequence[Batch] = (),
) -> Batch:
    """GOs for one month's metered production, on the producer's request (15(2)).

    Whole MWh are issued; the remainder is carried to the installation's next issuance.
    `earlier` are the installation's batches already issued: a month is issued once, and
    never before a month already issued (its carried energy would be counted twice).
    """
    year, mon = check_month(month)
    first_day = date(year, mon, 1)
    last_day = date(*parse_month(next_month(month)), 1) - timedelta(days=1)
    hours = (last_day - first_day).days * 24 + 25  # a DST month may have 745 hours
    if not 0 <= metered_kwh <= int(inst.capacity_mw * 1000) * hours:
        raise InputError(
            Problem(
                "issuance",
                None,
                "metered_kwh",
                f"{metered_kwh} kWh is not within 0 and capacity {inst.capacity_mw} MW × "
                f"the month's hours",
            )
        )
    if issue_date <= last_day:
        raise InputError(
            Problem("issuance", None, "month", f"{month} has not ended on {issue_date}")
        )
    if inst.commissioning_date > last_day:
        raise InputError(
            Problem(
                "issuance",
                None,
                "month",
                f"{inst.installation_id} was commissioned on {inst.commissioning_date}, "
                f"after {month}",
            )
        )
    latest = max(earlier, key=lambda b: b.production_end, default=None)
    if latest is not None and latest.production_end >= first_day:
        raise GuaranteeConflict(
            f"{inst.installation_id}: GOs up to {latest.month} are already issued; a month is "
            "issued once (Art. 15(5))"
        )
    carried_in = latest.carried_out_kwh if latest is not None else 0
    total = carried_in + metered_kwh
    start = date(*parse_month(latest.month), 1) if latest is not None and carried_in else first_day
    return Batch(
        batch_id=month_batch_id(inst, month),
        installation=inst,
        production_start=start,
        production_end=last_day,
        issue_date=issue_date,
        volume=total // KWH_PER_GO,
        issued_to=inst.producer,
        metered_kwh=metered_kwh,
        carried_in_kwh=carried_in,
        carried_out_kwh=total % KWH_PER_GO,
    )


def metered_period(batch: Batch) -> tuple[date, date]:
    """The days whose metered energy a batch newly counts: its production period without the
    month its carried-in energy comes from (that month belongs to an earlier batch)."""
    start = batch.production_start
    if batch.carried_in_kwh:
        start = date(*parse_month(next_month(start.strftime("%Y-%m"))), 1)
    return min(start, batch.production_end), batch.production_end


def initial_holdings(batch: Batch) -> list[Holding]:
    if batch.volume == 0 or batch.recognition == "refused":
        return []
    return [Holding(batch.batch_id, 1, batch.volume, batch.issued_to)]


def parse_go_id(go_id: str) -> tuple[str, int]:
    match = _GO_ID.match(go_id.strip())
    if not match:
        raise InputError(Problem("guarantees", None, "go_id", f"not a GO id: {go_id!r}"))
    return match["batch"], int(match["serial"])


def parse_range(first_id: str, last_id: str) -> tuple[str, int, int]:
    batch_a, first = parse_go_id(first_id)
    batch_b, last = parse_go_id(last_id)
    if batch_a != batch_b or last < first:
        raise InputError(
            Problem(
                "guarantees",
                None,
                "last_id",
                f"{first_id}…{last_id} is not a range of one batch in increasing order",
            )
        )
    return batch_a, first, last


def _take(
    batch: Batch,
    holdings: Iterable[Holding],
    account: str | None,
    first: int,
    last: int,
    on: date,
    action: str,
) -> tuple[list[Holding], list[Holding], list[Holding]]:
    """Split the holdings of `batch` at the range's ends: (removed, untouched parts, taken).

    Every GO of the range must be active, unexpired on `on`, and held by `account` (None:
    the registry operator, any account).
    """
    covering = sorted(
        (
            h
            for h in holdings
            if h.batch_id == batch.batch_id and h.first <= last and h.last >= first
        ),
        key=lambda h: h.first,
    )
    held = sum(min(h.last, last) - max(h.first, first) + 1 for h in covering)
    if batch.recognition == "refused" or held != last - first + 1:
        raise GuaranteeNotFound(f"GOs {batch.go_id(first)}…{batch.go_id(last)} are not all held")
    if account is not None and any(h.holder != account for h in covering):
        raise GuaranteeNotFound(
            f"GOs {batch.go_id(first)}…{batch.go_id(last)} are not all in account {account!r}"
        )
    used = [h for h in covering if h.status != "active"]
    if used:
        h = used[0]
        raise GuaranteeConflict(
            f"GOs {batch.go_id(max(h.first, first))}…{batch.go_id(min(h.last, last))} were "
            f"already cancelled on {h.cancelled_on} for {h.beneficiary!r}: a GO is used once"
        )
    if on > batch.expires_on:
        raise GuaranteeConflict(
            f"GOs of {batch.batch_id} expired after {batch.expires_on} (production ended "
            f"{batch.production_end}; Art. 15(8)): cannot {action} on {on}"
        )
    if on < batch.issue_date:
        raise InputError(
            Problem("guarantees", None, "on", f"{on} is before the issue date {batch.issue_date}")
        )
    rest: list[Holding] = []
    taken: list[Holding] = []
    for h in covering:
        if h.first < first:
            rest.append(replace(h, last=first - 1))
        if h.last > last:
            rest.append(replace(h, first=last + 1))
        taken.append(replace(h, first=max(h.first, first), last=min(h.last, last)))
    return covering, rest, taken


def transfer(
    batch: Batch,
    holdings: Iterable[Holding],
    first: int,
    last: int,
    to_account: str,
    on: date,
    account: str | None = None,
) -> Change:
    """GOs first…last of `batch` move to `to_account` (15(9) allows transfer before use)."""
    check_name(to_account, "to_account")
    removed, rest, taken = _take(batch, holdings, account, first, last, on, "transfer")
    moved = [replace(h, holder=to_account) for h in taken]
    return Change(tuple(removed), tuple(_merge(rest + moved)))


def cancel(
    batch: Batch,
    holdings: Iterable[Holding],
    first: int,
    last: int,
    beneficiary: str,
    on: date,
    account: str | None = None,
) -> Change:
    """GOs first…last of `batch` are used, once, for the named consumer (15(9))."""
    check_name(beneficiary, "beneficiary")
    removed, rest, taken = _take(batch, holdings, account, first, last, on, "cancel")
    used = [replace(h, status="cancelled", cancelled_on=on, beneficiary=beneficiary) for h in taken]
    return Change(tuple(removed), tuple(_merge(rest + used)))


def _merge(holdings: list[Holding]) -> list[Holding]:
    """Adjacent runs with the same holder and state become one (keeps the ledger compact)."""
    out: list[Holding] = []
    for h in sorted(holdings, key=lambda x: (x.batch_id, x.first)):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.last + 1 == h.first
            and replace(prev, first=0, last=0) == replace(h, first=0, last=0)
        ):
            out[-1] = replace(prev, last=h.last)
        else:
            out.append(h)
    return out


def uses_kept(batch: Batch, ours: Iterable[Holding], theirs: Iterable[Holding]) -> list[str]:
    """A newer state of a batch (a registry's later export) may move GOs on, never undo a use:
    every GO cancelled in `ours` is cancelled in `theirs` on the same date for the same
    consumer. Both are complete holdings of the batch."""
    later = sorted((h for h in theirs if h.status == "cancelled"), key=lambda h: h.first)
    problems = []
    for h in sorted(ours, key=lambda h: h.first):
        if h.status != "cancelled":
            continue
        kept = sum(
            min(h.last, t.last) - max(h.first, t.first) + 1
            for t in later
            if t.first <= h.last
            and t.last >= h.first
            and (t.cancelled_on, t.beneficiary) == (h.cancelled_on, h.beneficiary)
        )
        if kept != h.count:
            problems.append(
                f"GOs {batch.go_id(h.first)}…{batch.go_id(h.last)} were cancelled on "
                f"{h.cancelled_on} for {h.beneficiary!r}; a use is never undone"
            )
    return problems


def check_batch_coverage(batch: Batch, holdings: Iterable[Holding]) -> list[str]:
    """Every serial 1…volume in exactly one holding (none for a refused batch): one MWh once."""
    runs = sorted((h.first, h.last) for h in holdings if h.batch_id == batch.batch_id)
    expected = 0 if batch.recognition == "refused" else batch.volume
    problems = []
    at = 1
    for first, last in runs:
        if first != at or last < first:
            problems.append(f"{batch.batch_id}: serials from {at} are not held exactly once")
            break
        at = last + 1
    if not problems and at - 1 != expected:
        problems.append(f"{batch.batch_id}: holdings cover {at - 1} of {expected} GOs")
    return problems


@dataclass(frozen=True)
class GoUse:
    """GOs of a contract's supported energy of one month that benefited the producer: sold
    (transferred out of its account) or cancelled."""

    contract_id: str
    month: str
    kwh: int
    ranges: tuple[str, ...] = field(default_factory=tuple)  # "first…last" GO ids

    def describe(self) -> str:
        return "; ".join(self.ranges)


def benefited(
    batches: Iterable[Batch], holdings: Iterable[Holding], month: str
) -> dict[str, GoUse]:
    """Per contract: the GOs issued for `month`'s energy no longer held active by the producer
    they were issued to (the double benefit of Art. 15(6))."""
    by_id = {
        b.batch_id: b
        for b in batches
        if b.month == month and b.installation.contract_id and b.origin == "issued"
    }
    found: dict[str, list[tuple[Batch, Holding]]] = {}
    for h in holdings:
        batch = by_id.get(h.batch_id)
        if batch is None or (h.holder == batch.issued_to and h.status == "active"):
            continue
        found.setdefault(str(batch.installation.contract_id), []).append((batch, h))
    out = {}
    for cid, items in sorted(found.items()):
        items.sort(key=lambda bh: (bh[0].batch_id, bh[1].first))
        ranges = tuple(f"{b.go_id(h.first)}…{b.go_id(h.last)}" for b, h in items)
        kwh = sum(h.count for _, h in items) * KWH_PER_GO
        out[cid] = GoUse(cid, month, kwh, ranges)
    return out


def recognise(batch: Batch) -> Batch:
    """An imported batch is recognised when its country is an Energy Community Party, unless
    it is refused with a reason (15(14)); a refusal without a reason is refused itself."""
    if batch.origin != "imported":
        return batch
    if batch.recognition == "refused":
        if not batch.refusal_reason.strip():
            raise InputError(
                Problem(
                    "guarantees",
                    None,
                    "refusal_reason",
                    f"{batch.batch_id}: a refusal states its reason",
                )
            )
        return batch
    if batch.installation.country not in ENERGY_COMMUNITY:
        return replace(
            batch,
            recognition="refused",
            refusal_reason=f"{batch.installation.country} is not a Party to the Energy Community",
        )
    return replace(batch, refusal_reason="")
