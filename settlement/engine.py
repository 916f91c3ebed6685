"""Settling one month: validate everything, resolve reference prices, compute, post lines.

Meter, contract and rule inputs are checked before any computation; prices are checked while
reference prices are resolved. All problems are raised together in one `InputError`, and no
line is returned from input that failed a check.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from mzekari.errors import InputError, Problem, ProblemCollector
from mzekari.months import NS_PER_S, month_bounds_ns, next_month, parse_month, term_ns
from mzekari.vocabulary import MARKET_TZ
from settlement.compute import ContractParams, RowInputs, settle_rows, take
from settlement.double_benefit import ledger_lines
from settlement.guarantees import GoUse
from settlement.ledger import reconcile, statements_of, unique_lines, write_files
from settlement.lifecycle import SupportWindow
from settlement.lines import build_lines, contract_params
from settlement.meters import MeterData, check_against_contracts
from settlement.model import Contract, Line, Statement
from settlement.prices import PriceSeries, to_hundredths
from settlement.resolve import References, needs_prices, resolve_references
from settlement.strike import MonthPrice, PriceRuleError, month_price
from settlement.trueup import closes_year, true_up_lines


@dataclass(frozen=True)
class Settlement:
    """The lines posted by this run (after reconciliation) and the statements they form."""

    month: str
    lines: list[Line]
    statements: list[Statement]
    computed_lines: list[Line] = field(default_factory=list)  # the period as it stands now

    def write(self, out_dir: str | Path) -> tuple[Path, Path]:
        return write_files(out_dir, self.lines, self.statements)


def _check_meters(
    contracts: Sequence[Contract],
    meters: MeterData,
    month: str,
    tz: str,
    problems: ProblemCollector,
    dormant: frozenset[str] = frozenset(),
) -> list[Contract]:
    """Unknown contracts, energy above capacity, data outside the term, incomplete months.

    `dormant` contracts earn no support this month (status): they need no meter data."""
    check_against_contracts(meters, contracts, problems)
    by_id = {c.contract_id: c for c in contracts}
    lo, hi = month_bounds_ns(month, tz)
    year, mon = parse_month(month)
    first_day = date(year, mon, 1)
    last_day = date(*parse_month(next_month(month)), 1) - timedelta(days=1)
    offsets = meters.offsets
    res_ns = meters.resolution_s * NS_PER_S
    starts = meters.starts_utc_ns
    n_codes = len(meters.contract_ids)
    term_lo = np.full(n_codes, np.iinfo(np.int64).min, dtype=np.int64)
    term_hi = np.full(n_codes, np.iinfo(np.int64).max, dtype=np.int64)
    for code, cid in enumerate(meters.contract_ids):
        contract = by_id.get(cid)
        if contract is not None:
            term_lo[code], term_hi[code] = term_ns(contract.start, contract.end, tz)
    counts = np.diff(offsets)
    nonempty = counts > 0
    first = starts[np.minimum(offsets[:-1], len(starts) - 1)]
    last = starts[np.maximum(offsets[1:] - 1, 0)]
    # Rows are sorted in time per contract: only contracts whose first or last row leaves the
    # term need a row-by-row look.
    leaving = np.flatnonzero(nonempty & ((first < term_lo) | (last >= term_hi)))
    reported = 0
    for code in leaving.tolist():
        a, b = int(offsets[code]), int(offsets[code + 1])
        contract = by_id[meters.contract_ids[code]]
        bad = np.flatnonzero((starts[a:b] < term_lo[code]) | (starts[a:b] >= term_hi[code]))
        for i in bad[: max(0, 20 - reported)]:
            problems.add(
                int(meters.rows[a + i]),
                "timestamp",
                f"meter data outside the term of {contract.contract_id} "
                f"({contract.start} to {contract.end}, {tz})",
            )
        reported += len(bad)
    active = [
        c
        for c in contracts
        if c.contract_id not in dormant and c.start <= last_day and c.end >= first_day
    ]
    win_lo = np.maximum(term_lo, lo)
    win_hi = np.maximum(np.minimum(term_hi, hi), win_lo)
    # Each contract's rows are gap-free and on the grid (checked when read), so the rows inside
    # its window follow from its first and last interval.
    overlap_lo = np.maximum(win_lo, first)
    overlap_hi = np.minimum(win_hi, last + res_ns)
    have_by_code = np.where(
        nonempty & (overlap_hi > overlap_lo), (overlap_hi - overlap_lo + res_ns - 1) // res_ns, 0
    )
    expected_by_code = (win_hi - win_lo) // res_ns
    for contract in active:
        if contract.contract_id not in meters.code_of:
            problems.add(
                None, "contract_id", f"no meter data for {contract.contract_id} in {month} ({tz})"
            )
    awake = np.array([cid not in dormant for cid in meters.contract_ids], dtype=bool)
    known = (term_lo != np.iinfo(np.int64).min) & awake
    active_code = known & (term_lo < hi) & (term_hi > lo)
    for code in np.flatnonzero(active_code & (have_by_code != expected_by_code)).tolist():
        cid, have = meters.contract_ids[code], int(have_by_code[code])
        if have == 0:
            problems.add(None, "contract_id", f"no meter data for {cid} in {month} ({tz})")
        else:
            problems.add(
                None,
                "timestamp",
                f"meter data for {cid} covers {have} of {int(expected_by_code[code])} "
                f"intervals of {month} ({tz}); missing intervals at the month's edges",
            )
    return active


def _month_rows(
    meters: MeterData, lo: int, hi: int, active: list[bool]
) -> tuple[np.ndarray | range, np.ndarray, list[int]]:
    """Row indices of the month for active contracts, sorted by contract, and group starts.

    Each contract's rows are gap-free and on the grid, so the month's rows of a contract are
    one run found from its first interval: no pass over all rows is needed.
    """
    off = meters.offsets
    res_ns = meters.resolution_s * NS_PER_S
    counts = np.diff(off)
    first = meters.starts_utc_ns[np.minimum(off[:-1], max(len(meters.starts_utc_ns) - 1, 0))]
    a = off[:-1] + np.clip((lo - first + res_ns - 1) // res_ns, 0, counts)
    b = off[:-1] + np.clip((hi - first + res_ns - 1) // res_ns, 0, counts)
    codes = np.flatnonzero(np.asarray(active, dtype=bool) & (b > a))
    a, b = a[codes], b[codes]
    lengths = b - a
    group_starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    if len(codes) and bool(np.all(a[1:] == b[:-1])):
        idx: np.ndarray | range = range(int(a[0]), int(b[-1]))  # contiguous: no index array
    else:
        idx = np.concatenate(
            [np.arange(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
            or [np.zeros(0, dtype=np.int64)]
        ).astype(np.int64)
    return idx, group_starts, codes.tolist()


def _input_problems(
    c: Contract, prices: Mapping[str, PriceSeries], profiles: Mapping[str, Any], tz: str
) -> list[tuple[str, str]]:
    """(field, message) for inputs a contract's terms need but the run lacks."""
    out = []
    if c.market_tz is not None and c.market_tz != tz:
        out.append(
            ("market_tz", f"is settled in {c.market_tz} months; this run is for {tz} months")
        )
    for name in ("reference_series", "fallback_series"):
        series = getattr(c, name)
        if series is not None and series not in prices and not needs_prices(c):
            continue  # a fixed premium or tariff without a negative-price rule needs no prices
        if series is not None and series not in prices:
            out.append(
                (
                    name,
                    f"no price series {series!r} supplied "
                    f"(have: {', '.join(sorted(prices)) or 'none'})",
                )
            )
        elif series is not None and prices[series].currency not in (None, c.currency):
            out.append(
                (
                    name,
                    f"series {series!r} is in {prices[series].currency}, the "
                    f"contract pays {c.currency}",
                )
            )
    if (
        c.reference_basis in ("monthly_weighted", "annual_weighted")
        and c.weighting != "own"
        and c.weighting not in profiles
    ):
        out.append(("weighting", f"no generation profile {c.weighting!r} supplied"))
    return out


