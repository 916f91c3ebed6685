"""Every API route × every role: who may call it. The route list comes from the app itself,
so a new route without an entry here fails `test_matrix_covers_every_route`."""

from __future__ import annotations

import pytest

ALL = {"operator", "producer", "treasury", "admin"}
OPS = {"operator", "admin"}
FINANCE = {"operator", "admin", "treasury"}
TREASURY = {"treasury", "admin"}
ADMIN = {"admin"}
GO_ACCOUNTS = {"operator", "admin", "producer"}

MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/me"): ALL,
    ("GET", "/api/rounds"): ALL,
    ("POST", "/api/rounds"): OPS,
    ("GET", "/api/rounds/{round_id}"): ALL,
    ("POST", "/api/rounds/{round_id}/open"): OPS,
    ("POST", "/api/rounds/{round_id}/close"): OPS,
    ("POST", "/api/rounds/{round_id}/clear"): OPS,
    ("POST", "/api/rounds/{round_id}/award"): OPS,
    ("POST", "/api/rounds/{round_id}/bids"): {"producer"},
    ("GET", "/api/rounds/{round_id}/bids"): {"operator", "admin", "producer"},
    ("GET", "/api/rounds/{round_id}/results"): ALL,
    ("GET", "/api/rounds/{round_id}/analysis"): FINANCE,
    ("GET", "/api/contracts"): ALL,
    ("GET", "/api/contracts/{contract_id}"): ALL,
    ("GET", "/api/contracts/{contract_id}/status"): ALL,
    ("POST", "/api/contracts/{contract_id}/status"): OPS,
    ("POST", "/api/contracts/{contract_id}/penalty"): OPS,
    **{
        ("POST", f"/api/contracts/{{contract_id}}/{action}"): OPS
        for action in ("commission", "suspend", "resume", "revoke", "terminate", "expire")
    },
    ("PUT", "/api/rounds/{round_id}/securities"): OPS,
    ("GET", "/api/rounds/{round_id}/securities"): {"operator", "admin", "producer"},
    ("GET", "/api/contracts/{contract_id}/document"): ALL,
    ("GET", "/api/contracts/{contract_id}/document.pdf"): ALL,
    ("GET", "/api/contract-deadlines"): FINANCE,
    ("PUT", "/api/rounds/{round_id}/standstill"): OPS,
    ("GET", "/api/rounds/{round_id}/standstill"): ALL,
    ("POST", "/api/rounds/{round_id}/objections"): {"producer"},
    ("GET", "/api/rounds/{round_id}/objections"): {"operator", "admin", "producer"},
    ("POST", "/api/rounds/{round_id}/objections/{objection_id}/answer"): OPS,
    ("POST", "/api/meter-data"): OPS,
    ("POST", "/api/prices/{series}"): OPS,
    ("POST", "/api/fx-rates"): OPS,
    ("POST", "/api/cpi"): OPS,
    ("POST", "/api/profiles/{name}"): OPS,
    ("GET", "/api/prices"): FINANCE,
    ("GET", "/api/uploads"): OPS,
    ("POST", "/api/settlements"): OPS,
    ("GET", "/api/settlements"): FINANCE,
    ("GET", "/api/settlements/{run_id}"): FINANCE,
    ("GET", "/api/statements"): ALL,
    ("GET", "/api/statements/{statement_id}"): ALL,
    ("GET", "/api/statements/{statement_id}/csv"): ALL,
    ("POST", "/api/forecasts"): TREASURY,
    ("GET", "/api/forecasts/{job_id}"): TREASURY,
    ("GET", "/api/forecasts/{job_id}/files/{name}"): TREASURY,
    ("POST", "/api/keys"): ADMIN,
    ("GET", "/api/keys"): ADMIN,
    ("POST", "/api/keys/{key_id}/revoke"): ADMIN,
    ("GET", "/api/audit"): OPS,
    ("GET", "/api/audit/verify"): OPS,
    ("POST", "/api/guarantees/installations"): OPS,
    ("GET", "/api/guarantees/installations"): GO_ACCOUNTS,
    ("POST", "/api/guarantees/issuance"): GO_ACCOUNTS,
    ("GET", "/api/guarantees/account"): GO_ACCOUNTS,
    ("POST", "/api/guarantees/transfer"): GO_ACCOUNTS,
    ("POST", "/api/guarantees/cancel"): GO_ACCOUNTS,
    ("GET", "/api/guarantees/export"): OPS,
    ("POST", "/api/guarantees/import"): OPS,
}

