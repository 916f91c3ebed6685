"""Status and support: the transition table, support windows, and settlement that pays only
inside them (interval by interval), checked against sums written out by hand."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from settlement_builders import contract, lines_by_kind, meters, month_grid, prices

from settlement import settle_month
from settlement.guarantees import GoUse
from settlement.lifecycle import (
    ACTIONS,
    STATUSES,
    StatusEvent,
    SupportWindow,
    TransitionRefused,
    check_transition,
    status_after,
    support_windows,
    term_dates,
)

# The rules as a reader of the contract would write them: (status, action) -> new status.
ALLOWED = {
    ("granted", "commission"): "commissioned",
    ("granted", "revoke"): "revoked",
    ("granted", "terminate"): "terminated",
    ("commissioned", "suspend"): "suspended",
    ("commissioned", "revoke"): "revoked",
    ("commissioned", "terminate"): "terminated",
    ("commissioned", "expire"): "expired",
    ("suspended", "resume"): "commissioned",
    ("suspended", "revoke"): "revoked",
    ("suspended", "terminate"): "terminated",
    ("suspended", "expire"): "expired",
}
GRANT, END = date(2021, 1, 1), date(2035, 12, 31)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_transition_is_allowed_or_refused_as_the_table_says(status, action):
    effective = date(2036, 1, 1) if action == "expire" else date(2022, 3, 1)
    if (status, action) in ALLOWED:
        assert (
            check_transition(status, action, effective, last_effective=GRANT, term_end=END)
            == ALLOWED[(status, action)]
        )
    else:
        with pytest.raises(TransitionRefused, match=f"cannot {action}: the contract is {status}"):
            check_transition(status, action, effective, last_effective=GRANT, term_end=END)


def test_dates_out_of_order_or_outside_the_term_are_refused():
    with pytest.raises(TransitionRefused, match="last status change took effect on 2022-05-01"):
        check_transition(
            "commissioned", "suspend", date(2022, 4, 30), last_effective=date(2022, 5, 1),
            term_end=END,
        )  # fmt: skip
    with pytest.raises(TransitionRefused, match="the term runs to 2035-12-31"):
        check_transition("commissioned", "expire", END, last_effective=GRANT, term_end=END)
    with pytest.raises(TransitionRefused, match="after the term's end"):
        check_transition("granted", "commission", date(2036, 1, 1), last_effective=GRANT,
                         term_end=END)  # fmt: skip
    with pytest.raises(TransitionRefused, match="unknown action"):
        check_transition("granted", "pause", date(2022, 1, 1), last_effective=GRANT, term_end=END)


def test_status_after_a_history():
    events = [
        StatusEvent("commission", date(2021, 3, 1)),
        StatusEvent("suspend", date(2021, 5, 1)),
        StatusEvent("resume", date(2021, 6, 1)),
    ]
    assert status_after([]) == "granted"
    assert status_after(events) == "commissioned"
    assert status_after([*events, StatusEvent("revoke", date(2021, 7, 16))]) == "revoked"


def test_support_windows_fixed_start_with_suspension_and_revocation():
    events = [
        StatusEvent("commission", date(2021, 2, 10)),  # term runs from the start regardless
        StatusEvent("suspend", date(2021, 5, 1)),
        StatusEvent("resume", date(2021, 6, 1)),
        StatusEvent("revoke", date(2021, 7, 16)),
    ]
    assert support_windows(GRANT, END, "start", events) == (
        SupportWindow(date(2021, 1, 1), date(2021, 4, 30)),
        SupportWindow(date(2021, 6, 1), date(2021, 7, 15)),
    )


def test_support_windows_from_commissioning():
    assert support_windows(GRANT, END, "commissioning", []) == ()
    start, end = term_dates(date(2022, 3, 15), 15)
    assert (start, end) == (date(2022, 3, 15), date(2037, 3, 14))
    assert term_dates(date(2024, 2, 29), 1) == (date(2024, 2, 29), date(2025, 2, 28))
    events = [StatusEvent("commission", start)]
    assert support_windows(start, end, "commissioning", events) == (SupportWindow(start, end),)
    # Revoked on its first day: nothing is paid.
    revoked = [*events, StatusEvent("revoke", start)]
    assert support_windows(start, end, "commissioning", revoked) == ()


# --- settlement ------------------------------------------------------------------------------
JULY, AUGUST = month_grid("2021-07"), month_grid("2021-08")
# Energy and price vary by hour and day so that pro rata by days would give another answer.
JULY_KWH = [(h % 24) * 10 + (h // 24) * 7 for h in range(len(JULY))]
JULY_PRICE = [Decimal(30 + (h * 13) % 50) + Decimal("0.25") for h in range(len(JULY))]
STRIKE = Decimal("60.00")
REVOKED_16_JULY = {"C1": support_windows(GRANT, END, "start", [
    StatusEvent("commission", date(2021, 1, 1)), StatusEvent("revoke", date(2021, 7, 16))
])}  # fmt: skip


def _cfd():
    return contract(price=str(STRIKE), start="2021-01-01", end="2035-12-31", capacity_mw="1")


def _settle(month, grid, kwh, posted=(), windows=None):
    price_index = JULY.append(AUGUST)
    series = prices(price_index, [*JULY_PRICE, *([Decimal(45)] * len(AUGUST))])
    return settle_month(
        [_cfd()],
        {"dam": series},
        meters({"C1": (grid, kwh)}),
        month,
        posted_lines=list(posted),
        support_windows=windows,
    )


def _hand_amount(last_local_day: int) -> tuple[Decimal, int, int]:
    """Σ (K − p) · kWh over the hours of 1..last_local_day July, rounded once, half-up."""
    total, paid_kwh, unpaid_kwh = Decimal(0), 0, 0
    for stamp, kwh, price in zip(JULY, JULY_KWH, JULY_PRICE, strict=True):
        if pd.Timestamp(stamp).day <= last_local_day:
            total += (STRIKE - price) * Decimal(kwh) / 1000
            paid_kwh += kwh
        else:
            unpaid_kwh += kwh
    return total.quantize(Decimal("0.01"), ROUND_HALF_UP), paid_kwh, unpaid_kwh


def test_revoked_16_july_settles_1_to_15_july_interval_by_interval():
    result = _settle("2021-07", JULY, JULY_KWH, windows=REVOKED_16_JULY)
    kinds = lines_by_kind(result)
    amount, paid_kwh, unpaid_kwh = _hand_amount(15)
    (support,) = kinds["support"]
    (excluded,) = kinds["status_exclusion"]
    assert (support.amount, support.eligible_kwh) == (amount, paid_kwh)
    assert (excluded.excluded_kwh, excluded.amount) == (unpaid_kwh, Decimal("0.00"))
    assert excluded.explanation.endswith("paid this month: 2021-07-01 to 2021-07-15")
    full, _, _ = _hand_amount(31)
    assert amount != (full * 15 / 31).quantize(Decimal("0.01"))  # not pro rata by days


def test_august_after_revocation_posts_no_line_even_with_meter_data():
    result = _settle("2021-08", AUGUST, [100] * len(AUGUST), windows=REVOKED_16_JULY)
    assert result.lines == []


def test_gos_of_a_contract_without_support_in_the_month_reduce_nothing():
    series = prices(AUGUST, [Decimal(45)] * len(AUGUST))
    uses = {"C1": GoUse("C1", "2021-08", 50_000)}
    result = settle_month(
        [_cfd()],
        {"dam": series},
        meters({"C1": (AUGUST, [100] * len(AUGUST))}),
        "2021-08",
        support_windows=REVOKED_16_JULY,
        guarantees=uses,
    )
    assert result.lines == []


def test_a_revocation_entered_after_july_was_settled_posts_adjustments():
    before = _settle("2021-07", JULY, JULY_KWH)
    after = _settle("2021-07", JULY, JULY_KWH, posted=before.lines, windows=REVOKED_16_JULY)
    amount, _, unpaid_kwh = _hand_amount(15)
    full, _, _ = _hand_amount(31)
    by_kind = {ln.adjusted_kind: ln for ln in after.lines}
    assert {ln.kind for ln in after.lines} == {"adjustment"}
    assert by_kind["support"].amount == amount - full
    assert by_kind["support"].eligible_kwh == -unpaid_kwh
    assert by_kind["support"].corrects_line_id == lines_by_kind(before)["support"][0].line_id
    assert by_kind["status_exclusion"].excluded_kwh == unpaid_kwh
    # Re-running on what is now posted posts nothing.
    again = _settle(
        "2021-07", JULY, JULY_KWH, posted=[*before.lines, *after.lines], windows=REVOKED_16_JULY
    )
    assert again.lines == []


def test_a_revocation_covering_a_settled_month_reverses_its_lines():
    before = _settle("2021-08", AUGUST, [100] * len(AUGUST))
    after = _settle("2021-08", AUGUST, [100] * len(AUGUST), before.lines, REVOKED_16_JULY)
    (reversal,) = after.lines
    assert reversal.adjusted_kind == "support"
    assert reversal.amount == -before.lines[0].amount
    assert reversal.eligible_kwh == -before.lines[0].eligible_kwh


def test_suspension_stops_support_for_its_days_only():
    windows = {
        "C1": support_windows(
            GRANT,
            END,
            "start",
            [StatusEvent("suspend", date(2021, 7, 5)), StatusEvent("resume", date(2021, 7, 9))],
        )
    }
    result = _settle("2021-07", JULY, JULY_KWH, windows=windows)
    expected = Decimal(0)
    for stamp, kwh, price in zip(JULY, JULY_KWH, JULY_PRICE, strict=True):
        if not 5 <= pd.Timestamp(stamp).day <= 8:
            expected += (STRIKE - price) * Decimal(kwh) / 1000
    (support,) = lines_by_kind(result)["support"]
    assert support.amount == expected.quantize(Decimal("0.01"), ROUND_HALF_UP)


# --- property: windows against a day-by-day reading of the history ---------------------------
PAID_WHILE = {"start": {"granted", "commissioned"}, "commissioning": {"commissioned"}}


@st.composite
def histories(draw):
    """A term and a history the transition rules accept, with effective dates in order."""
    term_start = date(2021, 1, 1) + timedelta(days=draw(st.integers(0, 60)))
    term_end = term_start + timedelta(days=draw(st.integers(0, 400)))
    term_from = draw(st.sampled_from(sorted(PAID_WHILE)))
    status, last, events = "granted", term_start - timedelta(days=30), []
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(sorted(ACTIONS)))
        effective = last + timedelta(days=draw(st.integers(0, 120)))
        try:
            status = check_transition(
                status, action, effective, last_effective=last, term_end=term_end
            )
        except TransitionRefused:
            continue
        events.append(StatusEvent(action, effective))
        last = effective
    return term_start, term_end, term_from, events


@given(histories())
@settings(max_examples=300, deadline=None)
def test_windows_are_the_days_a_day_by_day_reading_pays(history):
    term_start, term_end, term_from, events = history
    windows = support_windows(term_start, term_end, term_from, events)
    paid_by_windows = {
        w.first_day + timedelta(days=i)
        for w in windows
        for i in range((w.last_day - w.first_day).days + 1)
    }
    paid_by_days = set()
    day = term_start
    while day <= term_end:
        in_force = status_after([e for e in events if e.effective <= day])
        if in_force in PAID_WHILE[term_from]:
            paid_by_days.add(day)
        day += timedelta(days=1)
    assert paid_by_windows == paid_by_days
    assert all(a.last_day < b.first_day for a, b in itertools.pairwise(windows))
