"""API keys: `mzk_<key_id>_<secret>`; only the SHA-256 of the secret is stored. Secrets are
32 random bytes, so a fast hash is enough (no password stretching needed)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from api.actor import SYSTEM, Actor, NotFound
from api.canonical import sha256_hex
from api.db.models import ROLES, ApiKey
from api.services import audit
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem

PREFIX = "mzk"


class AuthenticationError(Exception):
    """Missing, malformed, unknown or revoked key (HTTP 401)."""


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    role: str
    producer: str | None
    name: str
    secret_key: str  # shown once, never stored


def _validate(role: str, producer: str | None) -> None:
    problems = []
    if role not in ROLES:
        problems.append(Problem("key", None, "role", f"unknown role {role!r}; one of {ROLES}"))
    if role == "producer" and not producer:
        problems.append(Problem("key", None, "producer", "a producer key names its producer"))
    if role != "producer" and producer:
        problems.append(Problem("key", None, "producer", "only producer keys name a producer"))
    if problems:
        raise InputError(problems)


def create_key(uow: UnitOfWork, role: str, producer: str | None = None, name: str = "",
               actor: Actor = SYSTEM) -> IssuedKey:
    producer = (producer or "").strip() or None  # an empty name is no producer
    _validate(role, producer)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(key_id=key_id, name=name or f"{role} key", role=role, producer=producer,
                 secret_sha256=sha256_hex(secret), created_at=datetime.now(UTC))
    uow.keys.add(row)
    audit.record(uow, actor, "key.create", f"key/{key_id}",
                 {"role": role, "producer": producer, "name": row.name})
    uow.commit()
    return IssuedKey(key_id, role, producer, row.name, f"{PREFIX}_{key_id}_{secret}")


def revoke_key(uow: UnitOfWork, key_id: str, actor: Actor) -> ApiKey:
    row = uow.keys.by_key_id(key_id)
    if row is None:
        raise NotFound(f"no key {key_id!r}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        uow.session.flush()
        audit.record(uow, actor, "key.revoke", f"key/{key_id}", {})
        uow.commit()
    return row


def authenticate(uow: UnitOfWork, presented: str) -> Actor:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise AuthenticationError("malformed API key")
    _, key_id, secret = parts
    row = uow.keys.by_key_id(key_id)
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked API key")
    if not hmac.compare_digest(row.secret_sha256, sha256_hex(secret)):
        raise AuthenticationError("unknown or revoked API key")
    return Actor(key_id=row.key_id, role=row.role, producer=row.producer)