def _check_contract_inputs(
    active: Sequence[Contract],
    prices: Mapping[str, PriceSeries],
    profiles: Mapping[str, Any],
    month: str,
    fx_rates: Any,
    cpi: Any,
    problems: ProblemCollector,
    tz: str,
) -> dict[str, MonthPrice]:
    out = {}
    # Contracts share a few combinations of these terms: each combination is checked once.
    checked: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
    for c in active:
        key = (
            c.market_tz,
            c.reference_series,
            c.fallback_series,
            c.currency,
            c.reference_basis,
            c.weighting,
            c.scheme,
            c.negative_price_rule,
        )
        found = checked.get(key)
        if found is None:
            found = checked[key] = _input_problems(c, prices, profiles, tz)
        for field_name, message in found:
            problems.add(None, field_name, f"{c.contract_id}: {message}")
        try:
            out[c.contract_id] = month_price(c, month, fx_rates=fx_rates, cpi=cpi)
        except PriceRuleError as exc:
            problems.add(None, exc.field, f"{c.contract_id}: {exc}")
    return out


def _check_cap_history(
    present: Sequence[Contract], posted: Sequence[Line], month: str, tz: str
) -> None:
    """An annual volume cap counts the year's earlier months: each month of the year in which a
    capped contract was active needs its posted support line, or the cap would restart."""
    year, mon = parse_month(month)
    settled = {
        (line.contract_id, line.month)
        for line in posted
        if (line.adjusted_kind if line.kind == "adjustment" else line.kind) == "support"
    }
    problems = ProblemCollector("posted lines")
    for c in present:
        if c.annual_cap_mwh is None:
            continue
        missing = [
            earlier
            for m in range(1, mon)
            if (earlier := f"{year:04d}-{m:02d}") >= f"{c.start:%Y-%m}"
            and (c.contract_id, earlier) not in settled
        ]
        if missing:
            problems.add(
                None,
                "annual_cap_mwh",
                f"{c.contract_id} has an annual cap and was active in {', '.join(missing)} "
                f"({tz}), but no posted support line for those months was supplied: the volume "
                "already paid this year is unknown (pass the earlier lines.csv with --posted)",
            )
    problems.raise_if_any()


