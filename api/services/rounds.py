"""Round lifecycle draft → open → closed → cleared → awarded, sealed bids and awards.

Bids are sealed: no function here returns a bid's content while its round is open, to any
role. Every submission gets a receipt, the SHA-256 of the bid's canonical JSON, which the
published results list so a bidder can check its bid was the one cleared.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from api.actor import Actor, Conflict, NotFound
from api.canonical import canonical_json, sha256_hex
from api.db import models as m
from api.services import audit, round_analysis, securities, standstill
from api.services import contracts as lifecycle
from api.uow import UnitOfWork
from mzekari.errors import InputError, Problem
from mzekari.vocabulary import DEFAULT_FX_RULE, award_contract_id

BID_FIELDS = (
    "bid_id",
    "bidder",
    "technology",
    "capacity_mw",
    "annual_mwh",
    "price",
    "innovative",
    "grid_node",
    "alternative_group",
    "min_capacity_mw",
)
NEXT_STATE = {"open": "draft", "close": "open", "clear": "closed", "award": "cleared"}


@dataclass(frozen=True)
class Receipt:
    round_id: str
    bid_id: str
    bidder: str
    receipt: str
    canonical_bid: str
    submitted_at: datetime


@dataclass(frozen=True)
class ContractTerms:
    """How awarded bids become two-way CfD contracts (the round itself does not say)."""

    start: date
    years: int
    payment_currency: str
    reference_series: str
    reference_basis: str = "monthly_baseload"
    fallback_series: str | None = None
    fx_rule: str = DEFAULT_FX_RULE
    # Privileged-producer terms (api.services.contracts.plan_terms); `projects` overrides
    # start, years and dates per accepted bid id.
    term_from: str = "start"
    commissioning_deadline: date | None = None
    milestone_date: date | None = None
    longstop_date: date | None = None
    granted_on: date | None = None
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def get_round(uow: UnitOfWork, round_id: str, *, for_update: bool = False) -> m.Round:
    row = uow.rounds.get(round_id, for_update=for_update)
    if row is None:
        raise NotFound(f"no round {round_id!r}")
    return row


def create_round(uow: UnitOfWork, actor: Actor, spec: dict[str, Any]) -> m.Round:
    from auction import parse_round

    actor.require("operator", "admin")
    parsed = parse_round(spec, source="round")
    if uow.rounds.get(parsed.round_id) is not None:
        raise Conflict(f"round {parsed.round_id!r} already exists")
    row = m.Round(
        round_id=parsed.round_id,
        name=parsed.name,
        currency=parsed.currency,
        status="draft",
        spec=parsed.model_dump(mode="json"),
        clearing=None,
        created_at=_now(),
    )
    uow.rounds.add(row)
    audit.record(
        uow,
        actor,
        "round.create",
        f"round/{row.round_id}",
        {"spec_sha256": sha256_hex(canonical_json(row.spec))},
    )
    uow.commit()
    return row


def _advance(uow: UnitOfWork, actor: Actor, round_id: str, action: str) -> m.Round:
    actor.require("operator", "admin")
    row = get_round(uow, round_id, for_update=True)
    if row.status != NEXT_STATE[action]:
        raise Conflict(
            f"cannot {action} round {round_id!r}: it is {row.status}, not {NEXT_STATE[action]}"
        )
    return row


def open_round(uow: UnitOfWork, actor: Actor, round_id: str) -> m.Round:
    row = _advance(uow, actor, round_id, "open")
    row.status, row.opened_at = "open", _now()
    uow.session.flush()
    audit.record(uow, actor, "round.open", f"round/{round_id}", {})
    uow.commit()
    return row


def close_round(uow: UnitOfWork, actor: Actor, round_id: str) -> m.Round:
    row = _advance(uow, actor, round_id, "close")
    row.status, row.closed_at = "closed", _now()
    uow.session.flush()
    bids = uow.bids.for_round(round_id)
    audit.record(
        uow,
        actor,
        "round.close",
        f"round/{round_id}",
        {
            "bids": len(bids),
            "receipts_sha256": sha256_hex(canonical_json(sorted(b.receipt for b in bids))),
        },
    )
    uow.commit()
    return row


def canonical_bid(round_id: str, bid: dict[str, Any]) -> str:
    return canonical_json({"round_id": round_id, **{k: bid.get(k) for k in BID_FIELDS}})


def validate_bid(spec: dict[str, Any], fields: dict[str, Any], source: str) -> Any:
    """One bid through the auction engine's own CSV validator (same rules, same messages)."""
    from auction import parse_round, read_bids_text

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(BID_FIELDS))
    writer.writeheader()
    writer.writerow(
        {
            k: ""
            if fields.get(k) is None
            else str(fields[k]).lower()
            if isinstance(fields.get(k), bool)
            else str(fields[k])
            for k in BID_FIELDS
        }
    )
    (bid,) = read_bids_text(
        buffer.getvalue(), source=source, round_spec=parse_round(spec, source="round")
    )
    return bid