BODIES = {
    ("POST", "/api/rounds"): {"json": {"round_id": "X"}},
    ("POST", "/api/rounds/{round_id}/bids"): {
        "json": {
            "bid_id": "z9",
            "technology": "wind",
            "capacity_mw": "1",
            "annual_mwh": "1",
            "price": "1",
        }
    },
    ("POST", "/api/rounds/{round_id}/award"): {"json": {"start": "2021-01-01"}},
    ("POST", "/api/contracts/{contract_id}/status"): {
        "json": {"action": "expire", "effective_date": "2021-01-01", "reason": "test"}
    },
    **{
        ("POST", f"/api/contracts/{{contract_id}}/{action}"): {
            "json": {"effective_date": "2021-01-01", "reason": "test"}
        }
        for action in ("commission", "suspend", "resume", "revoke", "terminate", "expire")
    },
    ("POST", "/api/contracts/{contract_id}/penalty"): {
        "json": {"as_of": "2021-01-01", "commissioned_mw": "0", "reason": "test"}
    },
    ("PUT", "/api/rounds/{round_id}/securities"): {
        "json": {"currency": "GEL", "security_per_mw": "1"}
    },
    ("PUT", "/api/rounds/{round_id}/standstill"): {"json": {"days": 1}},
    ("POST", "/api/rounds/{round_id}/objections"): {"json": {"text": "t"}},
    ("POST", "/api/rounds/{round_id}/objections/{objection_id}/answer"): {
        "json": {"answer": "a", "upheld": False}
    },
    ("POST", "/api/meter-data"): {"content": "timestamp,contract_id,energy_kwh\n"},
    ("POST", "/api/prices/{series}"): {"content": "month,price\n"},
    ("POST", "/api/fx-rates"): {"content": "date,pair,rate\n"},
    ("POST", "/api/cpi"): {"content": "month,cpi\n"},
    ("POST", "/api/profiles/{name}"): {"content": "timestamp,solar\n"},
    ("POST", "/api/settlements"): {"json": {"month": "2030-01"}},
    ("POST", "/api/forecasts"): {"json": {"config": {}}},
    ("POST", "/api/keys"): {"json": {"role": "treasury"}},
    ("POST", "/api/guarantees/import"): {"content": "certificate_id_from\n"},
}


def api_routes(app) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in operations
    }


def test_matrix_covers_every_route(client):
    assert api_routes(client.app) == set(MATRIX)


def _url(path: str, statement_id: int, run_id: int) -> str:
    if path == "/api/contract-deadlines":
        return path + "?as_of=2030-01-01"
    values = {
        "round_id": "T-2021",
        "contract_id": "T-2021-a1",
        "statement_id": statement_id,
        "run_id": run_id,
        "job_id": "no-such-job",
        "name": "x.csv",
        "key_id": "nokey",
        "series": "balancing",
        "objection_id": 1,
    }
    return path.format(**values)


def test_every_route_admits_exactly_its_roles(client, auth, settled):
    statement_id = client.get("/api/statements", headers=auth("producer")).json()["items"][0]["id"]
    run_id = settled["run"]["id"]
    wrong = []
    for (method, path), allowed in sorted(MATRIX.items()):
        url = _url(path, statement_id, run_id)
        anonymous = client.request(method, url, **BODIES.get((method, path), {}))
        if anonymous.status_code != 401:
            wrong.append((method, path, "anonymous", anonymous.status_code))
        for role in sorted(ALL):
            response = client.request(
                method, url, headers=auth(role), **BODIES.get((method, path), {})
            )
            refused = response.status_code == 403
            if refused == (role in allowed) or response.status_code in (401, 500):
                wrong.append((method, path, role, response.status_code))
    assert wrong == []


@pytest.mark.parametrize("path", ["/api/statements/{id}", "/api/statements/{id}/csv"])
def test_other_producers_statement_is_404_not_403(client, auth, settled, path):
    items = client.get("/api/statements", headers=auth("producer_b")).json()["items"]
    response = client.get(path.format(id=items[0]["id"]), headers=auth("producer"))
    assert response.status_code == 404


def test_a_statement_read_once_stays_hidden_from_other_producers(client, auth, settled):
    items = client.get("/api/statements", headers=auth("producer_b")).json()["items"]
    url = f"/api/statements/{items[0]['id']}"
    first = client.get(url, headers=auth("producer_b"))
    assert first.status_code == 200  # rendered and kept for later reads
    assert client.get(url, headers=auth("producer")).status_code == 404
    assert client.get(url, headers=auth("producer_b")).json() == first.json()
    assert client.get(url, headers=auth("treasury")).status_code == 200
