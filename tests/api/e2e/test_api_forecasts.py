"""Treasury forecasts as background jobs over HTTP: progress, result JSON and files equal what
`treasury.run_forecast` computes for the same contracts and configuration."""

from __future__ import annotations

import csv
import io
import time

CONFIG = {"start_month": "2022-01", "months": 12, "scenarios": 40, "seed": 7, "scenario_chunk": 10}


def _wait(client, headers, job_id, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/forecasts/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"forecast {job_id} still {job['status']} after {timeout_s} s")


def test_forecast_job_returns_the_engines_result_and_files(client, auth, awarded, uow_factory):
    from api.services.settlements import contract_record
    from settlement import contracts_from_records
    from treasury import ForecastConfig, run_forecast

    treasury = auth("treasury")
    started = client.post("/api/forecasts", json={"config": CONFIG}, headers=treasury)
    assert started.status_code == 202, started.text
    job = _wait(client, treasury, started.json()["id"])
    assert job["status"] == "done", job["error"]
    assert job["progress_done"] == job["progress_total"] == 40

    with uow_factory() as uow:
        rows = uow.contracts.list()
        records = [contract_record(r) for r in rows]
        technologies = {r.contract_id: r.terms["technology"] for r in rows}
    direct = run_forecast(
        contracts_from_records(records, source="test"),
        ForecastConfig(**CONFIG, contract_technologies=technologies),
    )
    expected = direct.summary()
    assert job["summary"]["monthly"] == expected["monthly"]
    assert job["summary"]["annual"] == expected["annual"]

    assert "forecast_monthly.csv" in job["files"]
    response = client.get(
        f"/api/forecasts/{job['id']}/files/forecast_monthly.csv", headers=treasury
    )
    assert response.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(response.text)))) == 12


def test_paths_on_the_server_are_not_accepted(client, auth):
    response = client.post(
        "/api/forecasts",
        headers=auth("treasury"),
        json={"config": {**CONFIG, "price_history": "/etc/passwd"}},
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "config.price_history"


def test_invalid_configuration_is_422_with_the_field(client, auth):
    response = client.post(
        "/api/forecasts",
        headers=auth("admin"),
        json={"config": {**CONFIG, "start_month": "2022-13"}},
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "config.start_month"
