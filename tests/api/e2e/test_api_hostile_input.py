"""Hostile and careless input over HTTP, on both databases: every refusal is a 4xx in the
documented error shape, and writes nothing (row counts of every table before and after)."""

from __future__ import annotations

from datetime import date

ROUND = "T-2021"
HUGE_ID = 2**63 + 5


def _open_round(client, auth, scenario, **changes) -> None:
    spec = {**scenario.round_spec, **changes}
    assert client.post("/api/rounds", json=spec, headers=auth("operator")).status_code == 201
    assert client.post(f"/api/rounds/{ROUND}/open", headers=auth("operator")).status_code == 200


def _refused(response, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "detail", "problems"}, body
    return body


BID = {
    "bid_id": "x1",
    "technology": "wind",
    "capacity_mw": "10",
    "annual_mwh": "20000",
    "price": "100.00",
}
BAD_BIDS = {
    "capacity 1e30": {"capacity_mw": "1e30"},
    "price 1e400": {"price": "1e400"},
    "price 1e13 (NUMERIC(14, 2))": {"price": "10000000000000"},
    "price above the service's range": {"price": "100000.01"},
    "price not a number": {"price": "NaN"},
    "energy above capacity × 8760 h": {"annual_mwh": "87600.001"},
    "capacity above the technology's max_mw": {"capacity_mw": "60.001", "annual_mwh": "1"},
    "a '/' in the bid id": {"bid_id": "a/1"},
    "a 100-character bid id": {"bid_id": "b" * 100},
    "a NUL in the grid node": {"grid_node": "Zestaponi\u0000"},
}


def test_an_unbounded_bid_is_refused_and_nothing_is_written(client, auth, scenario, row_counts):
    technologies = [{"name": "solar", "ceiling_price": "200"}, {"name": "wind", "max_mw": "60"}]
    _open_round(client, auth, scenario, technologies=technologies)
    before = row_counts()
    for case, change in BAD_BIDS.items():
        response = client.post(
            f"/api/rounds/{ROUND}/bids", json={**BID, **change}, headers=auth("producer")
        )
        assert response.status_code == 422, (case, response.text)
        _refused(response)
        assert row_counts() == before, case


def test_a_json_number_beyond_float_is_refused(client, auth, scenario, row_counts):
    _open_round(client, auth, scenario)
    before = row_counts()
    body = '{"bid_id": "x1", "technology": "wind", "capacity_mw": 1e400, "annual_mwh": 1, '
    body += '"price": 100}'
    headers = {**auth("producer"), "Content-Type": "application/json"}
    _refused(client.post(f"/api/rounds/{ROUND}/bids", content=body, headers=headers))
    assert row_counts() == before


def test_the_engine_range_is_checked_at_submission_not_at_clearing(client, auth, scenario):
    """A bid each of whose numbers is in range, but a round of 1,000 of which would overflow
    the engine's 64-bit model, is refused. By hand, budget use in milli-cents: 50 years ×
    10^7 cents per MWh × 876 × 10^6 kWh × 1,000 bids = 4.4 × 10^20 > 2^62 ≈ 4.6 × 10^18."""
    budget = {"amount": "1000000000", "reference_price": "0", "years": 50}
    _open_round(client, auth, scenario, budget=budget)
    big = {**BID, "capacity_mw": "100", "annual_mwh": "876000", "price": "100000"}
    body = _refused(client.post(f"/api/rounds/{ROUND}/bids", json=big, headers=auth("producer")))
    assert "64-bit" in body["problems"][0]["message"]
    # At 100 per MWh: 50 × 10^4 × 876 × 10^6 × 1,000 = 4.4 × 10^17 < 2^62, accepted.
    ok = {**big, "price": "100"}
    response = client.post(f"/api/rounds/{ROUND}/bids", json=ok, headers=auth("producer"))
    assert response.status_code == 201, response.text


BAD_ROUNDS = {
    "a '/' in the round id": {"round_id": "T/2021"},
    "a 100-character round id": {"round_id": "R" * 100},
    "a NUL in the name": {"name": "Round\u0000"},
    "a 400-character name": {"name": "n" * 400},
    "a ceiling of 1e13": {"technologies": [{"name": "wind", "ceiling_price": "1e13"}]},
    "a budget of 1e30": {"budget": {"amount": "1e30", "reference_price": "100"}},
    "a 60-character technology": {"technologies": [{"name": "w" * 60}]},
}


