"""A correction is never lost to a repeat (X, Y, X: X is stored again), and concurrent
writers get the same answers on SQLite as on PostgreSQL: one succeeds, the others 409 or
replay, never a 500."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

ROUND = "T-2021"


def _monthly(price: str) -> str:
    return f"month,price\n2021-01,{price}\n"


def _stored_price(engine) -> str:
    with engine.connect() as connection:
        value = connection.execute(text("SELECT price FROM price_points")).scalar_one()
    return format(value, "f") if not isinstance(value, str) else value


def test_an_old_price_file_uploaded_again_replaces_the_correction(client, auth, engine):
    op = auth("operator")
    url = "/api/prices/balancing"
    x = client.post(url, content=_monthly("101.50"), headers=op).json()
    y = client.post(url, content=_monthly("99.00"), headers=op).json()
    assert _stored_price(engine).startswith("99")
    # Y repeated: a no-op returning Y.
    again = client.post(url, content=_monthly("99.00"), headers=op)
    assert again.status_code == 201 and again.json()["replayed"] and again.json()["id"] == y["id"]
    # X again is a new upload, and X's value is what is stored now.
    third = client.post(url, content=_monthly("101.50"), headers=op).json()
    assert not third["replayed"] and third["id"] not in (x["id"], y["id"])
    assert _stored_price(engine).startswith("101.5")
    # An Idempotency-Key replays its own upload, whatever came since.
    keyed = {**op, "Idempotency-Key": "prices-jan-v1"}
    first = client.post(url, content=_monthly("98.00"), headers=keyed).json()
    client.post(url, content=_monthly("97.00"), headers=op)
    replay = client.post(url, content=_monthly("98.00"), headers=keyed).json()
    assert replay["replayed"] and replay["id"] == first["id"]
    assert _stored_price(engine).startswith("97")


def test_an_old_meter_file_uploaded_again_replaces_the_correction(client, auth, awarded, engine):
    op = auth("operator")
    row = "timestamp,contract_id,energy_kwh\n2021-01-01T10:00:00+04:00,T-2021-a1,{}\n"
    for value in (1000, 900, 1000):
        response = client.post("/api/meter-data", content=row.format(value), headers=op)
        assert response.status_code == 201 and not response.json()["replayed"]
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT energy_kwh FROM meter_readings")).scalar_one()
    assert stored == 1000


def _race(client, calls) -> list[int]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(client.request, *call[:2], **call[2]) for call in calls]
        return sorted(f.result().status_code for f in futures)


@pytest.fixture
def closed(client, auth, scenario):
    op = auth("operator")
    client.post("/api/rounds", json=scenario.round_spec, headers=op)
    client.post(f"/api/rounds/{ROUND}/open", headers=op)
    for who, bid in scenario.bids.items():
        client.post(f"/api/rounds/{ROUND}/bids", json=bid, headers=auth(who))
    client.post(f"/api/rounds/{ROUND}/close", headers=op)


def test_concurrent_clears_and_awards_one_wins_the_rest_409(client, auth, closed):
    op = {"headers": auth("operator")}
    clear = ("POST", f"/api/rounds/{ROUND}/clear", op)
    assert _race(client, [clear] * 4) == [200, 409, 409, 409]
    award = ("POST", f"/api/rounds/{ROUND}/award", {**op, "json": {"start": "2021-01-01"}})
    assert _race(client, [award] * 4) == [200, 409, 409, 409]


def test_concurrent_identical_uploads_store_once_and_replay(client, auth, engine):
    upload = (
        "POST",
        "/api/prices/balancing",
        {"headers": auth("operator"), "content": _monthly("1.00")},
    )
    assert _race(client, [upload] * 4) == [201] * 4
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM uploads")).scalar_one() == 1


def test_concurrent_runs_of_a_month_post_once(client, auth, awarded, scenario, engine):
    op = auth("operator")
    client.post("/api/prices/balancing", content=scenario.prices_csv(), headers=op)
    client.post("/api/meter-data", content=scenario.meter_csv((1,)), headers=op)
    run = ("POST", "/api/settlements", {"headers": op, "json": {"month": "2021-01"}})
    assert _race(client, [run] * 4) == [201] * 4
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM settlement_runs")).scalar_one() == 1
