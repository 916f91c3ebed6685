"""Statement reads and key checks served from memory stay correct: revocation, adjustment
runs and producer isolation, on both databases. Expected content is read straight from the
tables with SQL, not through the rendering path."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.services.keys import KeyCache
from api.settings import Settings


def _key_id(secret_key: str) -> str:
    return secret_key.split("_", 2)[1]


def _from_tables(engine, statement_id: int) -> dict[str, object]:
    with engine.connect() as connection:
        producer, net_minor = connection.execute(
            text("SELECT producer, net_minor FROM statements WHERE id = :i"), {"i": statement_id}
        ).one()
        lines = connection.execute(
            text(
                "SELECT line_id, amount_minor, direction, corrects_line_id FROM settlement_lines "
                "WHERE statement_id = :i ORDER BY line_id"
            ),
            {"i": statement_id},
        ).all()
    return {
        "producer": producer,
        "net": Decimal(net_minor) / 100,
        "lines": [(ln, Decimal(a) / 100, d, c) for ln, a, d, c in lines],
    }


def _as_read(body: dict[str, object]) -> dict[str, object]:
    return {
        "producer": body["producer"],
        "net": Decimal(body["net"]),
        "lines": [
            (ln["line_id"], Decimal(ln["amount"]), ln["direction"], ln["corrects_line_id"])
            for ln in body["lines"]
        ],
    }


def test_a_revoked_key_is_refused_at_once(client, auth, keys, settled):
    (item,) = client.get("/api/statements", headers=auth("producer")).json()["items"]
    url = f"/api/statements/{item['id']}"
    assert client.get(url, headers=auth("producer")).status_code == 200  # key now cached
    revoked = client.post(f"/api/keys/{_key_id(keys['producer'])}/revoke", headers=auth("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    for path in (url, url + "/csv", "/api/me"):
        assert client.get(path, headers=auth("producer")).status_code == 401
    assert client.get(url, headers=auth("producer_b")).status_code == 404  # others unaffected


def test_a_revocation_by_another_process_takes_effect_within_the_ttl(
    engine, database_url, keys, settled
):
    app = create_app(Settings(database_url=database_url, key_cache_seconds=0.5), engine)
    now = [1000.0]  # the cache's clock, moved by hand: no sleeping against the real one
    app.state.keys = KeyCache(0.5, clock=lambda: now[0])
    headers = {"Authorization": f"Bearer {keys['producer']}"}
    with TestClient(app) as other:
        assert other.get("/api/me", headers=headers).status_code == 200
        with engine.begin() as connection:  # another process revokes: no in-process notice
            connection.execute(
                text("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE key_id = :k"),
                {"k": _key_id(keys["producer"])},
            )
        assert other.get("/api/me", headers=headers).status_code == 200  # cached, in its TTL
        now[0] += 0.6
        assert other.get("/api/me", headers=headers).status_code == 401
        wrong = {"Authorization": f"Bearer mzk_{_key_id(keys['producer_b'])}_wrong"}
        assert other.get("/api/me", headers=wrong).status_code == 401


def test_statements_read_before_an_adjustment_run_stay_as_posted(
    client, auth, engine, settled, scenario
):
    producer = auth("producer")
    (first,) = client.get("/api/statements", headers=producer, params={"month": "2021-01"}).json()[
        "items"
    ]
    url = f"/api/statements/{first['id']}"
    before = client.get(url, headers=producer).json()
    before_csv = client.get(url + "/csv", headers=producer).text
    # Alpha's January meter data doubles: the next run posts an adjustment on a new statement.
    response = client.post(
        "/api/meter-data",
        content=scenario.meter_csv((1,), alpha_kwh=2000),
        headers=auth("operator"),
    )
    assert response.status_code == 201, response.text
    run = client.post("/api/settlements", json={"month": "2021-01"}, headers=auth("operator"))
    assert run.status_code == 201 and run.json()["replayed"] is False
    items = client.get("/api/statements", headers=producer, params={"month": "2021-01"}).json()[
        "items"
    ]
    assert len(items) == 2 and items[0]["id"] == first["id"]
    newer = client.get(f"/api/statements/{items[1]['id']}", headers=producer).json()
    assert _as_read(newer) == _from_tables(engine, items[1]["id"])
    (adjustment,) = newer["lines"]
    assert adjustment["kind"] == "adjustment"
    assert adjustment["corrects_line_id"] == before["lines"][0]["line_id"]
    # The original statement reads as before, and as the tables hold it.
    assert client.get(url, headers=producer).json() == before
    assert client.get(url + "/csv", headers=producer).text == before_csv
    assert _as_read(before) == _from_tables(engine, first["id"])
    rows = list(csv.DictReader(io.StringIO(before_csv)))
    assert [(r["line_id"], Decimal(r["amount"])) for r in rows] == [
        (ln[0], ln[1]) for ln in _from_tables(engine, first["id"])["lines"]
    ]


def test_other_producers_never_see_a_cached_statement(client, auth, settled):
    (beta,) = client.get("/api/statements", headers=auth("producer_b")).json()["items"]
    url = f"/api/statements/{beta['id']}"
    # Alpha asks first (nothing cached: 404 from the database), then Beta, then Alpha again.
    assert client.get(url + "/csv", headers=auth("producer")).status_code == 404
    assert client.get(url, headers=auth("producer")).status_code == 404
    assert client.get(url, headers=auth("producer_b")).status_code == 200
    assert client.get(url + "/csv", headers=auth("producer_b")).status_code == 200
    for path in (url, url + "/csv"):
        response = client.get(path, headers=auth("producer"))
        assert response.status_code == 404 and response.json()["type"] == "not_found"
    assert client.get("/api/statements/999999", headers=auth("treasury")).status_code == 404


def test_the_one_query_read_matches_the_orm_rendering(client, auth, engine, settled, scenario):
    from api.actor import SYSTEM
    from api.http.routes.settlements import statement_public
    from api.services.settlements import get_statement
    from api.uow import UnitOfWork

    op = auth("operator")
    client.post("/api/meter-data", content=scenario.meter_csv((1,), alpha_kwh=2000), headers=op)
    client.post("/api/settlements", json={"month": "2021-01"}, headers=op)
    client.post("/api/settlements", json={"month": "2021-02"}, headers=op)
    items = client.get("/api/statements", headers=auth("treasury")).json()["items"]
    assert len(items) == 5
    for item in items:
        served = client.get(f"/api/statements/{item['id']}", headers=auth("treasury")).json()
        with UnitOfWork.for_engine(engine) as uow:
            orm = statement_public(get_statement(uow, SYSTEM, item["id"]), True)
        assert served.pop("audit_head")["id"] >= 1  # the log's head when it was rendered
        assert served == orm.model_dump(mode="json", exclude={"audit_head"})
        assert _as_read(served) == _from_tables(engine, item["id"])