def bid_payload(bid: Any) -> dict[str, Any]:
    return {k: getattr(bid, k) for k in BID_FIELDS}


def submit_bid(uow: UnitOfWork, actor: Actor, round_id: str, fields: dict[str, Any]) -> Receipt:
    """A producer bids for itself inside the open window; resubmitting a bid_id replaces it."""
    actor.require("producer")
    assert actor.producer is not None
    row = get_round(uow, round_id, for_update=True)
    if row.status != "open":
        raise Conflict(f"round {round_id!r} is {row.status}: bids are accepted only while open")
    bid = validate_bid(row.spec, {**fields, "bidder": actor.producer}, source="bid")
    payload = bid_payload(bid)
    canonical = canonical_bid(round_id, payload)
    receipt = sha256_hex(canonical)
    existing = uow.bids.get(round_id, bid.bid_id)
    if existing is not None:
        if existing.bidder != actor.producer:
            raise Conflict(f"bid id {bid.bid_id!r} is taken in this round; choose another")
        uow.bids.delete(existing)
    stored = m.Bid(
        round_id=round_id,
        bid_id=bid.bid_id,
        bidder=actor.producer,
        payload=_jsonable(payload),
        receipt=receipt,
        submitted_at=_now(),
        submitted_by=actor.key_id,
    )
    uow.bids.add(stored)
    # Only the receipt is logged: the audit log is readable while the round is open.
    audit.record(
        uow,
        actor,
        "bid.submit",
        f"round/{round_id}/bid",
        {"receipt": receipt, "replaced": existing is not None},
    )
    uow.commit()
    return Receipt(round_id, bid.bid_id, actor.producer, receipt, canonical, stored.submitted_at)


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in payload.items()}


def list_bids(uow: UnitOfWork, actor: Actor, round_id: str) -> Sequence[m.Bid]:
    """After close: operators and admins see every bid, a producer its own; nobody before."""
    actor.require("operator", "admin", "producer")
    row = get_round(uow, round_id)
    if row.status in ("draft", "open"):
        raise Conflict(f"round {round_id!r} is {row.status}: bids are sealed until it closes")
    bidder = actor.producer if actor.role == "producer" else None
    return uow.bids.for_round(round_id, bidder=bidder)


def _domain_bid(payload: dict[str, Any]) -> Any:
    from auction.bids import Bid

    def dec(key: str) -> Decimal | None:
        value = payload.get(key)
        return None if value is None else Decimal(str(value))

    return Bid(
        bid_id=payload["bid_id"],
        bidder=payload["bidder"],
        technology=payload["technology"],
        capacity_mw=Decimal(payload["capacity_mw"]),
        annual_mwh=Decimal(payload["annual_mwh"]),
        price=Decimal(payload["price"]),
        innovative=bool(payload["innovative"]),
        grid_node=payload.get("grid_node"),
        alternative_group=payload.get("alternative_group"),
        min_capacity_mw=dec("min_capacity_mw"),
    )


def clear_round(uow: UnitOfWork, actor: Actor, round_id: str, rule: str | None = None) -> m.Round:
    """Clear a closed round and, in the same transaction, store its analysis (the optimiser
    against every merit-order rule, and the budget curve); the audit entry carries the
    analysis's hash. A cleared round cannot be cleared again."""
    from auction import clear, parse_round

    row = _advance(uow, actor, round_id, "clear")
    bids = uow.bids.for_round(round_id)
    if not bids:
        raise InputError(Problem("round", None, "bids", "no bids to clear"))
    receipts = {b.bid_id: b.receipt for b in bids}
    spec = parse_round(row.spec, source="round")
    domain = [_domain_bid(b.payload) for b in bids]
    result = clear(spec, domain, rule=rule)
    for award in result.awards:
        uow.session.add(
            m.Award(
                round_id=round_id,
                bid_id=award.bid_id,
                bidder=award.bidder,
                technology=award.technology,
                receipt=receipts[award.bid_id],
                accepted=award.accepted,
                awarded_capacity_mw=award.awarded_capacity_mw,
                awarded_annual_mwh=award.awarded_annual_mwh,
                price_paid=award.price_paid,
                budget_used=award.budget_used,
                reason=award.reason,
                explanation=award.explanation,
            )
        )
    row.status, row.cleared_at = "cleared", _now()
    row.clearing = _jsonable_deep(result.summary())
    stored = _store_analysis(uow, round_id, round_analysis.analyse(spec, domain, result))
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "round.clear",
        f"round/{round_id}",
        {
            "status": result.status,
            "accepted": sum(a.accepted for a in result.awards),
            "awards_sha256": sha256_hex(
                canonical_json([_jsonable(a.row()) for a in result.awards])
            ),
            "analysis_sha256": stored.sha256,
        },
    )
    uow.commit()
    return row


