"""A bounded property-based run of the OpenAPI spec (schemathesis) against the in-process app:
no generated request may crash the server, and every response must match its schema."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from api.db.engine import make_engine, upgrade
from api.services.keys import create_key
from api.settings import Settings
from api.uow import UnitOfWork

# The app is built when pytest collects this module (schemathesis reads the spec then); its
# database lives in a temporary directory removed after the module's tests.
_FOLDER = Path(tempfile.mkdtemp(prefix="mzk-schemathesis-"))
atexit.register(shutil.rmtree, _FOLDER, True)  # also when the tests here are deselected
_URL = f"sqlite:///{_FOLDER / 'api.sqlite'}"
_ENGINE = make_engine(_URL)
_APP = create_app(Settings(database_url=_URL), _ENGINE)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@pytest.fixture(scope="module")
def admin_headers():
    upgrade(_URL)
    with UnitOfWork.for_engine(_ENGINE) as uow:
        secret = create_key(uow, "admin").secret_key
    yield {"Authorization": f"Bearer {secret}"}
    _ENGINE.dispose()


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_crash_the_api(case, admin_headers):
    case.call_and_validate(
        headers=admin_headers, checks=[not_a_server_error, response_schema_conformance]
    )
