"""What every request passes before routing and authentication (pure ASGI, so nothing is
parsed first): a bounded body, no NUL in the path, the query or a JSON or form body (no text
column of PostgreSQL can hold one), and the response headers that keep browsers from
sniffing, framing or caching what the API returns."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mzekari.errors import MzekariError

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)
NO_STORE = (b"cache-control", b"no-store")
JSON_NUL = re.compile(rb"\\u0000", re.IGNORECASE)


class BodyTooLarge(MzekariError):
    """A streamed body grew past the limit (HTTP 413, by the one error handler)."""

    kind = "too_large"


def _error_message(status: int, kind: str, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"type": kind, "detail": detail, "problems": []}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


# Routes whose body is a CSV file, streamed and bounded by the route itself.
UPLOAD_PATHS = ("/api/meter-data", "/api/prices/", "/api/fx-rates", "/api/guarantees/import")


class RequestGuard:
    def __init__(self, app: ASGIApp, max_json_bytes: int, max_upload_bytes: int):
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in SECURITY_HEADERS if h[0] not in present]
                if api and NO_STORE[0] not in present:
                    extra.append(NO_STORE)
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        async def refuse(status: int, kind: str, detail: str) -> None:
            for message in _error_message(status, kind, detail):
                await send_with_headers(message)

        query: bytes = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query.lower() or b"\x00" in query:
            await refuse(422, "invalid_input", "NUL byte in the path or query")
            return
        headers = {name.lower(): value for name, value in scope["headers"]}
        media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        # Files (CSV uploads, multipart forms) stream through, counted; anything else is small
        # and read here whole, so a NUL in it is refused before any parsing.
        streamed = media == b"multipart/form-data" or (
            scope["method"] == "POST" and scope["path"].startswith(UPLOAD_PATHS)
        )
        limit = self.max_upload_bytes if streamed else self.max_json_bytes
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await refuse(413, "too_large", f"the request body exceeds {limit} bytes")
            return
        if streamed:
            await self.app(scope, _counted(receive, limit), send_with_headers)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await refuse(413, "too_large", f"the request body exceeds {limit} bytes")
                return
        form = media == b"application/x-www-form-urlencoded"
        if b"\x00" in body or JSON_NUL.search(body) or (form and b"%00" in body):
            await refuse(422, "invalid_input", "the body contains a NUL character")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)


def _counted(receive: Receive, limit: int) -> Receive:
    """A CSV body is counted as it streams to the spool, never held in memory here."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(f"the request body exceeds {limit} bytes")
        return message

    return counted
