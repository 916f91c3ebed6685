"""Rounds, sealed bids, clearing, awards and published results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response

from api.actor import NotFound
from api.http.deps import AnyRole, BidReader, Finance, Operator, Page, Producer, UowDep
from api.http.schemas import (
    AwardPublic,
    AwardRequest,
    BidCreate,
    BidExclusion,
    BidList,
    BidPublic,
    BidReceipt,
    ClearRequest,
    ExcludedBid,
    RoundAnalysisPublic,
    RoundList,
    RoundPublic,
    RoundResults,
)
from api.limits import ID_PATTERN, MAX_ID_LENGTH
from api.services import rounds

router = APIRouter(prefix="/api/rounds", tags=["rounds"])
RoundId = Annotated[str, Path(max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
BidId = Annotated[str, Path(max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
RoundSpecBody = Annotated[
    dict[str, Any], Body(description="The round definition (round.toml as JSON)")
]


@router.post("", status_code=201, response_model=RoundPublic)
def create_round(uow: UowDep, actor: Operator, spec: RoundSpecBody) -> Any:
    return rounds.create_round(uow, actor, spec)


@router.get("", response_model=RoundList)
def list_rounds(uow: UowDep, actor: AnyRole, page: Page) -> Any:
    items = uow.rounds.list(limit=page.limit, offset=page.offset)
    return {"count": len(items), "items": items}


@router.get("/{round_id}", response_model=RoundPublic)
def get_round(round_id: RoundId, uow: UowDep, actor: AnyRole) -> Any:
    return rounds.get_round(uow, round_id)


@router.post("/{round_id}/open", response_model=RoundPublic)
def open_round(round_id: RoundId, uow: UowDep, actor: Operator) -> Any:
    return rounds.open_round(uow, actor, round_id)


@router.post("/{round_id}/close", response_model=RoundPublic)
def close_round(round_id: RoundId, uow: UowDep, actor: Operator) -> Any:
    return rounds.close_round(uow, actor, round_id)


@router.post("/{round_id}/clear", response_model=RoundPublic)
def clear_round(
    round_id: RoundId, uow: UowDep, actor: Operator, request: ClearRequest | None = None
) -> Any:
    return rounds.clear_round(uow, actor, round_id, rule=request.rule if request else None)


@router.post("/{round_id}/award", response_model=RoundResults)
def award_round(round_id: RoundId, request: AwardRequest, uow: UowDep, actor: Operator) -> Any:
    rounds.award_round(uow, actor, round_id, rounds.ContractTerms(**request.model_dump()))
    return _results(uow, round_id)


@router.post("/{round_id}/bids", status_code=201, response_model=BidReceipt)
def submit_bid(round_id: RoundId, bid: BidCreate, uow: UowDep, actor: Producer) -> Any:
    return rounds.submit_bid(uow, actor, round_id, bid.model_dump())


@router.delete("/{round_id}/bids/{bid_id}", status_code=204)
def withdraw_bid(round_id: RoundId, bid_id: BidId, uow: UowDep, actor: Producer) -> Response:
    """Take back one of your bids while the round is open (resubmitting its id replaces it)."""
    rounds.withdraw_bid(uow, actor, round_id, bid_id)
    return Response(status_code=204)


@router.post("/{round_id}/exclusions", response_model=ExcludedBid)
def exclude_bid(round_id: RoundId, request: BidExclusion, uow: UowDep, actor: Operator) -> Any:
    """Leave a closed round's bid out of the clearing, with the reason recorded (audit log,
    published results): the way out of a round that cannot clear."""
    return rounds.exclude_bid(uow, actor, round_id, request.bidder, request.bid_id, request.reason)


@router.get("/{round_id}/bids", response_model=BidList)
def list_bids(round_id: RoundId, uow: UowDep, actor: BidReader, page: Page) -> Any:
    items = [
        BidPublic(
            bid_id=b.bid_id,
            bidder=b.bidder,
            receipt=b.receipt,
            submitted_at=b.submitted_at,
            payload=b.payload,
            canonical_bid=rounds.stored_canonical_bid(round_id, b.payload),
            excluded_reason=b.excluded_reason,
        )
        for b in rounds.list_bids(uow, actor, round_id, limit=page.limit, offset=page.offset)
    ]
    return {"count": len(items), "items": items}


@router.get("/{round_id}/results", response_model=RoundResults)
def results(round_id: RoundId, uow: UowDep, actor: AnyRole) -> Any:
    return _results(uow, round_id)


@router.get("/{round_id}/analysis", response_model=RoundAnalysisPublic)
def analysis(round_id: RoundId, uow: UowDep, actor: Finance) -> Any:
    """The optimiser against every merit-order rule and the budget curve, as stored at clearing."""
    rounds.get_round(uow, round_id)  # an unknown round is 404 like every round route
    stored = rounds.stored_analysis(uow, round_id)
    if stored is None:
        raise NotFound(f"round {round_id} has no stored analysis (not cleared yet)")
    return stored


def _results(uow: Any, round_id: str) -> dict[str, Any]:
    published = rounds.published(uow, round_id)
    row, awards = published.round, published.awards
    return {
        "round_id": row.round_id,
        "status": row.status,
        "clearing": row.clearing,
        "count": len(awards),
        "awards": [AwardPublic.model_validate(a) for a in awards],
        "excluded": [ExcludedBid.model_validate(b) for b in published.excluded],
        "audit_head": published.audit_head,
    }