def test_an_out_of_bounds_round_is_refused(client, auth, scenario, row_counts):
    before = row_counts()
    for case, change in BAD_ROUNDS.items():
        spec = {**scenario.round_spec, **change}
        response = client.post("/api/rounds", json=spec, headers=auth("operator"))
        assert response.status_code == 422, (case, response.text)
        _refused(response)
        assert row_counts() == before, case


BAD_REQUESTS = [
    ("POST", "/api/settlements", {"json": {"month": "0000-01"}}),
    ("POST", "/api/settlements", {"json": {"month": "9999-12"}}),
    ("GET", "/api/statements?month=0000-01", {}),
    ("GET", "/api/settlements?month=9999-12", {}),
    ("GET", f"/api/settlements/{HUGE_ID}", {}),
    ("GET", f"/api/statements/{HUGE_ID}", {}),
    ("GET", f"/api/statements/{HUGE_ID}/csv", {}),
    ("GET", f"/api/statements?run_id={HUGE_ID}", {}),
    ("GET", f"/api/audit?after_id={HUGE_ID}", {}),
    ("GET", "/api/rounds/T%002021", {}),
    ("GET", "/api/contracts?round_id=T%00", {}),
    ("POST", "/api/keys", {"json": {"role": "operator", "name": "k" * 300}}),
    ("POST", "/api/keys", {"json": {"role": "operator", "name": "key\u0000"}}),
    ("POST", "/api/keys", {"json": {"role": "producer", "producer": "P/1"}}),
    ("POST", "/api/prices/balancing", {"content": "month,price\n2021-01,10000000000000\n"}),
    ("POST", "/api/prices/balancing", {"content": "month,price\n2021-01," + "9" * 30 + "\n"}),
    ("POST", "/api/fx-rates", {"content": "date,pair,rate\n2021-01-29,USD/GEL,1000000000\n"}),
    ("POST", "/api/fx-rates", {"content": "date,pair,rate\n2021-01-29,USD/GEL,3.1234567\n"}),
    ("POST", "/api/meter-data", {"content": "timestamp,contract_id,energy_kwh\n\x00\n"}),
    ("POST", "/api/rounds/T-2021/clear", {"content": "{not json"}),
]


def test_bad_input_is_a_documented_4xx_and_writes_nothing(client, auth, row_counts):
    before = row_counts()
    for method, url, kwargs in BAD_REQUESTS:
        headers = {**auth("admin"), **kwargs.get("headers", {})}
        arguments = {k: v for k, v in kwargs.items() if k != "headers"}
        response = client.request(method, url, headers=headers, **arguments)
        assert 400 <= response.status_code < 500, (method, url, response.text)
        _refused(response, response.status_code)
        assert row_counts() == before, (method, url)


def test_a_term_starting_on_29_february_ends_the_day_before_its_anniversary(client, auth, scenario):
    from settlement.lifecycle import term_dates

    # By hand: 15 years from 2024-02-29 reach 2039, a common year; the anniversary is 1 March.
    assert term_dates(date(2024, 2, 29), 15)[1] == date(2039, 2, 28)
    assert term_dates(date(2024, 2, 29), 4)[1] == date(2028, 2, 28)
    assert term_dates(date(2021, 1, 1), 15)[1] == date(2035, 12, 31)
    _open_round(client, auth, scenario)
    for who, bid in scenario.bids.items():
        client.post(f"/api/rounds/{ROUND}/bids", json=bid, headers=auth(who))
    for step in ("close", "clear"):
        assert client.post(f"/api/rounds/{ROUND}/{step}", headers=auth("operator")).is_success
    award = {"start": "2024-02-29", "years": 15}
    response = client.post(f"/api/rounds/{ROUND}/award", json=award, headers=auth("operator"))
    assert response.status_code == 200, response.text
    contract = client.get("/api/contracts/T-2021-a1", headers=auth("operator")).json()
    assert (contract["start_date"], contract["end_date"]) == ("2024-02-29", "2039-02-28")


