"""Fixtures for the service tests: fresh databases on SQLite and PostgreSQL, an app, keys.

PostgreSQL is the server at MZEKARI_TEST_POSTGRES_URL (default: postgres@127.0.0.1:5432). If
it is unreachable the PostgreSQL tests fail, unless MZEKARI_SKIP_POSTGRES=1 says to skip them.
The schema comes only from `alembic upgrade head`, once per session into a template; each test
gets a copy (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.db.engine import make_engine, upgrade
from api.services.keys import create_key
from api.settings import Settings
from api.uow import UnitOfWork

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The audit signing key of the test service (in production: MZEKARI_AUDIT_KEY, never in the
# database).
AUDIT_KEY = "test-audit-key-0123456789abcdef0123456789"
ROLES = ("operator", "producer", "treasury", "admin")

ROUND_SPEC = {
    "round_id": "T-2021",
    "name": "Test round",
    "currency": "GEL",
    "technologies": [{"name": "solar", "ceiling_price": "200"}, {"name": "wind"}],
    "budget": {"amount": "100000000", "reference_price": "100"},
}


def _pg_server_url() -> str:
    return os.environ.get("MZEKARI_TEST_POSTGRES_URL", DEFAULT_PG)


def _pg_admin_engine() -> Engine:
    return create_engine(_pg_server_url(), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if os.environ.get("MZEKARI_SKIP_POSTGRES") == "1":
        pytest.skip("MZEKARI_SKIP_POSTGRES=1")
    admin = _pg_admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # unreachable server: fail loudly, never skip silently
        pytest.fail(f"PostgreSQL unreachable at {_pg_server_url()}: {exc}", pytrace=False)
    name = f"mzk_test_{uuid.uuid4().hex[:10]}_tmpl"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_pg_server_url()).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "test.sqlite"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    name = f"mzk_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    yield make_url(_pg_server_url()).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def uow_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork.for_engine(engine, AUDIT_KEY.encode())


@pytest.fixture
def row_counts(engine: Engine) -> Callable[[], dict[str, int]]:
    """Rows in every table of the schema: equal before and after a refused request."""
    from api.db.models import Base

    def count() -> dict[str, int]:
        with engine.connect() as connection:
            return {
                table.name: int(
                    connection.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
                )
                for table in Base.metadata.sorted_tables
            }

    return count


@pytest.fixture
def keys(uow_factory: Callable[[], UnitOfWork]) -> dict[str, str]:
    """One key per role; producers `Alpha` (role name `producer`) and `Beta` (`producer_b`)."""
    issued = {}
    for role in ROLES:
        with uow_factory() as uow:
            producer = "Alpha" if role == "producer" else None
            issued[role] = create_key(uow, role, producer).secret_key
    with uow_factory() as uow:
        issued["producer_b"] = create_key(uow, "producer", "Beta").secret_key
    return issued


@pytest.fixture
def client(engine: Engine, database_url: str) -> Iterator[object]:
    from fastapi.testclient import TestClient

    app = create_app(Settings(database_url=database_url, audit_key=AUDIT_KEY), engine)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth(keys: dict[str, str]) -> Callable[[str], dict[str, str]]:
    return lambda who: {"Authorization": f"Bearer {keys[who]}"}


BIDS = {
    "producer": {
        "bid_id": "a1",
        "technology": "solar",
        "capacity_mw": "10",
        "annual_mwh": "15000",
        "price": "150.50",
    },
    "producer_b": {
        "bid_id": "b1",
        "technology": "wind",
        "capacity_mw": "20",
        "annual_mwh": "50000",
        "price": "140.00",
    },
}
# Monthly reference prices (GEL/MWh) for 2021; January and February are used by the checks.
PRICES_2021 = {1: "101.50", 2: "160.25", **{m: "120.00" for m in range(3, 13)}}


def meter_csv(months: tuple[int, ...] = (1, 2), alpha_kwh: int = 1000, beta_kwh: int = 2000) -> str:
    """Alpha (solar) makes `alpha_kwh` in each hour 08–17 local time, Beta (wind) `beta_kwh`
    in every hour."""
    import pandas as pd

    lines = ["timestamp,contract_id,energy_kwh"]
    for month in months:
        start = pd.Timestamp(f"2021-{month:02d}-01", tz="Asia/Tbilisi")
        hours = pd.date_range(start, start + pd.offsets.MonthBegin(1), freq="h", inclusive="left")
        for hour in hours:
            stamp = hour.isoformat()
            lines.append(f"{stamp},T-2021-a1,{alpha_kwh if 8 <= hour.hour < 18 else 0}")
            lines.append(f"{stamp},T-2021-b1,{beta_kwh}")
    return "\n".join(lines) + "\n"


def prices_csv() -> str:
    return "month,price\n" + "".join(f"2021-{m:02d},{p}\n" for m, p in PRICES_2021.items())


@pytest.fixture
def awarded(client: object, auth: Callable[[str], dict[str, str]]) -> dict[str, object]:
    """A round taken through open → bids → close → clear → award over HTTP."""
    c = client
    receipts = {}
    assert c.post("/api/rounds", json=ROUND_SPEC, headers=auth("operator")).status_code == 201
    assert c.post("/api/rounds/T-2021/open", headers=auth("operator")).status_code == 200
    for who, bid in BIDS.items():
        response = c.post("/api/rounds/T-2021/bids", json=bid, headers=auth(who))
        assert response.status_code == 201, response.text
        receipts[who] = response.json()
    for step in ("close", "clear"):
        response = c.post(f"/api/rounds/T-2021/{step}", headers=auth("operator"))
        assert response.status_code == 200, response.text
    response = c.post(
        "/api/rounds/T-2021/award",
        headers=auth("operator"),
        json={
            "start": "2021-01-01",
            "years": 15,
            "payment_currency": "GEL",
            "reference_series": "balancing",
        },
    )
    assert response.status_code == 200, response.text
    return {"receipts": receipts, "results": response.json()}


@pytest.fixture
def settled(
    client: object, auth: Callable[[str], dict[str, str]], awarded: dict[str, object]
) -> dict[str, object]:
    """`awarded`, plus 2021 prices, January–February meter data and January settled."""
    c = client
    op = auth("operator")
    response = c.post("/api/prices/balancing", content=prices_csv(), headers=op)
    assert response.status_code == 201, response.text
    response = c.post("/api/meter-data", content=meter_csv(), headers=op)
    assert response.status_code == 201, response.text
    response = c.post("/api/settlements", json={"month": "2021-01"}, headers=op)
    assert response.status_code == 201, response.text
    return {**awarded, "run": response.json()}


@pytest.fixture
def scenario() -> object:
    """The test round's data and file builders (fixtures, not imports: test directories of
    other packages may have a conftest of their own)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        round_spec=ROUND_SPEC, bids=BIDS, meter_csv=meter_csv, prices_csv=prices_csv
    )
