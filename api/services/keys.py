"""API keys: `mzk_<key_id>_<secret>`; only the SHA-256 of the secret is stored. Secrets are
32 random bytes, so a fast hash is enough (no password stretching needed).

`KeyCache` keeps keys this process has verified for a few seconds, so a request usually needs
no database round trip to authenticate. Revoking a key drops it from every cache of the
revoking process at once; another process (another `serve` worker) stops accepting it when its
entry expires, at most `ttl_s` seconds later. A TTL of 0 checks the database every time.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from api import limits
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


def _validate(role: str, producer: str | None, name: str) -> None:
    problems = []
    if producer is not None and (
        len(producer) > limits.MAX_ID_LENGTH or not re.fullmatch(limits.ID_PATTERN, producer)
    ):
        problems.append(
            Problem(
                "key",
                None,
                "producer",
                f"1 to {limits.MAX_ID_LENGTH} letters, digits or '_.:-' (it becomes part of "
                "contract ids)",
            )
        )
    if len(name) > limits.MAX_NAME_LENGTH or not re.fullmatch(limits.NAME_PATTERN, name):
        problems.append(
            Problem("key", None, "name", f"at most {limits.MAX_NAME_LENGTH} printable characters")
        )
    if role not in ROLES:
        problems.append(Problem("key", None, "role", f"unknown role {role!r}; one of {ROLES}"))
    if role == "producer" and not producer:
        problems.append(Problem("key", None, "producer", "a producer key names its producer"))
    if role != "producer" and producer:
        problems.append(Problem("key", None, "producer", "only producer keys name a producer"))
    if problems:
        raise InputError(problems)


def create_key(
    uow: UnitOfWork, role: str, producer: str | None = None, name: str = "", actor: Actor = SYSTEM
) -> IssuedKey:
    producer = (producer or "").strip() or None  # an empty name is no producer
    _validate(role, producer, name)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        key_id=key_id,
        name=name or f"{role} key",
        role=role,
        producer=producer,
        secret_sha256=sha256_hex(secret),
        created_at=datetime.now(UTC),
    )
    uow.keys.add(row)
    audit.record(
        uow,
        actor,
        "key.create",
        f"key/{key_id}",
        {"role": role, "producer": producer, "name": row.name},
    )
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
    KeyCache.forget_everywhere(key_id)  # after the commit: a lookup racing it is not kept
    return row


def _split(presented: str) -> tuple[str, str]:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise AuthenticationError("malformed API key")
    return parts[1], parts[2]


def authenticate(uow: UnitOfWork, presented: str) -> Actor:
    """Verify against the database (no cache)."""
    key_id, secret = _split(presented)
    row = uow.keys.by_key_id(key_id)
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked API key")
    if not hmac.compare_digest(row.secret_sha256, sha256_hex(secret)):
        raise AuthenticationError("unknown or revoked API key")
    return Actor(key_id=row.key_id, role=row.role, producer=row.producer)


class KeyCache:
    """Keys verified against the database in the last `ttl_s` seconds, by key id, with the
    hash of their secret (the presented secret is hashed and compared on every request).
    Only accepted keys are kept; unknown, revoked or wrong keys always reach the database."""

    _instances: ClassVar[weakref.WeakSet[KeyCache]] = weakref.WeakSet()
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self, ttl_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._items: dict[str, tuple[str, Actor, float]] = {}
        self._generation = 0  # bumped by every forget, so a lookup racing it is not stored
        self._lock = threading.Lock()
        with KeyCache._instances_lock:
            KeyCache._instances.add(self)

    def get(self, presented: str) -> Actor | None:
        """The actor of a recently verified key, None if the database must be asked.
        Raises AuthenticationError for a malformed key or a wrong secret of a cached key."""
        key_id, secret = _split(presented)
        item = self._items.get(key_id)
        if item is None:
            return None
        secret_sha256, actor, expires = item
        if self._clock() >= expires:
            return None
        if not hmac.compare_digest(secret_sha256, sha256_hex(secret)):
            raise AuthenticationError("unknown or revoked API key")
        return actor

    def verify(self, uow: UnitOfWork, presented: str) -> Actor:
        """Check the database and remember an accepted key for `ttl_s` seconds."""
        generation = self._generation
        actor = authenticate(uow, presented)
        if self.ttl_s > 0:
            key_id, secret = _split(presented)
            with self._lock:
                if generation == self._generation:
                    if len(self._items) >= self.max_entries:
                        self._items.pop(next(iter(self._items)))
                    self._items[key_id] = (sha256_hex(secret), actor, self._clock() + self.ttl_s)
        return actor

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._generation += 1
            self._items.pop(key_id, None)

    @classmethod
    def forget_everywhere(cls, key_id: str) -> None:
        """Drop a key from every cache of this process (called when it is revoked)."""
        with cls._instances_lock:
            caches = list(cls._instances)
        for cache in caches:
            cache.forget(key_id)
