"""A bounded property-based run of the OpenAPI spec (schemathesis) against the in-process app,
on SQLite and on PostgreSQL: no generated request may crash the server, and every response
must match its schema."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.db.engine import make_engine, upgrade
from api.services.keys import create_key
from api.settings import Settings
from api.uow import UnitOfWork

AUDIT_KEY = "schemathesis-audit-key-0123456789abcdef"
CHECKS = [not_a_server_error, response_schema_conformance]
RUN = settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def _app(url: str):
    engine = make_engine(url)
    return engine, create_app(Settings(database_url=url, audit_key=AUDIT_KEY), engine)


def _admin_headers(url: str, engine) -> dict[str, str]:
    upgrade(url)
    with UnitOfWork.for_engine(engine, AUDIT_KEY.encode()) as uow:
        secret = create_key(uow, "admin").secret_key
    return {"Authorization": f"Bearer {secret}"}


# The apps are built when pytest collects this module (schemathesis reads the spec then); the
# SQLite file lives in a temporary directory and the PostgreSQL database is dropped at exit,
# also when the tests here are deselected.
_FOLDER = Path(tempfile.mkdtemp(prefix="mzk-schemathesis-"))
atexit.register(shutil.rmtree, _FOLDER, True)
_SQLITE_URL = f"sqlite:///{_FOLDER / 'api.sqlite'}"
_SQLITE_ENGINE, _SQLITE_APP = _app(_SQLITE_URL)
sqlite_schema = schemathesis.openapi.from_asgi("/openapi.json", _SQLITE_APP)


def _postgres_url() -> str | None:
    if os.environ.get("MZEKARI_SKIP_POSTGRES") == "1":
        return None
    server = os.environ.get(
        "MZEKARI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    name = f"mzk_test_{uuid.uuid4().hex[:10]}_st"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    atexit.register(drop)
    return make_url(server).set(database=name).render_as_string(hide_password=False)


_PG_URL = _postgres_url()
_PG_ENGINE, _PG_APP = _app(_PG_URL) if _PG_URL else (None, _SQLITE_APP)
postgres_schema = schemathesis.openapi.from_asgi("/openapi.json", _PG_APP)


@pytest.fixture(scope="module")
def sqlite_headers():
    yield _admin_headers(_SQLITE_URL, _SQLITE_ENGINE)
    _SQLITE_ENGINE.dispose()


@pytest.fixture(scope="module")
def postgres_headers():
    if _PG_URL is None or _PG_ENGINE is None:
        pytest.skip("MZEKARI_SKIP_POSTGRES=1")
    yield _admin_headers(_PG_URL, _PG_ENGINE)
    _PG_ENGINE.dispose()


@sqlite_schema.parametrize()
@RUN
def test_generated_requests_never_crash_the_api_on_sqlite(case, sqlite_headers):
    case.call_and_validate(headers=sqlite_headers, checks=CHECKS)


@pytest.mark.postgres
@postgres_schema.parametrize()
@RUN
def test_generated_requests_never_crash_the_api_on_postgres(case, postgres_headers):
    case.call_and_validate(headers=postgres_headers, checks=CHECKS)
