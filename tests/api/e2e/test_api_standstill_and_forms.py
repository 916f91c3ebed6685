"""Provisional results with a standstill and objections, and the standard-form contract
rendered at award with its SHA-256 recorded (both databases)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal

from api.db import models as m
from api.services import contract_forms

ROUND = "T-2021"


def _to_cleared(client, auth, scenario, days=None):
    op = auth("operator")
    assert client.post("/api/rounds", json=scenario.round_spec, headers=op).status_code == 201
    if days is not None:
        response = client.put(f"/api/rounds/{ROUND}/standstill", json={"days": days}, headers=op)
        assert response.status_code == 200, response.text
    client.post(f"/api/rounds/{ROUND}/open", headers=op)
    for who, bid in scenario.bids.items():
        assert client.post(f"/api/rounds/{ROUND}/bids", json=bid, headers=auth(who)).is_success
    for step in ("close", "clear"):
        assert client.post(f"/api/rounds/{ROUND}/{step}", headers=op).status_code == 200


def _award(client, auth):
    body = {"start": "2021-01-01", "granted_on": "2021-01-01"}
    return client.post(f"/api/rounds/{ROUND}/award", json=body, headers=auth("operator"))


def test_standstill_objections_and_answers_before_the_award(client, auth, scenario, uow_factory):
    _to_cleared(client, auth, scenario, days=3)
    state = client.get(f"/api/rounds/{ROUND}/standstill", headers=auth("producer")).json()
    assert (state["provisional"], state["days"]) == (True, 3)
    late_change = client.put(
        f"/api/rounds/{ROUND}/standstill", json={"days": 0}, headers=auth("operator")
    )
    assert late_change.status_code == 409
    filed = client.post(
        f"/api/rounds/{ROUND}/objections",
        json={"text": "my bid's capacity was misread"},
        headers=auth("producer_b"),
    )
    assert filed.status_code == 201, filed.text
    objection_id = filed.json()["id"]
    mine = client.get(f"/api/rounds/{ROUND}/objections", headers=auth("producer")).json()
    assert mine["count"] == 0  # another bidder's objection is not shown
    assert (
        client.get(f"/api/rounds/{ROUND}/objections", headers=auth("operator")).json()["count"] == 1
    )
    refused = _award(client, auth)
    assert refused.status_code == 409 and "standstill ends at" in refused.json()["detail"]
    # The standstill has run out (moved back in the database rather than waited for).
    with uow_factory() as uow:
        row = uow.rounds.get(ROUND)
        row.cleared_at -= timedelta(days=4)
        uow.commit()
    too_late = client.post(
        f"/api/rounds/{ROUND}/objections", json={"text": "late"}, headers=auth("producer")
    )
    assert too_late.status_code == 409
    waiting = _award(client, auth)
    assert waiting.status_code == 409
    assert f"unanswered objections: {objection_id}" in waiting.json()["detail"]
    answer = {"answer": "the capacity was read as submitted", "upheld": False}
    url = f"/api/rounds/{ROUND}/objections/{objection_id}/answer"
    answered = client.post(url, json=answer, headers=auth("operator"))
    assert answered.status_code == 200 and answered.json()["upheld"] is False
    assert client.post(url, json=answer, headers=auth("operator")).status_code == 409
    assert _award(client, auth).status_code == 200
    actions = [
        e["action"]
        for e in client.get("/api/audit?limit=1000", headers=auth("operator")).json()["items"]
    ]
    assert actions.count("round.objection") == 1 and actions.count("round.objection_answer") == 1


def test_a_round_without_standstill_is_awarded_at_once(client, auth, scenario):
    _to_cleared(client, auth, scenario)
    assert _award(client, auth).status_code == 200
    objection = client.post(
        f"/api/rounds/{ROUND}/objections", json={"text": "x"}, headers=auth("producer")
    )
    assert objection.status_code == 409


def test_contract_document_hash_recorded_and_reproducible(client, auth, scenario, uow_factory):
    _to_cleared(client, auth, scenario)
    assert _award(client, auth).status_code == 200
    response = client.get("/api/contracts/T-2021-a1/document", headers=auth("producer"))
    assert response.status_code == 200
    body = response.content
    digest = hashlib.sha256(body).hexdigest()
    assert response.headers["X-Document-SHA256"] == digest
    assert "150.50 GEL/MWh" in response.text and "Alpha" in response.text
    grants = [
        json.loads(e["details"])
        for e in client.get("/api/audit?limit=1000", headers=auth("operator")).json()["items"]
        if e["action"] == "contract.grant" and e["entity"] == "contract/T-2021-a1"
    ]
    assert [g["document_sha256"] for g in grants] == [digest]
    # The form filled again from the stored contract and status gives the same bytes.
    with uow_factory() as uow:
        contract = uow.contracts.get("T-2021-a1")
        state = uow.session.get(m.ContractLifecycle, "T-2021-a1")
        assert contract_forms.render(contract, state).encode() == body
    other = client.get("/api/contracts/T-2021-a1/document", headers=auth("producer_b"))
    assert other.status_code == 404
    # The PDF renders the recorded HTML, the same bytes each time.
    first = client.get("/api/contracts/T-2021-a1/document.pdf", headers=auth("producer"))
    again = client.get("/api/contracts/T-2021-a1/document.pdf", headers=auth("operator"))
    assert first.status_code == 200 and first.content.startswith(b"%PDF-")
    assert first.content == again.content
    assert first.headers["X-Document-SHA256"] == digest
    assert first.headers["X-PDF-SHA256"] == hashlib.sha256(first.content).hexdigest()
    assert (
        client.get("/api/contracts/T-2021-a1/document.pdf", headers=auth("producer_b")).status_code
        == 404
    )


def test_the_form_escapes_what_it_is_filled_with():
    contract = m.Contract(
        contract_id="X-1",
        round_id="R",
        bid_id="b",
        producer="შპს <script>alert(1)</script>",
        scheme="cfd",
        strike_price=Decimal("1.00"),
        currency="GEL",
        start_date=date(2021, 1, 1),
        end_date=date(2035, 12, 31),
        capacity_mw=Decimal(1),
        terms={},
    )
    state = m.ContractLifecycle(
        term_from="start",
        term_years=15,
        granted_on=date(2021, 1, 1),
        commissioning_deadline=date(2021, 1, 1),
        milestone_date=None,
        longstop_date=None,
    )
    html = contract_forms.render(contract, state)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert contract_forms.pdf(html, date(2021, 1, 1)).startswith(b"%PDF-")  # Georgian too
