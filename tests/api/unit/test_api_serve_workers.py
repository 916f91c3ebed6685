"""`mzekari serve --workers`: one process unless asked, the count checked, handed to uvicorn."""

from __future__ import annotations

import pytest

from api.settings import Settings, get_settings
from mzekari.cli import main


def test_one_worker_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("MZEKARI_WORKERS", raising=False)
    assert Settings(database_url="postgresql://u@db/mz").workers == 1
    monkeypatch.setenv("MZEKARI_WORKERS", "2")
    assert Settings().workers == 2
    with pytest.raises(ValueError):
        Settings(workers=0)


@pytest.mark.parametrize(
    "argv,expected", [([], (1, "app object")), (["--workers", "3"], (3, "api.app:create_app"))]
)
def test_serve_passes_the_worker_count_to_uvicorn(tmp_path, monkeypatch, argv, expected):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    for name in Settings.model_fields:  # serve exports its settings; restore them after
        monkeypatch.delenv(f"MZEKARI_{name.upper()}", raising=False)
    monkeypatch.setenv("MZEKARI_DATABASE_URL", f"sqlite:///{tmp_path / 's.sqlite'}")
    get_settings.cache_clear()
    try:
        assert main(["serve", "--port", "8123", "--no-access-log", *argv]) == 0
    finally:
        get_settings.cache_clear()
    ((app, kwargs),) = calls
    assert kwargs.get("workers", 1) == expected[0]
    assert (app if isinstance(app, str) else "app object") == expected[1]
    assert (kwargs["port"], kwargs["access_log"]) == (8123, False)


def test_workers_get_the_audit_key_itself_and_no_key_is_warned_about(tmp_path, monkeypatch, capsys):
    import os

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    for name in Settings.model_fields:
        monkeypatch.delenv(f"MZEKARI_{name.upper()}", raising=False)
    monkeypatch.setenv("MZEKARI_DATABASE_URL", f"sqlite:///{tmp_path / 's.sqlite'}")
    get_settings.cache_clear()
    try:
        assert main(["serve", "--port", "8123"]) == 0
        assert "MZEKARI_AUDIT_KEY is not set" in capsys.readouterr().err
        secret = "k" * 40
        monkeypatch.setenv("MZEKARI_AUDIT_KEY", secret)
        get_settings.cache_clear()
        assert main(["serve", "--port", "8123", "--workers", "2"]) == 0
        assert "MZEKARI_AUDIT_KEY" not in capsys.readouterr().err
        assert os.environ["MZEKARI_AUDIT_KEY"] == secret  # not its masked dump
    finally:
        get_settings.cache_clear()
