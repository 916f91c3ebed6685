"""Published results and the contract register: no key needed, JSON and CSV at stable URLs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Response
from fastapi.encoders import jsonable_encoder

from api.http.deps import UowDep
from api.services import contracts, public_results

router = APIRouter(prefix="/public", tags=["public"])
REGISTER_COLUMNS = (
    "contract_id",
    "round_id",
    "producer",
    "technology",
    "capacity_mw",
    "strike_price",
    "price_currency",
    "start_date",
    "end_date",
    "status",
    "status_since",
    "commissioning_deadline",
    "commissioned_on",
)


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _json(document: Any) -> Any:
    """Decimals as exact strings, never floats."""
    return jsonable_encoder(document, custom_encoder={Decimal: lambda v: format(v, "f")})


@router.get("/rounds")
def awarded_rounds(uow: UowDep) -> Any:
    items = public_results.awarded_rounds(uow)
    return _json({"count": len(items), "items": items})


@router.get("/rounds/{round_id}/results.json")
def results_json(round_id: str, uow: UowDep) -> Any:
    return _json(public_results.results(uow, round_id))


@router.get("/rounds/{round_id}/results.csv")
def results_csv(round_id: str, uow: UowDep) -> Response:
    """The winners, one row each."""
    document = public_results.results(uow, round_id)
    text = public_results.to_csv(document["winners"], public_results.WINNER_COLUMNS)
    return _csv(text, f"results-{round_id}.csv")


@router.get("/rounds/{round_id}/technologies.csv")
def technologies_csv(round_id: str, uow: UowDep) -> Response:
    """Per technology: bids and MW offered, MW and MWh awarded, lowest, highest and
    quantity-weighted price."""
    document = public_results.results(uow, round_id)
    rows = [{"technology": name, **t} for name, t in document["technologies"].items()]
    text = public_results.to_csv(rows, public_results.TECHNOLOGY_COLUMNS)
    return _csv(text, f"technologies-{round_id}.csv")


@router.get("/contracts.json")
def register_json(uow: UowDep) -> Any:
    items = contracts.register(uow)
    return _json({"count": len(items), "items": items})


@router.get("/contracts.csv")
def register_csv(uow: UowDep) -> Response:
    return _csv(public_results.to_csv(contracts.register(uow), REGISTER_COLUMNS), "contracts.csv")