def _store_analysis(uow: UnitOfWork, round_id: str, analysis: dict[str, Any]) -> m.RoundAnalysis:
    stored = m.RoundAnalysis(
        round_id=round_id,
        analysis=analysis,
        sha256=round_analysis.analysis_sha256(analysis),
        computed_at=_now(),
    )
    uow.session.add(stored)
    return stored


def stored_analysis(uow: UnitOfWork, round_id: str) -> m.RoundAnalysis | None:
    """The analysis stored when the round was cleared (None for a round cleared before
    analyses were stored; `analyse_round` computes it)."""
    return uow.session.get(m.RoundAnalysis, round_id)


def analyse_round(uow: UnitOfWork, actor: Actor, round_id: str) -> m.RoundAnalysis:
    """For a round cleared without a stored analysis: re-clears it the way it was cleared
    (same rule) to compute one. Refused if the round already has its analysis."""
    from auction import clear, parse_round

    actor.require("operator", "admin")
    row = get_round(uow, round_id, for_update=True)
    if row.status not in ("cleared", "awarded"):
        raise Conflict(f"round {round_id!r} is {row.status}: it is analysed when cleared")
    if stored_analysis(uow, round_id) is not None:
        raise Conflict(f"round {round_id!r} already has its analysis")
    spec = parse_round(row.spec, source="round")
    domain = [_domain_bid(b.payload) for b in uow.bids.for_round(round_id)]
    method = (row.clearing or {}).get("rule", "optimiser")
    result = clear(spec, domain, None if method == "optimiser" else method)
    stored = _store_analysis(uow, round_id, round_analysis.analyse(spec, domain, result))
    uow.session.flush()
    audit.record(
        uow, actor, "round.analyse", f"round/{round_id}", {"analysis_sha256": stored.sha256}
    )
    uow.commit()
    return stored


def _jsonable_deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable_deep(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def award_round(
    uow: UnitOfWork, actor: Actor, round_id: str, terms: ContractTerms
) -> list[m.Contract]:
    """Each accepted award becomes a two-way CfD at its price paid (strike in the round's
    currency; paid in `terms.payment_currency`, converted under `terms.fx_rule`)."""
    row = _advance(uow, actor, round_id, "award")
    standstill.check_award_allowed(uow, row)
    winners = [a for a in uow.rounds.awards(round_id) if a.accepted and a.price_paid is not None]
    round_terms = {
        k: getattr(terms, k)
        for k in (
            "start",
            "years",
            "term_from",
            "commissioning_deadline",
            "milestone_date",
            "longstop_date",
        )
    }
    plans = lifecycle.plan_terms(round_terms, terms.projects, [a.bid_id for a in winners])
    contracts = []
    for award in winners:
        assert award.price_paid is not None
        rules: dict[str, Any] = {
            "reference_basis": terms.reference_basis,
            "reference_series": terms.reference_series,
        }
        if terms.fallback_series:
            rules["fallback_series"] = terms.fallback_series
        if row.currency != terms.payment_currency:
            rules["strike_currency"] = row.currency
            rules["fx_rule"] = terms.fx_rule
        contract = m.Contract(
            contract_id=award_contract_id(round_id, award.bid_id),
            round_id=round_id,
            bid_id=award.bid_id,
            producer=award.bidder,
            scheme="cfd",
            strike_price=award.price_paid,
            currency=terms.payment_currency,
            start_date=plans[award.bid_id].start,
            end_date=plans[award.bid_id].end,
            capacity_mw=award.awarded_capacity_mw,
            terms={
                **rules,
                "technology": award.technology,
                "annual_mwh": format(award.awarded_annual_mwh, "f"),
            },
            created_at=_now(),
        )
        contracts.append(contract)
    uow.contracts.add(*contracts)
    row.status, row.awarded_at = "awarded", _now()
    uow.session.flush()
    lifecycle.grant(uow, actor, contracts, plans, terms.granted_on or lifecycle.market_today())
    securities.on_award(uow, actor, round_id)
    audit.record(
        uow,
        actor,
        "round.award",
        f"round/{round_id}",
        {"contracts": [c.contract_id for c in contracts]},
    )
    uow.commit()
    return contracts


def results(uow: UnitOfWork, round_id: str) -> tuple[m.Round, Sequence[m.Award]]:
    """Published once cleared, to every role: awards with the receipts of the cleared bids."""
    row = get_round(uow, round_id)
    if row.status not in ("cleared", "awarded"):
        raise Conflict(f"round {round_id!r} is {row.status}: results are published once cleared")
    return row, uow.rounds.awards(round_id)
