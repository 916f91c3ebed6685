"""Contracts for the winners of a cleared round, so a budget's commitment shows.

Each accepted award (at its awarded capacity, energy and paid price) becomes the standard-form
two-way CfD the winner would sign (law Art. 2(ტ)), referenced to the month's average wholesale
price. Without a clearing result, every bid is taken as a stated hypothetical set. The contract
model has no technology field, so the technology rides in `weighting`, which a
monthly-baseload contract does not use; the bid's own annual energy comes back alongside.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mzekari.vocabulary import award_contract_id, technology_class
from settlement import Contract


def contracts_from_bids(
    round_spec: Any,
    bids: Sequence[Any],
    clearing_result: Any = None,
    *,
    start: date,
    term_years: int = 15,
    currency: str | None = None,
) -> tuple[list[Contract], dict[str, Decimal]]:
    """One settlement.Contract per accepted award of `clearing_result`, or per bid when it is
    None (a hypothetical set: every bid wins), and each contract's annual energy in MWh.

    `start` (a first of month) is the contracts' start: an explicit date, never today's;
    `currency` (the payment currency) defaults to the round's, else the strike stays in the
    round's currency (strike_currency).
    """
    end = date(start.year + term_years, start.month, 1) - timedelta(days=1)
    round_currency = str(round_spec.currency).upper()
    pay_currency = (currency or round_currency).upper()
    by_id = {b.bid_id: b for b in bids}
    chosen: list[tuple[Any, Decimal, Decimal, Decimal]] = []
    if clearing_result is None:
        chosen = [(b, b.capacity_mw, b.annual_mwh, b.price) for b in bids]
    else:
        for award in clearing_result.awards:
            if award.accepted and award.bid_id in by_id:
                chosen.append(
                    (
                        by_id[award.bid_id],
                        award.awarded_capacity_mw,
                        award.awarded_annual_mwh,
                        award.price_paid,
                    )
                )
    contracts, energy = [], {}
    for bid, capacity_mw, annual_mwh, price in sorted(chosen, key=lambda item: item[0].bid_id):
        contract_id = award_contract_id(round_spec.round_id, bid.bid_id)
        energy[contract_id] = Decimal(annual_mwh)
        contracts.append(
            Contract(
                contract_id=contract_id,
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
    return contracts, energy