def _check_guarantees(
    contracts: Sequence[Contract],
    meters: MeterData,
    month: str,
    tz: str,
    guarantees: Mapping[str, GoUse],
    problems: ProblemCollector,
) -> None:
    """GOs of contracts settled in this month, each MWh from one source only (Art. 15(5))."""
    known = {c.contract_id for c in contracts}
    lo, hi = month_bounds_ns(month, tz)

    def metered_gos(cid: str) -> bool:
        if meters.go_kwh is None:
            return False
        rows = meters.rows_of(cid)
        starts = meters.starts_utc_ns[rows]
        return bool(meters.go_kwh[rows][(starts >= lo) & (starts < hi)].any())

    for cid, use in sorted(guarantees.items()):
        if cid not in known or use.contract_id != cid:
            problems.add(None, "guarantees", f"GOs name contract {cid!r}, not settled in {month}")
        elif use.month != month:
            problems.add(None, "guarantees", f"GOs of {cid} are for {use.month}, not {month}")
        elif metered_gos(cid):
            problems.add(
                None,
                "go_kwh",
                f"{cid}: GOs come from both the meter column go_kwh and the GO ledger; "
                "one MWh is counted once",
            )


def _prior_eligible(posted: Sequence[Line], month: str) -> dict[str, int]:
    """Eligible kWh already paid earlier in the calendar year (for annual volume caps)."""
    totals: dict[str, int] = {}
    for line in posted:
        kind = line.adjusted_kind if line.kind == "adjustment" else line.kind
        if kind == "support" and line.month[:4] == month[:4] and line.month < month:
            totals[line.contract_id] = totals.get(line.contract_id, 0) + line.eligible_kwh
    return totals


CHUNK_ROWS = 1 << 18  # rows per batch of contracts: bounds memory, keeps arrays in cache
THREADS = 1  # one worker on the arrays while this thread builds lines: two cores busy


