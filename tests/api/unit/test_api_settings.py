"""Settings: one object from MZEKARI_* variables that refuses unsafe serving."""

from __future__ import annotations

import pytest

from api.settings import DEFAULT_DATABASE_URL, Settings, UnsafeSettingsError


def test_defaults_are_an_sqlite_file_on_loopback(monkeypatch):
    monkeypatch.delenv("MZEKARI_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.host == "127.0.0.1"
    settings.check_serving(active_key_count=0)  # loopback without keys is fine


def test_environment_is_read_and_postgres_urls_use_psycopg(monkeypatch):
    monkeypatch.setenv("MZEKARI_DATABASE_URL", "postgresql://u@db:5432/mz")
    monkeypatch.setenv("MZEKARI_PORT", "9000")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@db:5432/mz"
    assert settings.port == 9000


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_public_bind_without_keys_is_refused(host):
    with pytest.raises(UnsafeSettingsError):
        Settings(host=host).check_serving(active_key_count=0)
    Settings(host=host).check_serving(active_key_count=1)