def test_an_award_start_beyond_the_supported_years_is_refused(client, auth, scenario, row_counts):
    _open_round(client, auth, scenario)
    client.post(
        f"/api/rounds/{ROUND}/bids", json=scenario.bids["producer"], headers=auth("producer")
    )
    for step in ("close", "clear"):
        assert client.post(f"/api/rounds/{ROUND}/{step}", headers=auth("operator")).is_success
    before = row_counts()
    for start in ("0001-01-01", "9999-01-01", "1989-12-31"):
        award = {"start": start, "years": 40}
        response = client.post(f"/api/rounds/{ROUND}/award", json=award, headers=auth("operator"))
        _refused(response)
        assert row_counts() == before, start


def test_a_blank_line_in_a_meter_file_is_skipped_on_both_databases(client, auth, awarded, engine):
    from sqlalchemy import text

    op = auth("operator")
    csv_text = (
        "timestamp,contract_id,energy_kwh\n"
        "2021-01-01T10:00:00+04:00,T-2021-a1,1000\n"
        "\n"
        "   \n"
        "2021-01-01T11:00:00+04:00,T-2021-a1,1200\n"
        "\r\n"
        " \t \n"
    )
    response = client.post("/api/meter-data", content=csv_text, headers=op)
    assert response.status_code == 201, response.text
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT energy_kwh FROM meter_readings ORDER BY ts")
        ).scalars()
        assert list(stored) == [1000, 1200]


def test_a_body_over_the_limit_is_refused_before_authentication(client):
    response = client.post(
        "/api/rounds", content=b"[" + b"1," * (1 << 20) + b"1]", headers={"x": "y"}
    )
    _refused(response, 413)
    response = client.post("/api/rounds", content=b"{}", headers={"Content-Length": "99999999"})
    assert response.status_code in (400, 413)


def test_malformed_json_answers_in_the_error_shape(client, auth):
    response = client.post(
        "/api/rounds",
        content=b'{"round_id": ',
        headers={**auth("operator"), "Content-Type": "application/json"},
    )
    body = _refused(response)
    assert body["type"] == "invalid_input"


def test_api_responses_are_not_sniffed_framed_or_cached(client, auth):
    for url in ("/api/me", "/api/rounds", "/api/rounds/NOPE", "/api/nope"):
        response = client.get(url, headers=auth("producer"))
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
    created = client.post("/api/keys", json={"role": "treasury"}, headers=auth("admin"))
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"


def test_list_endpoints_page(client, auth):
    everything = client.get("/api/keys", headers=auth("admin")).json()["items"]
    assert len(everything) == 5
    first = client.get("/api/keys?limit=2", headers=auth("admin")).json()
    rest = client.get("/api/keys?limit=2&offset=2", headers=auth("admin")).json()
    last = client.get("/api/keys?offset=4", headers=auth("admin")).json()
    assert first["items"] + rest["items"] + last["items"] == everything
    _refused(client.get("/api/keys?limit=0", headers=auth("admin")))
    _refused(client.get("/api/rounds?limit=100000", headers=auth("treasury")))


def test_a_meter_file_over_several_blocks_is_stored_whole(client, auth, awarded, engine):
    """64-byte lines: the 1 MiB blocks the PostgreSQL loader copies each end exactly on a
    line's end, and the third starts with a blank line. Every reading arrives, on both
    databases."""
    import pandas as pd
    from sqlalchemy import text

    stamps = pd.date_range("2021-01-01", periods=40_000, freq="15min", tz="Asia/Tbilisi")
    lines = [f"{t.isoformat()},T-2021-a1,{i:027d}\n" for i, t in enumerate(stamps)]
    assert {len(line) for line in lines} == {64}
    header = "timestamp,contract_id,energy_kwh".ljust(63) + "\n"  # one 64-byte line too
    body = header + "".join(lines[:32_767]) + "\n" + "".join(lines[32_767:])
    assert len(header) + 32_767 * 64 == 2 << 20
    response = client.post("/api/meter-data", content=body, headers=auth("operator"))
    assert response.status_code == 201, response.text
    with engine.connect() as connection:
        count, total = connection.execute(
            text("SELECT count(*), sum(energy_kwh) FROM meter_readings")
        ).one()
    assert (count, total) == (40_000, sum(range(40_000)))
