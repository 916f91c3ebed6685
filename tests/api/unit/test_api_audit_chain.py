"""The audit chain with an in-memory fake log: each hash covers the entry and its
predecessor, so editing or removing any entry is detected at that entry."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC

import pytest

from api.actor import Actor
from api.db.models import AuditEntry
from api.services import audit


class FakeAuditRepository:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def last(self) -> AuditEntry | None:
        return self.entries[-1] if self.entries else None

    def add(self, entry: AuditEntry) -> None:
        entry.id = len(self.entries) + 1
        self.entries.append(entry)


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.audit = FakeAuditRepository()
        self.locks: list[str] = []

    def lock(self, name: str) -> None:
        self.locks.append(name)


def _chain(n: int = 4) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    for i in range(n):
        audit.record(uow, Actor(f"key{i}", "operator"), "round.open", f"round/R{i}", {"i": i})
    return uow


def _copy(entry: AuditEntry, **changes: object) -> AuditEntry:
    fields = {
        c: getattr(entry, c)
        for c in (
            "id",
            "at",
            "actor_key_id",
            "actor_role",
            "action",
            "entity",
            "details",
            "prev_hash",
            "hash",
        )
    }
    return AuditEntry(**{**fields, **changes})


def test_hash_is_sha256_of_previous_hash_and_the_entry():
    uow = _chain(2)
    first, second = uow.audit.entries
    assert first.prev_hash == "0" * 64 and second.prev_hash == first.hash
    body = json.dumps(
        {
            "action": "round.open",
            "actor_key_id": "key1",
            "actor_role": "operator",
            "at": second.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "details": '{"i":1}',
            "entity": "round/R1",
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    assert second.hash == hashlib.sha256((first.hash + body).encode()).hexdigest()
    assert uow.locks == ["audit_log", "audit_log"]


def test_intact_chain_verifies():
    check = audit.verify(_chain().audit.entries)
    assert check.valid and check.entries == 4 and check.first_bad_id is None


@pytest.mark.parametrize(
    "field,value", [("details", '{"i":99}'), ("actor_role", "admin"), ("action", "round.close")]
)
def test_edited_entry_is_found(field, value):
    entries = _chain().audit.entries
    entries[2] = _copy(entries[2], **{field: value})
    check = audit.verify(entries)
    assert not check.valid and check.first_bad_id == 3


def test_removed_entry_is_found():
    entries = _chain().audit.entries
    del entries[1]
    check = audit.verify(entries)
    assert not check.valid and check.first_bad_id == 3


def test_rehashing_an_edit_still_breaks_the_next_link():
    entries = _chain().audit.entries
    forged = _copy(entries[1], details='{"i":42}')
    forged.hash = audit.entry_hash(
        forged.prev_hash,
        forged.at,
        forged.actor_key_id,
        forged.actor_role,
        forged.action,
        forged.entity,
        forged.details,
    )
    entries[1] = forged
    check = audit.verify(entries)
    assert not check.valid and check.first_bad_id == 3


def _signed_chain(key: bytes, n: int = 3) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.audit_key = key
    for i in range(n):
        audit.record(uow, Actor(f"key{i}", "operator"), "round.open", f"round/R{i}", {"i": i})
    return uow


def test_signatures_are_hmac_sha256_of_each_hash_under_the_key():
    key = b"k" * 32
    entries = _signed_chain(key).audit.entries
    for entry in entries:
        assert entry.signature == hmac.new(key, entry.hash.encode(), hashlib.sha256).hexdigest()
    check = audit.verify(entries, key=key)
    assert check.valid and check.signatures_checked
    assert not audit.verify(entries, key=b"x" * 32).valid  # another key: entry 1 fails
    unsigned = _chain(2).audit.entries
    check = audit.verify(unsigned, key=key)
    assert not check.valid and check.first_bad_id == 1
    assert "not checked" in audit.verify(unsigned).message  # says it could not check


def test_a_head_no_longer_in_the_log_fails_verification():
    entries = _chain(4).audit.entries
    head = audit.Head(entries[-1].id, entries[-1].hash)
    assert audit.verify(entries, head=head).valid
    assert audit.verify(entries[:-1]).valid  # truncated: still a consistent chain ...
    check = audit.verify(entries[:-1], head=head)  # ... but not the one handed out
    assert not check.valid and check.first_bad_id == head.id


def test_a_run_without_an_amounts_hash_is_reported_not_silently_passed():
    uow = FakeUnitOfWork()
    audit.record(uow, Actor("k", "operator"), "settlement.run", "settlement/1", {"month": "x"})
    audit.record(
        uow, Actor("k", "operator"), "settlement.run", "settlement/2", {"amounts_sha256": "a"}
    )
    same = audit.Recompute("settlement.run", "amounts_sha256", lambda e: "a", "amounts")
    check = audit.verify(uow.audit.entries, recompute=[same])
    assert check.valid and check.hashes_recomputed == 1
    assert "1 older entr(ies) recorded no hash of their amounts" in check.message
    other = audit.Recompute("settlement.run", "amounts_sha256", lambda e: "b", "amounts")
    changed = audit.verify(uow.audit.entries, recompute=[other])
    assert not changed.valid and changed.first_bad_id == 2
