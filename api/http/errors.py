"""The one place domain errors become HTTP responses:
`{"type": …, "detail": …, "problems": [{"source", "row", "field", "message"}]}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.services.keys import AuthenticationError
from mzekari.errors import InputError, MzekariError

STATUS = {
    "invalid_input": 422,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "unsafe_settings": 500,
}


def body(kind: str, detail: str, problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": kind, "detail": detail, "problems": problems or []}


def _shown(part: str) -> str:
    return part if len(part) <= 40 else part[:40] + "…"


def install(app: FastAPI) -> None:
    @app.exception_handler(MzekariError)
    async def domain_error(_: Request, exc: MzekariError) -> JSONResponse:
        problems = [p.as_dict() for p in exc.problems] if isinstance(exc, InputError) else []
        detail = str(exc).splitlines()[0] if problems else str(exc)
        return JSONResponse(body(exc.kind, detail, problems), status_code=STATUS.get(exc.kind, 400))

    @app.exception_handler(AuthenticationError)
    async def unauthenticated(_: Request, exc: AuthenticationError) -> JSONResponse:
        return JSONResponse(
            body("unauthenticated", str(exc)),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            # Parts cut short: a location may hold a request's own (long) dictionary key.
            location = [_shown(str(part)) for part in error.get("loc", ())]
            problems.append(
                {
                    "source": location[0] if location else "request",
                    "row": None,
                    "field": ".".join(location[1:]) or None,
                    "message": str(error.get("msg", "invalid")),
                }
            )
        return JSONResponse(
            body("invalid_input", f"{len(problems)} problem(s) in the request", problems),
            status_code=422,
        )
