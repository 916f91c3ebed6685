"""The whole service over HTTP on both databases, checked against hand-worked amounts.

Contract T-2021-a1: strike 150.50 GEL/MWh; T-2021-b1: 140.00. January reference 101.50,
February 160.25 (monthly baseload, the `balancing` series).
Alpha, January: 31 days × 10 h × 1 MWh = 310 MWh; (150.50 − 101.50) × 310 = 15 190.00 to Alpha.
Beta, January: 744 h × 2 MWh = 1 488 MWh; (140.00 − 101.50) × 1 488 = 57 288.00 to Beta.
Beta, February: 672 h × 2 MWh = 1 344 MWh; (140.00 − 160.25) × 1 344 = −27 216.00 (Beta pays).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from decimal import Decimal

import pytest


def _statements(client, headers, **params):
    response = client.get("/api/statements", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_january_statements_match_hand_worked_amounts(client, auth, settled):
    (alpha,) = _statements(client, auth("producer"), month="2021-01")
    (beta,) = _statements(client, auth("producer_b"), month="2021-01")
    assert (alpha["producer"], Decimal(alpha["net"])) == ("Alpha", Decimal("15190.00"))
    assert (beta["producer"], Decimal(beta["net"])) == ("Beta", Decimal("57288.00"))
    detail = client.get(f"/api/statements/{alpha['id']}", headers=auth("producer")).json()
    (line,) = detail["lines"]
    assert line["eligible_kwh"] == 310_000
    assert Decimal(line["reference_price"]) == Decimal("101.50")
    assert line["direction"] == "to_producer"


def test_two_way_cfd_charges_the_producer_when_the_price_is_above_strike(client, auth, settled):
    op = auth("operator")
    assert client.post("/api/settlements", json={"month": "2021-02"}, headers=op).status_code == 201
    (beta,) = _statements(client, auth("producer_b"), month="2021-02")
    assert Decimal(beta["net"]) == Decimal("-27216.00")
    assert Decimal(beta["paid_by_producer"]) == Decimal("27216.00")
    assert Decimal(beta["paid_to_producer"]) == Decimal("0.00")


def test_statement_csv_lists_the_lines_and_sums_to_the_net(client, auth, settled):
    (alpha,) = _statements(client, auth("producer"), month="2021-01")
    response = client.get(f"/api/statements/{alpha['id']}/csv", headers=auth("producer"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal(alpha["net"])
    assert {r["contract_id"] for r in rows} == {"T-2021-a1"}


def test_rerunning_a_month_with_the_same_inputs_posts_nothing(client, auth, settled):
    op = auth("operator")
    again = client.post("/api/settlements", json={"month": "2021-01"}, headers=op)
    assert again.status_code == 201
    assert again.json()["replayed"] is True
    assert again.json()["id"] == settled["run"]["id"]
    assert len(_statements(client, op, month="2021-01")) == 2


def test_idempotency_key_replays_the_first_run(client, auth, settled):
    op = {**auth("operator"), "Idempotency-Key": "feb-run-1"}
    first = client.post("/api/settlements", json={"month": "2021-02"}, headers=op).json()
    second = client.post("/api/settlements", json={"month": "2021-02"}, headers=op).json()
    assert second["id"] == first["id"] and second["replayed"] is True
    clash = client.post("/api/settlements", json={"month": "2021-03"}, headers=op)
    assert clash.status_code == 409


def test_corrected_meter_data_posts_an_adjustment_that_references_the_line(
    client, auth, settled, scenario
):
    op = auth("operator")
    # Alpha's January doubles: 620 MWh; the adjustment adds another 15 190.00.
    response = client.post(
        "/api/meter-data", content=scenario.meter_csv((1,), alpha_kwh=2000), headers=op
    )
    assert response.status_code == 201, response.text
    run = client.post("/api/settlements", json={"month": "2021-01"}, headers=op).json()
    assert run["replayed"] is False and run["id"] != settled["run"]["id"]
    items = _statements(client, auth("producer"), month="2021-01")
    assert sorted(Decimal(s["net"]) for s in items) == [Decimal("15190.00")] * 2
    latest = client.get(f"/api/statements/{items[-1]['id']}", headers=auth("producer")).json()
    (line,) = latest["lines"]
    original = client.get(f"/api/statements/{items[0]['id']}", headers=auth("producer")).json()
    assert line["kind"] == "adjustment"
    assert line["corrects_line_id"] == original["lines"][0]["line_id"]
    # Beta's inputs did not change: no new statement for Beta.
    assert len(_statements(client, auth("producer_b"), month="2021-01")) == 1


def test_published_results_list_the_receipts_bidders_hold(client, auth, awarded):
    results = client.get("/api/rounds/T-2021/results", headers=auth("treasury")).json()
    published = {(a["bidder"], a["bid_id"]): a["receipt"] for a in results["awards"]}
    for receipt in awarded["receipts"].values():
        # The bidder recomputes its receipt from the canonical bid and the salt it was given.
        key = bytes.fromhex(receipt["salt"])
        mac = hmac.new(key, receipt["canonical_bid"].encode(), hashlib.sha256).hexdigest()
        assert mac == receipt["receipt"]
        assert published[(receipt["bidder"], receipt["bid_id"])] == receipt["receipt"]


def test_bids_are_sealed_while_open_and_frozen_after_close(client, auth, scenario):
    BIDS, ROUND_SPEC = scenario.bids, scenario.round_spec
    op = auth("operator")
    client.post("/api/rounds", json=ROUND_SPEC, headers=op)
    client.post("/api/rounds/T-2021/open", headers=op)
    client.post("/api/rounds/T-2021/bids", json=BIDS["producer"], headers=auth("producer"))
    for who in ("operator", "admin", "producer"):
        response = client.get("/api/rounds/T-2021/bids", headers=auth(who))
        assert response.status_code == 409, who
    audit = client.get("/api/audit", headers=auth("admin")).text
    assert "150.5" not in audit and "solar" not in audit  # the log holds receipts only
    client.post("/api/rounds/T-2021/close", headers=op)
    late = client.post(
        "/api/rounds/T-2021/bids",
        json={**BIDS["producer"], "price": "99.00"},
        headers=auth("producer"),
    )
    assert late.status_code == 409
    bids = client.get("/api/rounds/T-2021/bids", headers=op).json()
    assert bids["count"] == 1 and bids["items"][0]["payload"]["price"] == "150.50"


def test_producer_cannot_see_another_producers_resources(client, auth, settled):
    (beta,) = _statements(client, auth("producer_b"), month="2021-01")
    alpha = auth("producer")
    assert client.get(f"/api/statements/{beta['id']}", headers=alpha).status_code == 404
    assert client.get(f"/api/statements/{beta['id']}/csv", headers=alpha).status_code == 404
    assert client.get("/api/contracts/T-2021-b1", headers=alpha).status_code == 404
    assert client.get("/api/contracts/T-2021-a1", headers=alpha).status_code == 200
    assert [c["producer"] for c in client.get("/api/contracts", headers=alpha).json()["items"]] == [
        "Alpha"
    ]
    assert _statements(client, alpha, producer="Beta") == []
    bids = client.get("/api/rounds/T-2021/bids", headers=alpha).json()["items"]
    assert [b["bidder"] for b in bids] == ["Alpha"]


def test_award_creates_two_way_cfds_at_the_awarded_capacity(client, auth, awarded):
    contracts = client.get("/api/contracts", headers=auth("operator")).json()["items"]
    by_id = {c["contract_id"]: c for c in contracts}
    assert set(by_id) == {"T-2021-a1", "T-2021-b1"}
    assert by_id["T-2021-a1"]["scheme"] == "cfd"
    assert Decimal(by_id["T-2021-a1"]["strike_price"]) == Decimal("150.50")
    assert Decimal(by_id["T-2021-b1"]["capacity_mw"]) == Decimal("20")
    assert by_id["T-2021-a1"]["end_date"] == "2035-12-31"


@pytest.mark.parametrize("step", ["open", "close", "clear", "award"])
def test_lifecycle_refuses_steps_out_of_order(client, auth, step, scenario):
    op = auth("operator")
    client.post("/api/rounds", json=scenario.round_spec, headers=op)
    body = {"start": "2021-01-01"} if step == "award" else None
    if step != "open":
        response = client.post(f"/api/rounds/T-2021/{step}", headers=op, json=body)
        assert response.status_code == 409, response.text
        assert response.json()["type"] == "conflict"
    else:
        assert client.post("/api/rounds/T-2021/open", headers=op).status_code == 200
        assert client.post("/api/rounds/T-2021/open", headers=op).status_code == 409


def test_every_state_change_is_in_a_verifiable_audit_chain(client, auth, settled):
    entries = client.get("/api/audit", headers=auth("admin"), params={"limit": 1000}).json()
    actions = [e["action"] for e in entries["items"]]
    for action in (
        "key.create",
        "round.create",
        "round.open",
        "bid.submit",
        "round.close",
        "round.clear",
        "round.award",
        "upload.prices",
        "upload.meters",
        "settlement.run",
    ):
        assert action in actions
    previous = "0" * 64
    for entry in entries["items"]:
        assert entry["prev_hash"] == previous
        previous = entry["hash"]
    verdict = client.get("/api/audit/verify", headers=auth("operator")).json()
    assert verdict["valid"] is True and verdict["entries"] == entries["count"]


def test_missing_or_wrong_key_is_401(client):
    assert client.get("/api/rounds").status_code == 401
    bad = {"Authorization": "Bearer mzk_nothere_secret"}
    response = client.get("/api/rounds", headers=bad)
    assert response.status_code == 401 and response.json()["type"] == "unauthenticated"


def test_revoked_key_stops_working(client, auth, keys):
    key_id = keys["treasury"].split("_")[1]
    assert client.get("/api/me", headers=auth("treasury")).status_code == 200
    assert client.post(f"/api/keys/{key_id}/revoke", headers=auth("admin")).status_code == 200
    assert client.get("/api/me", headers=auth("treasury")).status_code == 401
