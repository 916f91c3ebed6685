"""The `mzekari` subcommands of the service: db upgrade, admin create-key, serve's refusal."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings, get_settings
from mzekari.cli import main


@pytest.fixture
def sqlite_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("MZEKARI_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_create_key_prints_a_key_that_authenticates(sqlite_env, capsys):
    assert main(["db", "upgrade"]) == 0
    assert main(["admin", "create-key", "--role", "producer", "--producer", "Alpha"]) == 0
    secret = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("mzk_"))
    with TestClient(create_app(Settings(database_url=sqlite_env))) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me == {"key_id": secret.split("_")[1], "role": "producer", "producer": "Alpha"}


def test_producer_key_without_producer_is_refused(sqlite_env, capsys):
    assert main(["admin", "create-key", "--role", "producer"]) == 2
    assert "producer" in capsys.readouterr().err


def test_serve_refuses_a_public_bind_without_keys(sqlite_env, capsys):
    assert main(["serve", "--host", "0.0.0.0"]) == 1
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err
