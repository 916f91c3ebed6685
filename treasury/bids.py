"""Hypothetical contracts for the bids of a round being decided, so a budget's commitment shows.

Each bid (or, with a clearing result, each accepted award at its awarded capacity and paid
price) becomes the standard-form two-way CfD the winner would sign (law Art. 2(ტ)), referenced
to the month's average wholesale price. The contract model has no technology field, so the
technology rides in `weighting`, which a monthly-baseload contract does not use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from mzekari.vocabulary import award_contract_id, technology_class
from settlement import Contract


def contracts_from_bids(
    round_spec: Any,
    bids: Sequence[Any],
    clearing_result: Any = None,
    *,
    start: date | None = None,
    term_years: int = 15,
    currency: str | None = None,
) -> list[Contract]:
    """One settlement.Contract per bid, or per accepted award if `clearing_result` is given.

    `start` (a first of month) defaults to next month's first day; `currency` (the payment currency)
    defaults to the round's, else the strike stays in the round's currency (strike_currency).
    """
    if start is None:
        today = date.today()
        start = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    end = date(start.year + term_years, start.month, 1) - timedelta(days=1)
    round_currency = str(round_spec.currency).upper()
    pay_currency = (currency or round_currency).upper()
    by_id = {b.bid_id: b for b in bids}
    chosen: list[tuple[Any, Any, Any]] = []
    if clearing_result is None:
        chosen = [(b, b.capacity_mw, b.price) for b in bids]
    else:
        for award in clearing_result.awards:
            if award.accepted and award.bid_id in by_id:
                chosen.append((by_id[award.bid_id], award.awarded_capacity_mw, award.price_paid))
    contracts = []
    for bid, capacity_mw, price in sorted(chosen, key=lambda item: item[0].bid_id):
        contracts.append(
            Contract(
                contract_id=award_contract_id(round_spec.round_id, bid.bid_id),
                producer=bid.bidder,
                scheme="cfd",
                price=price,
                currency=pay_currency,
                start=start,
                end=end,
                capacity_mw=capacity_mw,
                reference_basis="monthly_baseload",
                technology=technology_class(bid.technology),
                strike_currency=None if pay_currency == round_currency else round_currency,
            )
        )
    return contracts
