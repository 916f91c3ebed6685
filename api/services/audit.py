"""The append-only audit log: who did what, when, chained by hashes so that any edit or
deletion of an earlier entry breaks verification from that entry on."""

from __future__ import annotations

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
    uow.audit.add(entry)
    return entry


@dataclass(frozen=True)
class ChainCheck:
    valid: bool
    entries: int
    first_bad_id: int | None
    message: str


def verify(entries: list[AuditEntry]) -> ChainCheck:
    """Recompute every hash in id order; the first mismatch names the entry at fault."""
    prev_hash = GENESIS_HASH
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
            return ChainCheck(
                False, len(entries), entry.id, f"entry {entry.id} does not follow its predecessor"
            )
        if entry.hash != expected:
            return ChainCheck(
                False,
                len(entries),
                entry.id,
                f"entry {entry.id} was altered: its hash does not match",
            )
        prev_hash = entry.hash
    return ChainCheck(True, len(entries), None, f"{len(entries)} entries, chain intact")