def _compute_in_chunks(
    present: Sequence[Contract],
    prices: Mapping[str, PriceSeries],
    profiles: Mapping[str, Any],
    meters: MeterData,
    idx: np.ndarray | range,
    group_starts: np.ndarray,
    month: str,
    tz: str,
    params: ContractParams,
    month_prices: Mapping[str, MonthPrice],
    windows: Mapping[str, Sequence[SupportWindow]],
    guarantees: Mapping[str, GoUse],
) -> list[Line]:
    n = len(idx)
    bounds = [0]
    for j, start in enumerate(group_starts.tolist()):
        if start - group_starts[bounds[-1]] >= CHUNK_ROWS and j > bounds[-1]:
            bounds.append(j)
    bounds.append(len(group_starts))

    def work(a: int, b: int) -> tuple[References | InputError, dict[str, list[int]]]:
        lo_row = int(group_starts[a])
        hi_row = int(group_starts[b]) if b < len(group_starts) else n
        chunk_idx = idx[lo_row:hi_row]
        chunk_starts = group_starts[a:b] - lo_row
        try:
            refs = resolve_references(
                present[a:b], prices, profiles, meters, chunk_idx, chunk_starts, month, tz
            )
        except InputError as exc:
            return exc, {}
        rows = RowInputs(
            group_starts=chunk_starts,
            energy_kwh=take(meters.energy_kwh, chunk_idx),
            curtailed_kwh=take(meters.curtailed_kwh, chunk_idx)
            if meters.curtailed_kwh is not None
            else None,
            go_kwh=take(meters.go_kwh, chunk_idx) if meters.go_kwh is not None else None,
            reference=refs.reference,
            fallback_used=refs.fallback_used,
            negative=refs.negative,
            outside_support=_outside_support(
                present[a:b], windows, take(meters.starts_utc_ns, chunk_idx), chunk_starts, tz
            ),
        )
        return refs, settle_rows(rows, params.subset(a, b))

    # numpy releases the GIL in its array loops: worker threads compute the next batches while
    # this thread turns finished batches into lines.
    lines: list[Line] = []
    problems: list[Problem] = []
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for (a, b), (refs_or_error, sums) in zip(
            itertools.pairwise(bounds),
            pool.map(lambda ab: work(*ab), itertools.pairwise(bounds)),
            strict=True,
        ):
            if isinstance(refs_or_error, InputError):
                problems.extend(refs_or_error.problems)
            elif not problems:
                lines.extend(build_lines(present[a:b], month, month_prices, refs_or_error, sums))
                if guarantees:
                    lines.extend(ledger_lines(present[a:b], month, refs_or_error, sums, guarantees))
    if problems:
        raise InputError(problems)
    return lines


def _outside_support(
    contracts: Sequence[Contract],
    windows: Mapping[str, Sequence[SupportWindow]],
    starts_ns: np.ndarray,
    group_starts: np.ndarray,
    tz: str,
) -> np.ndarray | None:
    """Per row: True where the interval starts outside its contract's support windows
    (None when no contract here has windows: every interval is inside its term)."""
    if not any(c.contract_id in windows for c in contracts):
        return None
    outside = np.zeros(len(starts_ns), dtype=bool)
    ends = np.append(group_starts[1:], len(starts_ns))
    for c, a, b in zip(contracts, group_starts.tolist(), ends.tolist(), strict=True):
        if c.contract_id not in windows or a == b:
            continue
        rows = starts_ns[a:b]
        bounds = [term_ns(w.first_day, w.last_day, tz) for w in windows[c.contract_id]]
        if any(lo <= rows[0] and rows[-1] < hi for lo, hi in bounds):
            continue  # one window holds the whole month (rows are in time order)
        inside = np.zeros(len(rows), dtype=bool)
        for lo, hi in bounds:
            inside |= (rows >= lo) & (rows < hi)
        outside[a:b] = ~inside
    return outside


def _month_days(month: str) -> tuple[date, date]:
    year, mon = parse_month(month)
    return date(year, mon, 1), date(*parse_month(next_month(month)), 1) - timedelta(days=1)


def _dormant(
    contracts: Sequence[Contract], windows: Mapping[str, Sequence[SupportWindow]], month: str
) -> frozenset[str]:
    """Contracts whose support windows miss the month entirely: no line is computed."""
    first_day, last_day = _month_days(month)
    return frozenset(
        c.contract_id
        for c in contracts
        if c.contract_id in windows
        and not any(
            w.first_day <= last_day and w.last_day >= first_day for w in windows[c.contract_id]
        )
    )


def _name_windows(line: Line, windows: Mapping[str, Sequence[SupportWindow]], month: str) -> Line:
    """A status exclusion says which days of the month were paid (its id does not change:
    the explanation is not part of it)."""
    if line.kind != "status_exclusion":
        return line
    first_day, last_day = _month_days(month)
    paid = [
        f"{max(w.first_day, first_day)} to {min(w.last_day, last_day)}"
        for w in windows[line.contract_id]
        if w.first_day <= last_day and w.last_day >= first_day
    ]
    # As ledger.new_line builds lines: the frozen instance's dict filled directly (a few
    # thousand lines a month; dataclasses.replace would re-run every field's check).
    named = object.__new__(Line)
    named.__dict__.update(
        line.__dict__, explanation=f"{line.explanation}; paid this month: {', '.join(paid)}"
    )
    return named


