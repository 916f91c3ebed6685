"""`GET /api/rounds/{id}/analysis`: the analysis stored at clearing, over HTTP."""

from __future__ import annotations

from api.canonical import canonical_json, sha256_hex


def test_no_analysis_before_the_round_is_cleared(client, auth):
    from tests.api.conftest import ROUND_SPEC

    op = auth("operator")
    assert client.post("/api/rounds", json=ROUND_SPEC, headers=op).status_code == 201
    response = client.get("/api/rounds/T-2021/analysis", headers=op)
    assert response.status_code == 404
    assert response.json()["type"] == "not_found"
    assert client.get("/api/rounds/NO-SUCH/analysis", headers=op).status_code == 404


def test_the_stored_analysis_matches_the_award_and_its_hash(client, auth, awarded):
    response = client.get("/api/rounds/T-2021/analysis", headers=auth("treasury"))
    assert response.status_code == 200, response.text
    body = response.json()
    # The hash is recomputed here from the body, not read from the service.
    assert body["sha256"] == sha256_hex(canonical_json(body["analysis"]))
    results = client.get("/api/rounds/T-2021/results", headers=auth("operator")).json()
    # The engine names a bid `<bidder>/<bid id>` (bid ids are each bidder's own).
    accepted = sorted(f"{a['bidder']}/{a['bid_id']}" for a in results["awards"] if a["accepted"])
    comparison = {row["method"]: row for row in body["analysis"]["comparison"]}
    assert comparison["optimiser"]["accepted"] == accepted
    assert set(comparison) == {"optimiser", "germany", "uk_skip", "stop_at_breach"}
