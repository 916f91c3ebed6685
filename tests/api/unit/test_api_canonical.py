"""Canonical JSON and receipts: the same bid always hashes the same; any change shows."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.canonical import canonical_json, sha256_hex
from api.services.rounds import canonical_bid

BID = {
    "bid_id": "b1",
    "bidder": "P",
    "technology": "wind",
    "capacity_mw": Decimal("20"),
    "annual_mwh": Decimal("50000"),
    "price": Decimal("140.00"),
    "innovative": False,
    "grid_node": None,
    "alternative_group": None,
    "min_capacity_mw": None,
}


def test_key_order_and_trailing_zeros_do_not_change_the_receipt():
    shuffled = dict(reversed(list(BID.items())))
    written_differently = {**BID, "price": Decimal("140"), "capacity_mw": Decimal("20.000")}
    receipts = {sha256_hex(canonical_bid("R", b)) for b in (BID, shuffled, written_differently)}
    assert len(receipts) == 1


def test_receipt_is_the_sha256_of_the_canonical_text():
    text = canonical_bid("R", BID)
    assert json.loads(text)["price"] == "140"
    assert sha256_hex(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2))
def test_any_price_change_changes_the_receipt(price):
    other = price + Decimal("0.01")
    assert sha256_hex(canonical_bid("R", {**BID, "price": price})) != sha256_hex(
        canonical_bid("R", {**BID, "price": other})
    )


def test_datetimes_are_written_in_utc_and_naive_ones_refused():
    tbilisi = timezone(timedelta(hours=4))
    moment = datetime(2021, 1, 1, 4, 0, tzinfo=tbilisi)
    assert canonical_json({"at": moment}) == '{"at":"2021-01-01T00:00:00.000000Z"}'
    assert canonical_json({"at": moment}) == canonical_json({"at": moment.astimezone(UTC)})
    with pytest.raises(ValueError):
        canonical_json({"at": datetime(2021, 1, 1)})
