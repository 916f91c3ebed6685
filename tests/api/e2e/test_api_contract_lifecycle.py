"""Privileged-producer status over HTTP on both databases: audited transitions (allowed and
refused), settlement that honours a revocation (also one entered late), per-project terms,
securities and penalties, and the public results checked against the stored clearing."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

import pytest

ROUND = "T-2021"
SECURITIES = {
    "currency": "GEL",
    "security_per_mw": "30000",
    "tolerance_share": "0",
    "steps": [
        {"from_month": 24, "per_kw": "10"},
        {"from_month": 26, "per_kw": "20"},
        {"from_month": 28, "per_kw": "30"},
    ],
}
LOSER = {  # above the solar ceiling of 200: rejected
    "bid_id": "b2",
    "technology": "solar",
    "capacity_mw": "5",
    "annual_mwh": "7000",
    "price": "250.00",
}


def _award(client, auth, scenario, securities=None, extra_bids=(), **award_terms):
    op = auth("operator")
    assert client.post("/api/rounds", json=scenario.round_spec, headers=op).status_code == 201
    if securities is not None:
        response = client.put(f"/api/rounds/{ROUND}/securities", json=securities, headers=op)
        assert response.status_code == 200, response.text
    assert client.post(f"/api/rounds/{ROUND}/open", headers=op).status_code == 200
    receipts = {}
    for who, bid in [*scenario.bids.items(), *extra_bids]:
        response = client.post(f"/api/rounds/{ROUND}/bids", json=bid, headers=auth(who))
        assert response.status_code == 201, response.text
        receipts[bid["bid_id"]] = response.json()["receipt"]
    for step in ("close", "clear"):
        assert client.post(f"/api/rounds/{ROUND}/{step}", headers=op).status_code == 200
    body = {
        "start": "2021-01-01",
        "years": 15,
        "payment_currency": "GEL",
        "reference_series": "balancing",
        "granted_on": "2021-01-01",
        **award_terms,
    }
    response = client.post(f"/api/rounds/{ROUND}/award", json=body, headers=op)
    return response, receipts


def _change(client, auth, contract_id, action, effective, reason="decision of the ministry"):
    return client.post(
        f"/api/contracts/{contract_id}/status",
        json={"action": action, "effective_date": effective, "reason": reason},
        headers=auth("operator"),
    )


def _audit(client, auth):
    return client.get("/api/audit?limit=1000", headers=auth("operator")).json()["items"]


def test_transitions_allowed_refused_audited_and_private(client, auth, scenario):
    response, _ = _award(client, auth, scenario)
    assert response.status_code == 200, response.text
    cid = "T-2021-a1"
    status = client.get(f"/api/contracts/{cid}/status", headers=auth("producer")).json()
    assert status["status"] == "granted" and status["history"][0]["action"] == "grant"
    steps = [  # …/status with an action, or the action's own route (…/revoke)
        ("commission", "2021-01-01", "commissioned"),
        ("suspend", "2021-03-01", "suspended"),
        ("resume", "2021-04-01", "commissioned"),
        ("revoke", "2021-07-16", "revoked"),
    ]
    for action, effective, expected in steps:
        response = (
            client.post(
                f"/api/contracts/{cid}/{action}",
                json={"effective_date": effective, "reason": "decision of the ministry"},
                headers=auth("operator"),
            )
            if action == "revoke"
            else _change(client, auth, cid, action, effective)
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == expected
    before = len(_audit(client, auth))
    refused = client.post(
        f"/api/contracts/{cid}/resume",
        json={"effective_date": "2021-08-01", "reason": "appeal"},
        headers=auth("operator"),
    )
    assert refused.status_code == 409
    assert "cannot resume: the contract is revoked (a final status)" in refused.json()["detail"]
    no_reason = _change(client, auth, cid, "terminate", "2021-08-01", reason="   ")
    assert no_reason.status_code == 422
    other = _change(client, auth, "T-2021-b1", "suspend", "2021-02-01")  # still granted
    assert other.status_code == 409 and "suspend needs commissioned" in other.json()["detail"]
    assert len(_audit(client, auth)) == before  # refused changes write nothing
    history = client.get(f"/api/contracts/{cid}/status", headers=auth("producer")).json()
    assert [e["to_status"] for e in history["history"]] == [
        "granted", "commissioned", "suspended", "commissioned", "revoked"
    ]  # fmt: skip
    assert history["history"][-1]["reason"] == "decision of the ministry"
    assert history["history"][-1]["decided_role"] == "operator"
    entries = {e["hash"]: e for e in _audit(client, auth)}
    for event in history["history"]:
        assert entries[event["audit_hash"]]["action"] == f"contract.{event['action']}"
    assert client.get("/api/audit/verify", headers=auth("operator")).json()["valid"]
    # Another producer cannot tell this contract from a missing one; producers cannot decide.
    assert client.get(f"/api/contracts/{cid}/status", headers=auth("producer_b")).status_code == 404
    assert (
        client.post(
            f"/api/contracts/{cid}/status",
            json={"action": "terminate", "effective_date": "2021-09-01", "reason": "x"},
            headers=auth("producer"),
        ).status_code
        == 403
    )


def _lines(client, auth, run_id):
    out = []
    for who in ("producer", "producer_b"):
        for st in client.get(
            f"/api/statements?run_id={run_id}", headers=auth(who)
        ).json()["items"]:  # fmt: skip
            out += client.get(f"/api/statements/{st['id']}", headers=auth(who)).json()["lines"]
    return out


def test_settlement_honours_revocation_before_and_after_the_month_is_settled(
    client, auth, scenario
):
    op = auth("operator")
    assert _award(client, auth, scenario)[0].status_code == 200
    assert client.post("/api/prices/balancing", content=scenario.prices_csv(), headers=op)
    response = client.post("/api/meter-data", content=scenario.meter_csv((7, 8)), headers=op)
    assert response.status_code == 201, response.text
    # Beta's wind contract is revoked from 16 July before July is settled.
    assert _change(client, auth, "T-2021-b1", "revoke", "2021-07-16").status_code == 200
    july = client.post("/api/settlements", json={"month": "2021-07"}, headers=op).json()
    lines = {(ln["contract_id"], ln["kind"]): ln for ln in _lines(client, auth, july["id"])}
    # By hand: R = 120.00 (July's monthly price). Beta: 48 MWh a day × (140.00 − 120.00) for
    # 1–15 July; Alpha: 10 MWh a day × (150.50 − 120.00) for all 31 days.
    assert Decimal(lines[("T-2021-b1", "support")]["amount"]) == Decimal("14400.00")
    assert lines[("T-2021-b1", "support")]["eligible_kwh"] == 15 * 48_000
    assert lines[("T-2021-b1", "status_exclusion")]["excluded_kwh"] == 16 * 48_000
    assert Decimal(lines[("T-2021-a1", "support")]["amount"]) == Decimal("9455.00")
    # Alpha's revocation from 16 July is decided after July was settled: the re-run adjusts.
    assert _change(client, auth, "T-2021-a1", "revoke", "2021-07-16").status_code == 200
    rerun = client.post("/api/settlements", json={"month": "2021-07"}, headers=op)
    assert rerun.status_code == 201, rerun.text
    support, excluded = sorted(
        _lines(client, auth, rerun.json()["id"]), key=lambda ln: ln["excluded_kwh"]
    )
    assert {support["kind"], excluded["kind"]} == {"adjustment"}
    assert (support["contract_id"], Decimal(support["amount"])) == (
        "T-2021-a1",
        Decimal("-4880.00"),
    )
    assert support["corrects_line_id"] == lines[("T-2021-a1", "support")]["line_id"]
    assert support["eligible_kwh"] == -16 * 10_000
    assert (excluded["excluded_kwh"], Decimal(excluded["amount"])) == (16 * 10_000, 0)
    # Nothing changed since: the same run comes back, nothing is posted twice.
    again = client.post("/api/settlements", json={"month": "2021-07"}, headers=op)
    assert again.json()["id"] == rerun.json()["id"]
    august = client.post("/api/settlements", json={"month": "2021-08"}, headers=op)
    assert august.status_code == 201, august.text
    assert _lines(client, auth, august.json()["id"]) == []


def test_per_project_terms_and_term_dates(client, auth, scenario):
    projects = {"a1": {"commissioning_deadline": "2022-06-30", "years": 10}}
    response, _ = _award(
        client, auth, scenario, term_from="commissioning", projects=projects,
        commissioning_deadline="2021-12-31", longstop_date="2023-12-31",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    contracts = {
        c["contract_id"]: c
        for c in client.get("/api/contracts", headers=auth("operator")).json()["items"]
    }
    a1, b1 = contracts["T-2021-a1"], contracts["T-2021-b1"]
    assert (a1["start_date"], a1["end_date"]) == ("2022-06-30", "2032-06-29")
    assert (b1["start_date"], b1["end_date"]) == ("2021-12-31", "2036-12-30")
    missed = client.get("/api/contract-deadlines?as_of=2022-07-01", headers=auth("treasury")).json()
    # b1's deadline 2021-12-31 has passed on 1 July 2022; a1's own (30 June 2022) too.
    assert [(c["contract_id"], c["missed"]) for c in missed["items"]] == [
        ("T-2021-a1", ["commissioning_deadline"]),
        ("T-2021-b1", ["commissioning_deadline"]),
    ]
    early = client.get("/api/contract-deadlines?as_of=2022-01-15", headers=auth("operator"))
    assert [c["contract_id"] for c in early.json()["items"]] == ["T-2021-b1"]
    status = client.get("/api/contracts/T-2021-a1/status", headers=auth("operator")).json()
    assert (status["commissioning_deadline"], status["longstop_date"]) == (
        "2022-06-30", "2023-12-31"
    )  # fmt: skip
    commissioned = _change(client, auth, "T-2021-a1", "commission", "2022-03-15").json()
    assert (commissioned["start_date"], commissioned["end_date"]) == ("2022-03-15", "2032-03-14")
    assert commissioned["commissioned_on"] == "2022-03-15"


def test_unknown_project_in_the_award_is_refused_and_writes_nothing(client, auth, scenario):
    response, _ = _award(client, auth, scenario, projects={"zz": {"years": 5}})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "projects.zz"
    assert client.get("/api/contracts", headers=auth("operator")).json()["count"] == 0
    assert client.get(f"/api/rounds/{ROUND}", headers=auth("operator")).json()["status"] == (
        "cleared"
    )


def test_dates_beyond_the_calendar_the_system_serves_are_422_not_500(client, auth, scenario):
    response, _ = _award(client, auth, scenario, start="9999-12-31")
    assert response.status_code == 422, response.text
    url, op = f"/api/rounds/{ROUND}/award", auth("operator")
    body = {"start": "2021-01-01", "granted_on": "0001-01-01"}
    assert client.post(url, json=body, headers=op).status_code == 422
    assert client.get("/api/contracts", headers=op).json()["count"] == 0
    body["granted_on"] = "2021-01-01"
    assert client.post(url, json=body, headers=op).status_code == 200
    assert _change(client, auth, "T-2021-a1", "commission", "9999-01-01").status_code == 422


def test_securities_held_returned_and_drawn(client, auth, scenario):
    response, _ = _award(
        client, auth, scenario, securities=SECURITIES, extra_bids=[("producer_b", LOSER)]
    )
    assert response.status_code == 200, response.text
    ledger = client.get(f"/api/rounds/{ROUND}/securities", headers=auth("operator")).json()
    entries = [(e["bid_id"], e["kind"], e["amount_minor"]) for e in ledger["items"]]
    assert entries == [
        ("a1", "held", 300_000_00),  # 10 MW × 30,000 GEL/MW
        ("b1", "held", 600_000_00),
        ("b2", "held", 150_000_00),
        ("b2", "returned", 150_000_00),  # the loser's, at award
    ]
    assert _change(client, auth, "T-2021-a1", "commission", "2022-05-01").status_code == 200
    # 34 months after award, nothing of b1's 20 MW commissioned: 30 GEL/kW × 20,000 kW.
    drawn = client.post(
        "/api/contracts/T-2021-b1/penalty",
        json={"as_of": "2023-11-01", "commissioned_mw": "0", "reason": "deadline missed"},
        headers=auth("operator"),
    )
    assert drawn.status_code == 200, drawn.text
    assert Decimal(drawn.json()["drawn"]) == Decimal("600000.00") == 30 * 20_000
    ledger = client.get(f"/api/rounds/{ROUND}/securities", headers=auth("producer")).json()
    assert [(e["bid_id"], e["kind"], e["amount_minor"]) for e in ledger["items"]] == [
        ("a1", "held", 300_000_00),
        ("a1", "returned", 300_000_00),  # the winner's, at commissioning
    ]
    again = client.post(
        "/api/contracts/T-2021-b1/penalty",
        json={"as_of": "2023-12-01", "commissioned_mw": "0", "reason": "still late"},
        headers=auth("operator"),
    ).json()
    assert Decimal(again["drawn"]) == 0 and Decimal(again["shortfall"]) == Decimal("600000.00")
    late = client.put(f"/api/rounds/{ROUND}/securities", json=SECURITIES, headers=auth("operator"))
    assert late.status_code == 409


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_public_results_match_the_stored_clearing_without_a_key(client, auth, scenario, kind):
    _, receipts = _award(
        client, auth, scenario, securities=SECURITIES, extra_bids=[("producer_b", LOSER)]
    )
    stored = client.get(f"/api/rounds/{ROUND}/results", headers=auth("operator")).json()
    clearing = stored["clearing"]
    document = client.get(f"/public/rounds/{ROUND}/results.json").json()
    if kind == "csv":
        text = client.get(f"/public/rounds/{ROUND}/results.csv").text
        winners = list(csv.DictReader(io.StringIO(text)))
        assert [w["bid_id"] for w in winners] == [w["bid_id"] for w in document["winners"]]
    else:
        winners = document["winners"]
    mw = sum(Decimal(w["capacity_mw"]) for w in winners)
    mwh = sum(Decimal(w["annual_mwh"]) for w in winners)
    assert (mw, mwh) == (Decimal(clearing["capacity_mw"]), Decimal(clearing["energy_mwh"]))
    assert Decimal(document["budget_used"]) == Decimal(clearing["budget_used"])
    for tech, totals in clearing["by_technology"].items():
        mine = document["technologies"][tech]
        assert Decimal(mine["awarded_mw"]) == Decimal(totals["capacity_mw"])
        rows = [w for w in winners if w["technology"] == tech]
        weighted = sum(Decimal(w["price_paid"]) * Decimal(w["annual_mwh"]) for w in rows) / sum(
            Decimal(w["annual_mwh"]) for w in rows
        )
        assert Decimal(mine["weighted_price"]) == weighted.quantize(Decimal("0.01"), ROUND_HALF_UP)
    by_csv = csv.DictReader(
        io.StringIO(client.get(f"/public/rounds/{ROUND}/technologies.csv").text)
    )
    assert {r["technology"]: r["weighted_price"] for r in by_csv} == {
        t: v["weighted_price"] for t, v in document["technologies"].items()
    }
    solar = document["technologies"]["solar"]
    assert (solar["bids"], Decimal(solar["offered_mw"]), solar["awarded_bids"]) == (
        2, Decimal("15"), 1
    )  # fmt: skip
    assert {r["bid_id"]: r["receipt"] for r in document["receipts"]} == receipts
    assert "b2" not in {w["bid_id"] for w in winners}  # losers only in totals and receipts


def test_public_results_only_for_awarded_rounds_and_the_register(client, auth, scenario):
    op = auth("operator")
    client.post("/api/rounds", json=scenario.round_spec, headers=op)
    assert client.get(f"/public/rounds/{ROUND}/results.json").status_code == 404
    assert client.get("/public/rounds").json()["count"] == 0
    client.post(f"/api/rounds/{ROUND}/open", headers=op)
    for who, bid in scenario.bids.items():
        client.post(f"/api/rounds/{ROUND}/bids", json=bid, headers=auth(who))
    client.post(f"/api/rounds/{ROUND}/close", headers=op)
    client.post(f"/api/rounds/{ROUND}/clear", headers=op)
    assert client.get(f"/public/rounds/{ROUND}/results.csv").status_code == 404  # provisional
    body = {"start": "2021-01-01", "granted_on": "2021-01-01"}
    assert client.post(f"/api/rounds/{ROUND}/award", json=body, headers=op).status_code == 200
    _change(client, auth, "T-2021-b1", "terminate", "2021-02-01")
    register = client.get("/public/contracts.json").json()
    assert [(c["contract_id"], c["status"]) for c in register["items"]] == [
        ("T-2021-a1", "granted"), ("T-2021-b1", "terminated")
    ]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(client.get("/public/contracts.csv").text)))
    assert [(r["contract_id"], r["status"], r["status_since"]) for r in rows] == [
        ("T-2021-a1", "granted", "2021-01-01"), ("T-2021-b1", "terminated", "2021-02-01")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("pricing", "setters"),
    [
        # Lower median of 120, 150, 180 per technology: 150, bid s2.
        ({"rule": "median"}, [("solar", "150.00", "s2")]),
        # Uniform price of the group (solar and wind): the highest accepted bid, s3 at 180.
        ({"rule": "pay_as_clear", "groups": {"all": ["solar", "wind"]}}, [("all", "180.00", "s3")]),
    ],
)
def test_public_results_name_the_bid_that_set_the_price(client, auth, scenario, pricing, setters):
    op = auth("operator")
    spec = {**scenario.round_spec, "pricing": pricing}
    assert client.post("/api/rounds", json=spec, headers=op).status_code == 201
    client.post(f"/api/rounds/{ROUND}/open", headers=op)
    bids = [("producer", "s1", "solar", "120.00"), ("producer", "s2", "solar", "150.00"),
            ("producer_b", "s3", "solar", "180.00")]  # fmt: skip
    for who, bid_id, tech, price in bids:
        bid = {"bid_id": bid_id, "technology": tech, "capacity_mw": "10", "annual_mwh": "15000"}
        response = client.post(
            f"/api/rounds/{ROUND}/bids", json={**bid, "price": price}, headers=auth(who)
        )
        assert response.status_code == 201, response.text
    for step in ("close", "clear"):
        assert client.post(f"/api/rounds/{ROUND}/{step}", headers=op).status_code == 200
    body = {"start": "2021-01-01", "granted_on": "2021-01-01"}
    assert client.post(f"/api/rounds/{ROUND}/award", json=body, headers=op).status_code == 200
    document = client.get(f"/public/rounds/{ROUND}/results.json").json()
    assert document["pricing_rule"] == pricing["rule"]
    found = [(p["unit"], p["clearing_price"], p["bid_id"]) for p in document["price_setting_bids"]]
    assert found == setters
