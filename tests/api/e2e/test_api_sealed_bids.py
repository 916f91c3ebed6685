"""Sealed bids stay sealed: receipts are commitments nobody can open by trying prices, bid
ids are each bidder's own (no 409 tells a rival's id apart), a bid can be withdrawn before
close, and an operator's exclusion is the recorded way out of a round that cannot clear."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

from sqlalchemy import text

from api.canonical import canonical_json

ROUND = "T-2021"


def _open(client, auth, scenario) -> None:
    op = auth("operator")
    assert client.post("/api/rounds", json=scenario.round_spec, headers=op).status_code == 201
    assert client.post(f"/api/rounds/{ROUND}/open", headers=op).status_code == 200


def _bid(client, auth, who, bid):
    return client.post(f"/api/rounds/{ROUND}/bids", json=bid, headers=auth(who))


def test_a_receipt_cannot_be_opened_by_trying_prices(client, auth, scenario, engine):
    """The attack of the unsalted receipt: every price from 0.01 to 220.00 against the
    canonical bid with everything else known. Without the salt no price matches; with it, the
    bidder's own price does."""
    _open(client, auth, scenario)
    bid = scenario.bids["producer"]
    issued = _bid(client, auth, "producer", bid).json()
    salt = bytes.fromhex(issued["salt"])
    template = json.loads(issued["canonical_bid"])
    matches_unsalted, matches_salted = [], []
    for cents in range(1, 22_001):
        guess = {**template, "price": format((Decimal(cents) / 100).normalize(), "f")}
        text_ = canonical_json(guess)
        if hashlib.sha256(text_.encode()).hexdigest() == issued["receipt"]:
            matches_unsalted.append(cents)
        if hmac.new(salt, text_.encode(), hashlib.sha256).hexdigest() == issued["receipt"]:
            matches_salted.append(cents)
    assert matches_unsalted == [] and matches_salted == [15050]
    # The salt is nowhere in the database: only the bidder holds it.
    with engine.connect() as connection:
        for table in ("bids", "audit_log"):
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            assert issued["salt"] not in repr(rows)
    # The same bid submitted again gets a different receipt.
    again = _bid(client, auth, "producer", bid).json()
    assert again["receipt"] != issued["receipt"]


def test_bid_ids_are_each_bidders_own(client, auth, scenario):
    _open(client, auth, scenario)
    first = _bid(client, auth, "producer", scenario.bids["producer"])
    assert first.status_code == 201
    # Beta uses Alpha's id: accepted as Beta's own bid, nothing tells it Alpha has one.
    copy = {**scenario.bids["producer_b"], "bid_id": scenario.bids["producer"]["bid_id"]}
    second = _bid(client, auth, "producer_b", copy)
    assert second.status_code == 201, second.text
    # Both bidders also use the same alternative group name: each group stays its bidder's.
    for who in ("producer", "producer_b"):
        grouped = {**scenario.bids[who], "bid_id": "g1", "alternative_group": "shared"}
        assert _bid(client, auth, who, grouped).status_code == 201
    op = auth("operator")
    for step in ("close", "clear"):
        assert client.post(f"/api/rounds/{ROUND}/{step}", headers=op).status_code == 200
    award = {"start": "2021-01-01", "years": 15}
    results = client.post(f"/api/rounds/{ROUND}/award", json=award, headers=op).json()
    shared = [a for a in results["awards"] if a["bid_id"] == "a1"]
    assert {a["bidder"] for a in shared} == {"Alpha", "Beta"}
    contracts = client.get("/api/contracts", headers=op).json()["items"]
    ids = {c["contract_id"] for c in contracts}
    # A bid id two winners share is qualified by the bidder; a unique one is not.
    accepted = {(a["bidder"], a["bid_id"]) for a in results["awards"] if a["accepted"]}
    assert {("Alpha", "a1"), ("Beta", "a1")} <= accepted
    assert {f"{ROUND}-Alpha-a1", f"{ROUND}-Beta-a1"} <= ids
    for bidder, bid_id in accepted:
        twins = sum(1 for _, other in accepted if other == bid_id)
        expected = f"{ROUND}-{bid_id}" if twins == 1 else f"{ROUND}-{bidder}-{bid_id}"
        assert expected in ids
    assert len(ids) == len(accepted)


def test_a_producer_withdraws_its_own_bid_before_close_only(client, auth, scenario, row_counts):
    _open(client, auth, scenario)
    assert _bid(client, auth, "producer", scenario.bids["producer"]).status_code == 201
    url = f"/api/rounds/{ROUND}/bids/a1"
    before = row_counts()
    # Another producer cannot withdraw it, and learns nothing: the same 404 as a missing id.
    other = client.delete(url, headers=auth("producer_b"))
    missing = client.delete(f"/api/rounds/{ROUND}/bids/zz", headers=auth("producer_b"))
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace("'a1'", "'zz'") == missing.json()["detail"]
    assert row_counts() == before
    assert client.delete(url, headers=auth("producer")).status_code == 204
    assert row_counts()["bids"] == before["bids"] - 1
    assert _bid(client, auth, "producer", scenario.bids["producer"]).status_code == 201
    assert client.post(f"/api/rounds/{ROUND}/close", headers=auth("operator")).status_code == 200
    assert client.delete(url, headers=auth("producer")).status_code == 409