def settle_month(
    contracts: Sequence[Contract],
    prices: Mapping[str, PriceSeries],
    meters: MeterData,
    month: str,
    *,
    tz: str = MARKET_TZ,
    posted_lines: Sequence[Line] = (),
    fx_rates: Mapping[str, Mapping[Any, Any]] | None = None,
    cpi: Mapping[str, Any] | None = None,
    profiles: Mapping[str, Any] | None = None,
    prior_eligible_kwh: Mapping[str, int] | None = None,
    support_windows: Mapping[str, Sequence[SupportWindow]] | None = None,
    guarantees: Mapping[str, GoUse] | None = None,
    _skip_true_up: bool = False,
) -> Settlement:
    """Settle `month` ("YYYY-MM", a calendar month in `tz`) for every contract active in it.

    `posted_lines`: lines already posted (any months); for this month only differences are
    posted, as adjustments; earlier months of the year give the volume already paid under an
    annual cap unless `prior_eligible_kwh` says it. `profiles`: generation profiles by name
    (`settlement.price_io.Profile`) for contracts weighted by a technology profile.
    `support_windows`: for the contracts it names, the only dates on which support is paid
    (`settlement.lifecycle`); energy outside them is excluded interval by interval and
    reported, and a contract with no window in the month gets no line (its posted lines for
    the month are reversed). Contracts it does not name are supported over their whole term.
    `guarantees`: per contract, the month's GOs sold or cancelled for the producer, from the
    GO ledger (`settlement.guarantees.benefited`); they feed the double-benefit line.
    """
    try:
        parse_month(month)
    except ValueError as exc:
        raise InputError(Problem("settlement", None, "month", str(exc))) from exc
    meter_problems = ProblemCollector(meters.source)
    contract_problems = ProblemCollector("contracts")
    windows = support_windows or {}
    dormant = _dormant(contracts, windows, month)
    active = _check_meters(contracts, meters, month, tz, meter_problems, dormant)
    month_prices = _check_contract_inputs(
        active, prices, profiles or {}, month, fx_rates, cpi, contract_problems, tz
    )
    # A contract paid no support this month has none for its GOs to reduce.
    guarantees = {cid: use for cid, use in (guarantees or {}).items() if cid not in dormant}
    _check_guarantees(active, meters, month, tz, guarantees, contract_problems)
    all_problems = meter_problems.problems + contract_problems.problems
    if all_problems:
        raise InputError(all_problems)

    lo, hi = month_bounds_ns(month, tz)
    by_id = {c.contract_id: c for c in active}
    idx, group_starts, present_codes = _month_rows(
        meters, lo, hi, [cid in by_id for cid in meters.contract_ids]
    )
    present = [by_id[meters.contract_ids[c]] for c in present_codes]

    posted_lines = unique_lines(posted_lines)
    if prior_eligible_kwh is None:
        _check_cap_history(present, posted_lines, month, tz)
    prior = (
        dict(prior_eligible_kwh)
        if prior_eligible_kwh is not None
        else _prior_eligible(posted_lines, month)
    )
    params = contract_params(
        present, month_prices, month, meters.resolution_s, prior, frozenset(guarantees)
    )
    computed = _compute_in_chunks(
        present,
        prices,
        profiles or {},
        meters,
        idx,
        group_starts,
        month,
        tz,
        params,
        month_prices,
        windows,
        guarantees,
    )
    if windows:
        computed = [_name_windows(line, windows, month) for line in computed]
    if any(closes_year(c, month) for c in present) and not _skip_true_up:

        def settle_other(
            cs: Sequence[Contract], m: str, data: MeterData, prior_kwh: dict[str, int]
        ) -> list[Line]:
            return settle_month(
                cs,
                prices,
                data,
                m,
                tz=tz,
                fx_rates=fx_rates,
                cpi=cpi,
                profiles=profiles,
                prior_eligible_kwh=prior_kwh,
                support_windows=windows,
                _skip_true_up=True,
            ).computed_lines

        def price_of(c: Contract, m: str) -> int:
            return to_hundredths(month_price(c, m, fx_rates=fx_rates, cpi=cpi).price)

        computed += true_up_lines(
            present, month, tz, prices, meters, profiles or {}, settle_other, price_of
        )
    posted = reconcile(computed, posted_lines, month, {c.contract_id for c in contracts})
    return Settlement(month, posted, statements_of(posted), computed)
