"""A bounded, thread-safe cache of rendered statements. Posted statements are never edited
(corrections are new statements), so a rendering never goes stale."""

from __future__ import annotations

import threading
from collections import OrderedDict


class StatementCache:
    def __init__(self, max_entries: int = 4096):
        self.max_entries = max_entries
        self._items: OrderedDict[int, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, statement_id: int) -> tuple[str, bytes] | None:
        """(producer, JSON body) of a rendered statement, if cached."""
        with self._lock:
            item = self._items.get(statement_id)
            if item is not None:
                self._items.move_to_end(statement_id)
            return item

    def put(self, statement_id: int, producer: str, body: bytes) -> None:
        with self._lock:
            self._items[statement_id] = (producer, body)
            self._items.move_to_end(statement_id)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
