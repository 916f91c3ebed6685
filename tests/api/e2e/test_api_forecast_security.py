"""A forecast request names settings, never data: no path reaches the server's file system,
no file content or internal error text reaches an answer, and a refused request writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from api.db import models as m
from api.http.schemas import ForecastRequestConfig
from api.services import forecasts
from mzekari.errors import InputError

CONFIG = {"start_month": "2022-01", "months": 6, "scenarios": 20, "seed": 3}
CANARY = "canary-" + uuid.uuid4().hex  # an environment value no answer may contain
PATH_FIELDS = (
    "price_history",
    "hourly_history",
    "price_paths",
    "realised_prices",
    "realised_meters",
    "profiles",
)


def _rows(uow_factory) -> dict[str, int]:
    with uow_factory() as uow:
        return {
            table: uow.session.execute(select(func.count()).select_from(model)).scalar_one()
            for table, model in (
                ("forecast_jobs", m.ForecastJob),
                ("forecast_files", m.ForecastFile),
                ("audit", m.AuditEntry),
            )
        }


def test_the_http_allowlist_is_the_services() -> None:
    assert set(ForecastRequestConfig.model_fields) == set(forecasts.HTTP_FIELDS)


def test_a_path_in_the_config_is_refused_before_anything_is_read(
    client, auth, uow_factory, monkeypatch
) -> None:
    monkeypatch.setenv("MZEKARI_CANARY", CANARY)
    before = _rows(uow_factory)
    for field in (*PATH_FIELDS, "hourly_history_column", "method", "x"):
        for target in ("/proc/self/environ", "/etc/passwd", "/no/such/file"):
            response = client.post(
                "/api/forecasts",
                headers=auth("treasury"),
                json={"config": {**CONFIG, field: target}},
            )
            assert response.status_code == 422, (field, target)
            problems = response.json()["problems"]
            assert [p["field"] for p in problems] == [f"config.{field}"]
            # The same answer whether the file exists or not, and nothing from any file.
            assert CANARY not in response.text
            assert "root:" not in response.text
            assert "No such file" not in response.text
    assert _rows(uow_factory) == before


def test_a_stored_hostile_config_fails_without_reading_or_echoing(uow_factory, engine) -> None:
    """A job row written before the allowlist (or by hand) is checked again when it runs."""
    job_id = str(uuid.uuid4())
    with uow_factory() as uow:
        uow.jobs.add(
            m.ForecastJob(
                id=job_id,
                status="queued",
                progress_done=0,
                progress_total=0,
                config={**CONFIG, "realised_prices": "/proc/self/environ"},
                created_at=datetime.now(UTC),
                created_by="test",
            )
        )
        uow.commit()
    from sqlalchemy.orm import sessionmaker

    forecasts.run_job(sessionmaker(engine), job_id)
    with uow_factory() as uow:
        job = uow.jobs.get(job_id)
        assert job is not None and job.status == "failed"
        assert "config.realised_prices" in job.error and "not accepted" in job.error
        assert "PATH=" not in job.error


def test_an_internal_error_is_not_quoted_on_the_job(client, auth, monkeypatch) -> None:
    import treasury

    def broken(*args, **kwargs):
        raise RuntimeError(f"secret internals {CANARY}")

    monkeypatch.setattr(treasury, "run_forecast", broken)
    response = client.post("/api/forecasts", headers=auth("treasury"), json={"config": CONFIG})
    assert response.status_code == 202
    job = _wait(client, auth("treasury"), response.json()["id"])
    assert job["status"] == "failed"
    assert CANARY not in job["error"] and "secret" not in job["error"]
    assert "see the server log" in job["error"]


def test_too_many_scenarios_are_refused(client, auth, uow_factory) -> None:
    before = _rows(uow_factory)
    response = client.post(
        "/api/forecasts",
        headers=auth("treasury"),
        json={"config": {**CONFIG, "scenarios": 100_000_000}},
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "config.scenarios"
    assert _rows(uow_factory) == before


def test_stored_official_fx_rates_fill_a_foreign_strike(uow_factory) -> None:
    """The latest rate on or before the as-of date, not a later one, and the note says which."""
    from tests.treasury.conftest import contract
    from treasury import ForecastConfig

    with uow_factory() as uow:
        for day, rate in ((date(2025, 12, 30), "2.70"), (date(2025, 12, 31), "2.71")):
            uow.session.add(m.FxRate(pair="USD/GEL", day=day, rate=Decimal(rate)))
        uow.session.add(m.FxRate(pair="USD/GEL", day=date(2026, 1, 2), rate=Decimal("9.99")))
        uow.commit()
    usd = contract("U-1", strike_currency="USD")
    config = ForecastConfig(start_month="2026-01", months=3)
    with uow_factory() as uow:
        filled = forecasts.with_stored_fx_rates(uow, config, [usd])
    assert filled.fx_rates == {"USD": Decimal("2.71")}
    assert filled.fx_rate_sources == ("USD/GEL 2.71 (official rate of 2025-12-31)",)


def _wait(client, headers, job_id, timeout_s=60):
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/forecasts/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"forecast {job_id} did not finish in {timeout_s} s")


def test_a_usd_round_forecasts_with_the_stored_official_rates(client, auth) -> None:
    """Awards of a USD round paid in GEL: the first forecast runs on the uploaded official
    USD/GEL rates (the service fills them) and says which rate it used."""
    op = auth("operator")
    spec = {
        "round_id": "U-2021",
        "name": "USD round",
        "currency": "USD",
        "technologies": [{"name": "solar", "ceiling_price": "80"}],
        "budget": {"amount": "100000000", "reference_price": "30"},
    }
    assert client.post("/api/rounds", json=spec, headers=op).status_code == 201
    assert client.post("/api/rounds/U-2021/open", headers=op).status_code == 200
    bid = {
        "bid_id": "u1",
        "technology": "solar",
        "capacity_mw": "10",
        "annual_mwh": "15000",
        "price": "55.00",
    }
    assert client.post("/api/rounds/U-2021/bids", json=bid, headers=auth("producer")).is_success
    for step in ("close", "clear"):
        assert client.post(f"/api/rounds/U-2021/{step}", headers=op).status_code == 200
    award = {
        "start": "2021-01-01",
        "years": 15,
        "payment_currency": "GEL",
        "reference_series": "balancing",
    }
    response = client.post("/api/rounds/U-2021/award", headers=op, json=award)
    assert response.status_code == 200, response.text
    fx = "date,pair,rate\n2021-12-30,USD/GEL,3.0900\n2021-12-31,USD/GEL,3.1000\n"
    assert client.post("/api/fx-rates", content=fx, headers=op).status_code == 201
    treasury = auth("treasury")
    started = client.post("/api/forecasts", headers=treasury, json={"config": CONFIG})
    job = _wait(client, treasury, started.json()["id"])
    assert job["status"] == "done", job["error"]
    assert "FX rate USD/GEL 3.1 (official rate of 2021-12-31)" in job["summary"]["notes"]


HOSTILE_NUMBERS = [
    ('"generation_volatility": {"hydro": NaN}', "config.generation_volatility.hydro"),
    ('"generation_volatility": {"hydro": Infinity}', "config.generation_volatility.hydro"),
    ('"price_volatility": NaN', "config.price_volatility"),
    ('"price_volatility": -Infinity', "config.price_volatility"),
    ('"fx_rates": {"USD": "1e999"}', "config.fx_rates.USD"),
    ('"fx_rates": {"USD": 1e999}', "config.fx_rates.USD"),
    ('"delivery": {"H-1": {"probability": NaN}}', "config.delivery.H-1.probability"),
    ('"price_volatility": 5', "config.price_volatility"),
]


@pytest.mark.parametrize(("extra", "field"), HOSTILE_NUMBERS)
def test_non_finite_and_huge_numbers_are_refused_before_storing(
    client, auth, uow_factory, extra, field
) -> None:
    """Raw JSON NaN / Infinity / 1e999: a 422 naming the field, on SQLite and PostgreSQL
    alike, and no job row (PostgreSQL's JSON column cannot even hold NaN)."""
    before = _rows(uow_factory)
    body = '{"config": {"start_month": "2026-01", "months": 12, "scenarios": 20, ' + extra + "}}"
    response = client.post(
        "/api/forecasts",
        headers={**auth("treasury"), "content-type": "application/json"},
        content=body,
    )
    assert response.status_code == 422, response.text
    assert [p["field"] for p in response.json()["problems"]] == [field]
    assert _rows(uow_factory) == before


def test_a_huge_key_is_refused_and_not_echoed(client, auth, uow_factory) -> None:
    before = _rows(uow_factory)
    key = "K" * 10_000
    for config in (
        {**CONFIG, "delivery": {key: {"probability": 0.5}}},
        {**CONFIG, "generation_volatility": {key: 0.1}},
        {**CONFIG, "contract_technologies": {"H-1": key}},
    ):
        response = client.post("/api/forecasts", headers=auth("treasury"), json={"config": config})
        assert response.status_code == 422
        assert "K" * 100 not in response.text  # the field is named, the key cut short
    assert _rows(uow_factory) == before


def test_a_model_level_problem_names_the_config_not_an_empty_field() -> None:
    with pytest.raises(InputError) as refused:
        forecasts._config({"start_month": "2026-01", "months": 600, "scenarios": 100_000})
    assert [p.field for p in refused.value.problems] == ["config"]
    assert "exceeds" in refused.value.problems[0].message
