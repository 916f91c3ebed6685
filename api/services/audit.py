"""The append-only audit log: who did what, when, chained by hashes so that any edit or
deletion of an earlier entry breaks verification from that entry on.

Three anchors hold against whoever controls the database itself:
- every entry's hash is signed (HMAC-SHA256) with a key kept outside the database, so an
  entry rewritten with its chain recomputed fails its signature;
- the newest entry (the head) is handed out with published results and statements; a head
  kept by anyone proves a later truncation or rewrite (`verify(..., head=...)`);
- an entry may hold the hash of the rows it wrote (a settlement run: every amount it posted;
  an award: every contract's terms), recomputed from the tables on verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from api.actor import Actor
from api.canonical import canonical_json, sha256_hex
from api.db.models import AuditEntry

GENESIS_HASH = "0" * 64


class AuditLog(Protocol):
    """What `record` needs from a unit of work (a fake in unit tests)."""

    audit: Any

    def lock(self, name: str) -> None: ...


def sign(key: bytes, entry_hash: str) -> str:
    return hmac.new(key, entry_hash.encode(), hashlib.sha256).hexdigest()


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor_key_id: str,
    actor_role: str,
    action: str,
    entity: str,
    details: str,
) -> str:
    body = canonical_json(
        {
            "at": at,
            "actor_key_id": actor_key_id,
            "actor_role": actor_role,
            "action": action,
            "entity": entity,
            "details": details,
        }
    )
    return sha256_hex(prev_hash + body)


def record(
    uow: AuditLog, actor: Actor, action: str, entity: str, details: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or vanishes with the change)."""
    uow.lock("audit_log")  # one writer at a time extends the chain
    last = uow.audit.last()
    prev_hash = last.hash if last is not None else GENESIS_HASH
    # Microsecond precision survives both databases, so the hash can be recomputed.
    at = datetime.now(UTC)
    details_json = canonical_json(details or {})
    entry = AuditEntry(
        at=at,
        actor_key_id=actor.key_id,
        actor_role=actor.role,
        action=action,
        entity=entity,
        details=details_json,
        prev_hash=prev_hash,
        hash=entry_hash(prev_hash, at, actor.key_id, actor.role, action, entity, details_json),
    )
    key = getattr(uow, "audit_key", None)
    entry.signature = None if key is None else sign(key, entry.hash)
    uow.audit.add(entry)
    return entry


@dataclass(frozen=True)
class ChainCheck:
    valid: bool
    entries: int
    first_bad_id: int | None
    message: str
    signatures_checked: bool = False
    hashes_recomputed: int = 0


@dataclass(frozen=True)
class Head:
    id: int
    hash: str


@dataclass(frozen=True)
class Recompute:
    """`details[field]` of every `action` entry, recomputed from the tables by `compute`."""

    action: str
    field: str
    compute: Callable[[AuditEntry], str]
    what: str  # for people: "settlement run amounts"


def head(uow: AuditLog) -> Head | None:
    """The newest entry: who keeps it can later prove the log was not cut back."""
    last = uow.audit.last()
    return None if last is None else Head(last.id, last.hash)


def verify(
    entries: list[AuditEntry],
    key: bytes | None = None,
    head: Head | None = None,
    recompute: Sequence[Recompute] = (),
) -> ChainCheck:
    """Recompute every hash in id order; with `key`, check every signature; with `head`,
    check the log still holds that entry unchanged; with `recompute`, check the rows each
    entry hashed still hash the same. The first mismatch names the entry at fault."""
    prev_hash = GENESIS_HASH
    n = len(entries)
    checks = {r.action: r for r in recompute}
    recomputed = 0
    unhashed: dict[str, int] = {}

    def bad(entry_id: int | None, message: str) -> ChainCheck:
        return ChainCheck(False, n, entry_id, message, key is not None, recomputed)

    for entry in entries:
        expected = entry_hash(
            prev_hash,
            entry.at,
            entry.actor_key_id,
            entry.actor_role,
            entry.action,
            entry.entity,
            entry.details,
        )
        if entry.prev_hash != prev_hash:
            return bad(entry.id, f"entry {entry.id} does not follow its predecessor")
        if entry.hash != expected:
            return bad(entry.id, f"entry {entry.id} was altered: its hash does not match")
        if key is not None and not hmac.compare_digest(
            entry.signature or "", sign(key, entry.hash)
        ):
            return bad(entry.id, f"entry {entry.id} is not signed with the audit key")
        check = checks.get(entry.action)
        if check is not None:
            recorded = json.loads(entry.details).get(check.field)
            if recorded is None:  # written before such hashes were recorded: said below
                unhashed[check.what] = unhashed.get(check.what, 0) + 1
            elif check.compute(entry) != recorded:
                return bad(entry.id, f"entry {entry.id}: the {check.what} were changed since")
            else:
                recomputed += 1
        prev_hash = entry.hash
    if head is not None:
        held = next((e for e in entries if e.id == head.id), None)
        if held is None or held.hash != head.hash:
            return bad(
                head.id,
                f"the log no longer holds entry {head.id} with the hash you were given: "
                "it was cut back or rewritten",
            )
    message = f"{n} entries, chain intact"
    message += (
        "; every signature checked"
        if key is not None
        else "; signatures not checked (MZEKARI_AUDIT_KEY is not set)"
    )
    if recompute:
        message += f"; {recomputed} recorded hash(es) of stored rows recomputed"
    for what, count in sorted(unhashed.items()):
        message += f"; {count} older entr(ies) recorded no hash of their {what}: not checked"
    if head is not None:
        message += f"; holds the given head {head.id}"
    return ChainCheck(True, n, None, message, key is not None, recomputed)
