"""The cache of verified keys: expiry, wrong secrets, revocation racing a lookup."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from api.services import keys


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Store:
    """A key table: by_key_id counts lookups and can run a hook (another request) mid-lookup."""

    def __init__(self) -> None:
        self.rows: dict[str, object] = {}
        self.lookups = 0
        self.during_lookup: Callable[[], None] | None = None

    def add(self, row) -> None:
        self.rows[row.key_id] = row

    def by_key_id(self, key_id: str):
        self.lookups += 1
        row = self.rows.get(key_id)
        if self.during_lookup is not None:
            row = copy.copy(row)  # what the query read, as of its snapshot
            self.during_lookup()
        return row


@pytest.fixture
def uow():
    audit = SimpleNamespace(last=lambda: None, add=lambda entry: None)
    return SimpleNamespace(
        keys=Store(),
        audit=audit,
        session=SimpleNamespace(flush=lambda: None),
        lock=lambda n: None,
        commit=lambda: None,
    )


def test_a_verified_key_is_served_from_memory_until_it_expires(uow):
    issued = keys.create_key(uow, "producer", "Alpha")
    clock = Clock()
    cache = keys.KeyCache(ttl_s=5, clock=clock)
    assert cache.get(issued.secret_key) is None
    actor = cache.verify(uow, issued.secret_key)
    assert (actor.role, actor.producer, uow.keys.lookups) == ("producer", "Alpha", 1)
    clock.now += 4.9
    assert cache.get(issued.secret_key) == actor
    clock.now += 0.1
    assert cache.get(issued.secret_key) is None  # expired: the database is asked again


def test_a_wrong_secret_for_a_cached_key_is_refused(uow):
    issued = keys.create_key(uow, "admin")
    cache = keys.KeyCache(ttl_s=5)
    cache.verify(uow, issued.secret_key)
    with pytest.raises(keys.AuthenticationError):
        cache.get(f"mzk_{issued.key_id}_not-the-secret")
    with pytest.raises(keys.AuthenticationError):
        cache.get("not a key")


def test_revoking_drops_the_key_from_every_cache_of_the_process(uow):
    issued = keys.create_key(uow, "operator")
    caches = [keys.KeyCache(ttl_s=60), keys.KeyCache(ttl_s=60)]
    for cache in caches:
        cache.verify(uow, issued.secret_key)
    keys.revoke_key(uow, issued.key_id, keys.SYSTEM)
    for cache in caches:
        assert cache.get(issued.secret_key) is None
        with pytest.raises(keys.AuthenticationError):
            cache.verify(uow, issued.secret_key)


def test_a_lookup_that_raced_a_revocation_is_not_kept(uow):
    issued = keys.create_key(uow, "operator")
    cache = keys.KeyCache(ttl_s=60)

    def revoke_meanwhile() -> None:
        # The row was read as active; the revocation commits before the lookup finishes.
        uow.keys.during_lookup = None
        uow.keys.rows[issued.key_id].revoked_at = datetime.now(UTC)
        keys.KeyCache.forget_everywhere(issued.key_id)

    uow.keys.during_lookup = revoke_meanwhile
    cache.verify(uow, issued.secret_key)  # accepted: it was valid when read
    assert cache.get(issued.secret_key) is None
    with pytest.raises(keys.AuthenticationError):
        cache.verify(uow, issued.secret_key)


def test_ttl_zero_keeps_nothing(uow):
    issued = keys.create_key(uow, "treasury")
    cache = keys.KeyCache(ttl_s=0)
    cache.verify(uow, issued.secret_key)
    assert cache.get(issued.secret_key) is None
