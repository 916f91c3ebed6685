"""Posted lines are never edited: re-settling posts differences as adjustments, once."""

from __future__ import annotations

from decimal import Decimal

from settlement_builders import contract, grid, meters, prices

from settlement import settle_month
from settlement.ledger import read_lines

PRICES = prices(grid("2025-05-29", 24 * 35), [str(40 + i % 9) for i in range(24 * 35)])
DAY = grid("2025-06-30", 24)


def run(energy, posted=(), c=None):
    c = c or contract(price="60", negative_price_rule="any")
    return settle_month(
        [c], {"dam": PRICES}, meters({"C1": (DAY, energy)}), "2025-06", posted_lines=list(posted)
    )


def test_same_inputs_post_nothing_twice():
    first = run([1000] * 24)
    again = run([1000] * 24, first.lines)
    assert again.lines == [] and again.statements == []
    assert [ln.line_id for ln in run([1000] * 24).lines] == [ln.line_id for ln in first.lines]


def test_revised_meter_data_posts_an_adjustment_against_the_posted_line():
    first = run([1000] * 24)
    revised = [1000] * 23 + [1500]
    second = run(revised, first.lines)
    (adj,) = second.lines
    (original,) = first.lines
    assert adj.kind == "adjustment" and adj.adjusted_kind == "support"
    assert adj.corrects_line_id == original.line_id
    assert adj.eligible_kwh == 500
    fresh = run(revised)
    assert original.amount + adj.amount == fresh.lines[0].amount
    # Posting the adjustment too: a third run with the same revised data adds nothing.
    assert run(revised, first.lines + second.lines).lines == []
    # Back to the original data: the adjustment is reversed by a new one.
    (back,) = run([1000] * 24, first.lines + second.lines).lines
    assert back.amount == -adj.amount and back.corrects_line_id == original.line_id


def test_a_rule_effect_that_disappears_is_reversed():
    negative = prices(grid("2025-05-29", 24 * 35), ["-5"] * (24 * 35))
    c = contract(price="60", negative_price_rule="any")
    first = settle_month([c], {"dam": negative}, meters({"C1": (DAY, [100] * 24)}), "2025-06")
    kinds = {ln.kind for ln in first.lines}
    assert kinds == {"support", "negative_price_exclusion"}
    second = settle_month(
        [c], {"dam": PRICES}, meters({"C1": (DAY, [100] * 24)}), "2025-06", posted_lines=first.lines
    )
    by_kind = {ln.adjusted_kind: ln for ln in second.lines}
    assert by_kind["negative_price_exclusion"].excluded_kwh == -2400
    assert by_kind["support"].eligible_kwh == 2400


def test_lines_written_and_read_back_reconcile_to_nothing(tmp_path):
    first = run([1234] * 24)
    lines_path, statements_path = first.write(tmp_path)
    posted = read_lines(lines_path)
    assert posted == first.lines
    assert run([1234] * 24, posted).lines == []
    text = statements_path.read_text().splitlines()
    assert (
        text[0] == "producer,month,currency,lines,paid_to_producer,paid_by_producer,reductions,net"
    )


def test_statement_totals_are_sums_of_rounded_lines():
    c = contract(
        scheme="variable_premium",
        price="45.67",
        cap="3.33",
        negative_price_rule="any",
        double_benefit_share="0.37",
    )
    from settlement_builders import meters as mk

    data = mk({"C1": (DAY, [977 + 13 * i for i in range(24)])}, {"C1": {"go_kwh": [500] * 24}})
    result = settle_month([c], {"dam": PRICES}, data, "2025-06")
    (st,) = result.statements
    assert len(st.lines) >= 3
    assert st.net == sum((ln.amount for ln in st.lines), Decimal(0))
    assert st.net == st.paid_to_producer - st.paid_by_producer - st.reductions
    # The cap and the double-benefit cut are reductions of a one-way premium, not payments
    # by the producer: a variable premium never makes the producer pay.
    assert st.paid_by_producer == 0
    cut = [ln.amount for ln in st.lines if ln.kind in ("rate_cap", "double_benefit")]
    assert st.reductions == -sum(cut, Decimal(0)) > 0
    for line in st.lines:
        assert line.amount == line.amount.quantize(Decimal("0.01"))


def test_settling_some_contracts_leaves_the_others_posted_lines_alone():
    a, b = contract(contract_id="A"), contract(contract_id="B")
    both = settle_month(
        [a, b],
        {"dam": PRICES},
        meters({"A": (DAY, [1000] * 24), "B": (DAY, [2000] * 24)}),
        "2025-06",
    )
    only_a = settle_month(
        [a], {"dam": PRICES}, meters({"A": (DAY, [1100] * 24)}), "2025-06", posted_lines=both.lines
    )
    assert {ln.contract_id for ln in only_a.lines} == {"A"}
    assert [ln.kind for ln in only_a.lines] == ["adjustment"]
