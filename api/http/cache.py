"""A bounded, thread-safe cache of rendered statements, by statement id and format (json, csv).

Keying on the id alone is sound because a posted statement never changes: its row and lines
are only ever inserted, and a correction is an adjustment line on a new statement of a later
run (a new id). Authorization is not cached: every read checks the actor against the
statement's producer."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedStatement:
    producer: str
    body: bytes
    filename: str
    audit_head: str  # "<id>:<hash>" of the log's newest entry when rendered ("" if empty)


class StatementCache:
    def __init__(self, max_entries: int = 4096):
        self.max_entries = max_entries
        self._items: OrderedDict[tuple[int, str], RenderedStatement] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, statement_id: int, fmt: str) -> RenderedStatement | None:
        with self._lock:
            item = self._items.get((statement_id, fmt))
            if item is not None:
                self._items.move_to_end((statement_id, fmt))
            return item

    def put(self, statement_id: int, fmt: str, rendered: RenderedStatement) -> None:
        with self._lock:
            self._items[(statement_id, fmt)] = rendered
            self._items.move_to_end((statement_id, fmt))
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
