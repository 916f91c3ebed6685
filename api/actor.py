"""Who is acting: the authenticated API key, its role and (for producers) its producer."""

from __future__ import annotations

from dataclasses import dataclass

from mzekari.errors import MzekariError


class NotAllowed(MzekariError):
    """The actor's role may not do this (HTTP 403)."""

    kind = "forbidden"


class NotFound(MzekariError):
    """No such resource, or not one this actor may see (HTTP 404): a producer cannot tell
    another producer's resource from a missing one."""

    kind = "not_found"


class Conflict(MzekariError):
    """The request clashes with the current state (HTTP 409), e.g. bidding on a closed round."""

    kind = "conflict"


@dataclass(frozen=True)
class Actor:
    key_id: str
    role: str
    producer: str | None = None

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise NotAllowed(f"role {self.role!r} may not do this; needs one of {sorted(roles)}")

    def may_see_producer(self, producer: str) -> bool:
        return self.role != "producer" or self.producer == producer


SYSTEM = Actor(key_id="system", role="admin")
