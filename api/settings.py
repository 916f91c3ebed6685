"""One `Settings` object, read from `MZEKARI_*` environment variables and built once."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mzekari.errors import MzekariError

DEFAULT_DATABASE_URL = "sqlite:///mzekari.sqlite"


class UnsafeSettingsError(MzekariError):
    kind = "unsafe_settings"


def normalise_database_url(url: str) -> str:
    """`postgresql://` and `postgres://` URLs go through psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MZEKARI_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Rows validated and loaded per step of a bulk upload; bounds memory, not correctness.
    upload_chunk_rows: int = Field(default=500_000, ge=1)
    # Threads running treasury forecasts in the background.
    forecast_workers: int = Field(default=1, ge=1, le=8)
    # How long a process trusts a key it verified: another process's revocation takes effect
    # here within this many seconds (the revoking process drops it at once). 0: no cache.
    key_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    # `serve` worker processes. One by default: its caches are then the only ones, so a key
    # revocation takes effect at once everywhere. On PostgreSQL more can add throughput on a
    # machine with idle cores (benchmarks/api_statement_reads.py measures it).
    workers: int = Field(default=1, ge=1, le=16)
    # Signs every audit entry (HMAC-SHA256). Kept outside the database, so whoever holds the
    # database alone cannot rewrite the log and re-sign it. Unset: entries are unsigned and
    # verification says it could not check signatures.
    audit_key: SecretStr | None = Field(default=None, min_length=32)
    # Largest request body: JSON requests, and CSV uploads (streamed to a spool file).
    max_json_bytes: int = Field(default=1 << 20, ge=1024)
    max_upload_bytes: int = Field(default=8 << 30, ge=1024)

    @property
    def audit_key_bytes(self) -> bytes | None:
        return None if self.audit_key is None else self.audit_key.get_secret_value().encode()

    @field_validator("database_url")
    @classmethod
    def _driver(cls, url: str) -> str:
        return normalise_database_url(url)

    def check_serving(self, active_key_count: int) -> None:
        """Refuse to expose the API beyond loopback when nobody could authenticate to it."""
        if not is_loopback(self.host) and active_key_count == 0:
            raise UnsafeSettingsError(
                f"refusing to listen on {self.host} with no API keys: create one with "
                "`mzekari admin create-key --role admin` first, or bind 127.0.0.1"
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
