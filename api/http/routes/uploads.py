"""Bulk CSV uploads of prices and meter data, streamed to a spool file, then loaded in one
transaction. A repeat is a no-op when it reuses an `Idempotency-Key` or repeats the target's
latest upload."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from functools import partial
from typing import IO, Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from api.http.deps import Finance, Operator, Page, SettingsDep, UowDep
from api.http.schemas import PriceSeriesList, UploadList, UploadPublic
from api.limits import NAME_PATTERN, SERIES_PATTERN
from api.services import uploads
from mzekari.errors import InputError, Problem

router = APIRouter(prefix="/api", tags=["uploads"])

CSV_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
}
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, pattern=NAME_PATTERN)
]
SPOOL_MEMORY_BYTES = 16 << 20


async def _spool(request: Request) -> tuple[IO[bytes], str]:
    """The body to a spooled temporary file (memory up to 16 MB, then disk) and its SHA-256.
    A NUL byte is refused here: no text column of either database can hold one."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115 (caller closes)
    digest = hashlib.sha256()
    async for block in request.stream():
        if b"\x00" in block:
            spool.close()
            raise InputError(Problem("body", None, None, "the file contains a NUL byte"))
        digest.update(block)
        spool.write(block)
    spool.seek(0)
    return spool, digest.hexdigest()


async def _load(
    request: Request, use_case: Callable[[IO[bytes], str], uploads.UploadOutcome]
) -> UploadPublic:
    """Spool the body, then run the upload use case on it (body, SHA-256) in a worker thread."""
    body, sha256 = await _spool(request)
    with body:
        outcome = await run_in_threadpool(use_case, body, sha256)
    return _public(outcome)


def _public(outcome: uploads.UploadOutcome) -> UploadPublic:
    return UploadPublic.model_validate(outcome.upload).model_copy(
        update={"replayed": outcome.replayed}
    )


@router.post(
    "/meter-data",
    status_code=201,
    response_model=UploadPublic,
    openapi_extra=CSV_BODY,
    description="CSV with columns timestamp (with UTC offset), contract_id, energy_kwh.",
)
async def upload_meter_data(
    request: Request,
    uow: UowDep,
    actor: Operator,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return await _load(
        request,
        partial(
            uploads.upload_meters,
            uow,
            actor,
            idempotency_key=idempotency_key,
            chunk_rows=settings.upload_chunk_rows,
        ),
    )


@router.post(
    "/prices/{series}",
    status_code=201,
    response_model=UploadPublic,
    openapi_extra=CSV_BODY,
    description="CSV `timestamp,price` (hourly or quarter-hourly) or `month,price`.",
)
async def upload_prices(
    series: Annotated[str, Path(pattern=SERIES_PATTERN)],
    request: Request,
    uow: UowDep,
    actor: Operator,
    currency: Annotated[str, Query(pattern=r"^[A-Z]{3}$")] = "GEL",
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return await _load(
        request,
        partial(
            uploads.upload_prices, uow, actor, series, currency, idempotency_key=idempotency_key
        ),
    )


@router.post(
    "/fx-rates",
    status_code=201,
    response_model=UploadPublic,
    openapi_extra=CSV_BODY,
    description="CSV `date,pair,rate`, official rates such as 2021-06-30,USD/GEL,3.1.",
)
async def upload_fx_rates(
    request: Request, uow: UowDep, actor: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    return await _load(
        request, partial(uploads.upload_fx_rates, uow, actor, idempotency_key=idempotency_key)
    )


@router.post(
    "/cpi",
    status_code=201,
    response_model=UploadPublic,
    openapi_extra=CSV_BODY,
    description="CSV `month,cpi`, the consumer price index such as 2025-04,112.3.",
)
async def upload_cpi(
    request: Request, uow: UowDep, actor: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    return await _load(
        request, partial(uploads.upload_cpi, uow, actor, idempotency_key=idempotency_key)
    )


@router.post(
    "/profiles/{name}",
    status_code=201,
    response_model=UploadPublic,
    openapi_extra=CSV_BODY,
    description="CSV `timestamp,<generation>`: a technology's output, replacing the profile "
    "`name`; contracts whose `weighting` is `name` weight their reference price by it.",
)
async def upload_profile(
    request: Request,
    uow: UowDep,
    actor: Operator,
    name: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,50}$")],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return await _load(
        request, partial(uploads.upload_profile, uow, actor, name, idempotency_key=idempotency_key)
    )


@router.get("/prices", response_model=PriceSeriesList)
def list_price_series(uow: UowDep, actor: Finance, page: Page) -> Any:
    items = uow.uploads.all_series(limit=page.limit, offset=page.offset)
    return {"count": len(items), "items": items}


@router.get("/uploads", response_model=UploadList)
def list_uploads(uow: UowDep, actor: Operator, page: Page) -> Any:
    items = uow.uploads.list(limit=page.limit, offset=page.offset)
    return {"count": len(items), "items": items}
