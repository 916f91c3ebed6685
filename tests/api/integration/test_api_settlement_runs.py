"""Settlement runs: concurrent requests never post a month twice."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from api.actor import Actor
from api.db import models as m
from api.services.settlements import run_settlement


def test_concurrent_runs_post_one_set_of_statements(settled, uow_factory):
    operator = Actor("op-key", "operator")
    outcomes, errors = [], []

    def run() -> None:
        try:
            with uow_factory() as uow:
                outcomes.append(run_settlement(uow, operator, "2021-02"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({o.run.id for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    with uow_factory() as uow:
        count = uow.session.scalar(
            select(func.count()).select_from(m.Statement).where(m.Statement.month == "2021-02")
        )
        runs = uow.session.scalar(
            select(func.count())
            .select_from(m.SettlementRun)
            .where(m.SettlementRun.month == "2021-02")
        )
    assert (count, runs) == (2, 1)


def test_run_without_prices_is_refused_and_posts_nothing(
    awarded, uow_factory, client, auth, scenario
):
    client.post("/api/meter-data", content=scenario.meter_csv((1,)), headers=auth("operator"))
    response = client.post("/api/settlements", json={"month": "2021-01"}, headers=auth("operator"))
    assert response.status_code == 422
    assert response.json()["problems"]
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.SettlementRun)) == 0