def test_an_excluded_bid_is_left_out_recorded_and_published(client, auth, scenario, row_counts):
    _open(client, auth, scenario)
    for who, bid in scenario.bids.items():
        assert _bid(client, auth, who, bid).status_code == 201
    op = auth("operator")
    exclusion = {"bidder": "Beta", "bid_id": "b1", "reason": "grid connection withdrawn"}
    url = f"/api/rounds/{ROUND}/exclusions"
    before = row_counts()
    assert client.post(url, json=exclusion, headers=op).status_code == 409  # still open
    assert row_counts() == before
    assert client.post(f"/api/rounds/{ROUND}/close", headers=op).status_code == 200
    missing = {**exclusion, "bid_id": "nope"}
    assert client.post(url, json=missing, headers=op).status_code == 404
    response = client.post(url, json=exclusion, headers=op)
    assert response.status_code == 200, response.text
    assert client.post(url, json=exclusion, headers=op).status_code == 409  # final
    assert client.post(f"/api/rounds/{ROUND}/clear", headers=op).status_code == 200
    results = client.get(f"/api/rounds/{ROUND}/results", headers=auth("treasury")).json()
    assert [(a["bidder"], a["bid_id"]) for a in results["awards"]] == [("Alpha", "a1")]
    assert [(b["bidder"], b["bid_id"], b["excluded_reason"]) for b in results["excluded"]] == [
        ("Beta", "b1", "grid connection withdrawn")
    ]
    entries = client.get("/api/audit", headers=op).json()["items"]
    excluded = [e for e in entries if e["action"] == "bid.exclude"]
    assert len(excluded) == 1 and "grid connection withdrawn" in excluded[0]["details"]


def test_a_bidder_verifies_its_own_bid_in_the_published_results(client, auth, awarded):
    """After close the bidder reads its stored bid; with its salt the canonical JSON it reads
    gives the receipt the results publish."""
    issued = awarded["receipts"]["producer"]
    bids = client.get(f"/api/rounds/{ROUND}/bids", headers=auth("producer")).json()["items"]
    (mine,) = bids
    assert mine["canonical_bid"] == issued["canonical_bid"]
    mac = hmac.new(bytes.fromhex(issued["salt"]), mine["canonical_bid"].encode(), hashlib.sha256)
    published = {(a["bidder"], a["bid_id"]): a["receipt"] for a in awarded["results"]["awards"]}
    assert published[("Alpha", "a1")] == mac.hexdigest()


def test_the_open_rounds_log_shows_no_bid_count_and_no_bidder(client, auth, scenario):
    _open(client, auth, scenario)
    op = auth("operator")
    before = client.get("/api/audit", headers=op).json()
    issued = [_bid(client, auth, who, bid).json() for who, bid in scenario.bids.items()]
    _bid(client, auth, "producer", {**scenario.bids["producer"], "bid_id": "gone"})
    assert (
        client.delete(f"/api/rounds/{ROUND}/bids/gone", headers=auth("producer")).status_code == 204
    )
    # Submissions, a replacement and a withdrawal later: the log the operator reads is unchanged.
    assert client.get("/api/audit", headers=op).json() == before
    assert client.post(f"/api/rounds/{ROUND}/close", headers=op).status_code == 200
    entries = client.get("/api/audit", headers=op).json()["items"]
    submitted = [json.loads(e["details"]) for e in entries if e["action"] == "bid.submit"]
    assert sorted(d["receipt"] for d in submitted) == sorted(i["receipt"] for i in issued)
    assert {d["bidder"] for d in submitted} == {"Alpha", "Beta"}
    close = next(e for e in entries if e["action"] == "round.close")
    receipts = sorted(i["receipt"] for i in issued)
    expected = hashlib.sha256(json.dumps(receipts, separators=(",", ":")).encode()).hexdigest()
    assert json.loads(close["details"])["receipts_sha256"] == expected


def test_a_round_that_cannot_clear_is_unstuck_by_an_exclusion(client, auth, scenario, uow_factory):
    """A bid stored before submissions were bounded (written here straight to the table)
    makes every clearing refuse with a 422; excluding it, with a reason, lets the round clear."""
    from datetime import UTC, datetime

    from api.db import models as m

    _open(client, auth, scenario)
    assert _bid(client, auth, "producer", scenario.bids["producer"]).status_code == 201
    huge = {**scenario.bids["producer_b"], "bidder": "Beta", "capacity_mw": "1e30"}
    huge.update(annual_mwh="1e30", innovative=False, grid_node=None, alternative_group=None)
    with uow_factory() as uow:
        uow.bids.add(
            m.Bid(
                round_id=ROUND,
                bid_id="b1",
                bidder="Beta",
                payload={**huge, "min_capacity_mw": None},
                receipt="f" * 64,
                submitted_at=datetime.now(UTC),
                submitted_by="legacy",
            )
        )
        uow.commit()
    op = auth("operator")
    assert client.post(f"/api/rounds/{ROUND}/close", headers=op).status_code == 200
    stuck = client.post(f"/api/rounds/{ROUND}/clear", headers=op)
    assert stuck.status_code == 422 and "64-bit" in stuck.text
    exclusion = {"bidder": "Beta", "bid_id": "b1", "reason": "capacity beyond any plant"}
    assert client.post(f"/api/rounds/{ROUND}/exclusions", json=exclusion, headers=op).is_success
    assert client.post(f"/api/rounds/{ROUND}/clear", headers=op).status_code == 200
    results = client.get(f"/api/rounds/{ROUND}/results", headers=op).json()
    assert [a["bid_id"] for a in results["awards"]] == ["a1"]
    assert results["excluded"][0]["excluded_reason"] == "capacity beyond any plant"
