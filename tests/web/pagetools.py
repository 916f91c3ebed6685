"""Helpers of the page tests: a small HTML table reader, number parsing, signing in."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any


class Tables(HTMLParser):
    """Cell texts of every table by id, plus counts of the structure the pages promise."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.classes: dict[str, list[list[str]]] = {}
        self.captions = 0
        self.table_count = 0
        self.th_without_scope = 0
        self.mains = 0
        self.first_link: str | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._cell_class = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and self.first_link is None:
            self.first_link = a.get("href")
        if tag == "main":
            self.mains += 1
        if tag == "table":
            self.table_count += 1
            self._table = a.get("id") or f"table-{self.table_count}"
            self.tables[self._table], self.classes[self._table] = [], []
        if tag == "caption":
            self.captions += 1
        if tag == "tr" and self._table:
            self.tables[self._table].append([])
            self.classes[self._table].append([])
        if tag in ("td", "th") and self._table:
            if tag == "th" and "scope" not in a and "colspan" not in a:
                self.th_without_scope += 1
            self._cell, self._cell_class = [], a.get("class") or ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self.classes[self._table][-1].append(self._cell_class)
            self._cell = None
        if tag == "table":
            self._table = None


def parse(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


def number(text: str) -> Decimal:
    """`−2,730.00 GEL` → Decimal('-2730.00')."""
    match = re.search(r"[−-]?[\d,]+(\.\d+)?", text)
    assert match, text
    return Decimal(match.group(0).replace(",", "").replace("−", "-"))


def sign_in(client: Any, key: str, next_path: str = "/web/") -> Any:
    token = client.get("/web/sign-in").cookies.get("mzk_csrf") or client.cookies.get("mzk_csrf")
    return client.post(
        "/web/sign-in",
        data={"api_key": key, "csrf_token": token, "next": next_path},
        follow_redirects=False,
    )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def axe_violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    """axe-core's violations on the page as loaded (axe.min.js from axe-playwright-python)."""
    from pathlib import Path

    import axe_playwright_python

    source = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    page.evaluate(source + "\n;true")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5]) for v in result["violations"]
    ]


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0 = no sideways scrolling)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )
