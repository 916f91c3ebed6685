"""Round lifecycle draft → open → closed → cleared → awarded, sealed bids and awards.

Bids are sealed: no function here returns a bid's content while its round is open, to any
role. Every submission gets a receipt, a commitment to the bid's canonical JSON: HMAC-SHA256
keyed with 32 random bytes (the salt) that go back to the bidder only and are never stored.
The published results list every receipt; the bidder, holding the salt, checks its bid was the
one cleared, and nobody else can open a receipt by trying prices.

A bid id is the bidder's own (two producers may both bid "1"): the engine sees
`<bidder>/<bid id>`, and alternative groups are scoped the same way, so no bidder can
collide with, or even detect, another's ids.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from api import limits
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
    salt: str
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
    if for_update:
        uow.lock(f"round:{round_id}")  # before the read: writers of a round act in turn
    row = uow.rounds.get(round_id, for_update=for_update)
    if row is None:
        raise NotFound(f"no round {round_id!r}")
    return row


def create_round(uow: UnitOfWork, actor: Actor, spec: dict[str, Any]) -> m.Round:
    from auction import parse_round

    actor.require("operator", "admin")
    parsed = parse_round(spec, source="round")
    limits.check_round(parsed)
    uow.lock(f"round:{parsed.round_id}")
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
    """Close the bidding. The sealed phase enters the audit log only now: one `bid.submit`
    entry per bid as it stands (by its bidder's key, in receipt order), then `round.close`
    with the hash of every receipt. While the round is open the log shows nobody how many
    bids came in, or from whom."""
    row = _advance(uow, actor, round_id, "close")
    row.status, row.closed_at = "closed", _now()
    uow.session.flush()
    bids = sorted(uow.bids.for_round(round_id), key=lambda b: b.receipt)
    for bid in bids:
        audit.record(
            uow,
            Actor(key_id=bid.submitted_by, role="producer", producer=bid.bidder),
            "bid.submit",
            f"round/{round_id}/bid",
            {
                "bidder": bid.bidder,
                "bid_id": bid.bid_id,
                "receipt": bid.receipt,
                "submitted_at": bid.submitted_at,
            },
        )
    audit.record(
        uow,
        actor,
        "round.close",
        f"round/{round_id}",
        {
            "bids": len(bids),
            "receipts_sha256": sha256_hex(canonical_json([b.receipt for b in bids])),
        },
    )
    uow.commit()
    return row


def canonical_bid(round_id: str, bid: dict[str, Any]) -> str:
    return canonical_json({"round_id": round_id, **{k: bid.get(k) for k in BID_FIELDS}})


def stored_canonical_bid(round_id: str, payload: dict[str, Any]) -> str:
    """The canonical JSON a stored bid's receipt commits to (numbers back to decimals)."""
    numbers = ("capacity_mw", "annual_mwh", "price", "min_capacity_mw")
    return canonical_bid(
        round_id,
        {k: Decimal(v) if k in numbers and v is not None else v for k, v in payload.items()},
    )


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


def commitment(salt: bytes, canonical: str) -> str:
    """The receipt: HMAC-SHA256 of the canonical bid keyed with the bidder's salt."""
    return hmac.new(salt, canonical.encode(), hashlib.sha256).hexdigest()


def engine_bid_id(bidder: str, bid_id: str) -> str:
    return f"{bidder}/{bid_id}"


def submit_bid(uow: UnitOfWork, actor: Actor, round_id: str, fields: dict[str, Any]) -> Receipt:
    """A producer bids for itself inside the open window; resubmitting one of its own bid ids
    replaces that bid. Bounded against the round before anything is stored."""
    from auction import parse_round

    actor.require("producer")
    assert actor.producer is not None
    row = get_round(uow, round_id, for_update=True)
    if row.status != "open":
        raise Conflict(f"round {round_id!r} is {row.status}: bids are accepted only while open")
    bid = validate_bid(row.spec, {**fields, "bidder": actor.producer}, source="bid")
    limits.check_bid(parse_round(row.spec, source="round"), bid)
    payload = bid_payload(bid)
    canonical = canonical_bid(round_id, payload)
    salt = secrets.token_bytes(32)
    receipt = commitment(salt, canonical)
    existing = uow.bids.get(round_id, actor.producer, bid.bid_id)
    if existing is not None:
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
    # No audit entry yet: the log is readable while the round is open (see close_round).
    uow.commit()
    return Receipt(
        round_id, bid.bid_id, actor.producer, receipt, salt.hex(), canonical, stored.submitted_at
    )


def withdraw_bid(uow: UnitOfWork, actor: Actor, round_id: str, bid_id: str) -> None:
    """A producer takes back one of its bids while the round is open (like a replaced bid,
    it leaves no audit entry: the log records the bids as they stand at close)."""
    actor.require("producer")
    assert actor.producer is not None
    row = get_round(uow, round_id, for_update=True)
    if row.status != "open":
        raise Conflict(f"round {round_id!r} is {row.status}: bids are withdrawn only while open")
    existing = uow.bids.get(round_id, actor.producer, bid_id)
    if existing is None:
        raise NotFound(f"you have no bid {bid_id!r} in round {round_id!r}")
    uow.bids.delete(existing)
    uow.commit()


def exclude_bid(
    uow: UnitOfWork, actor: Actor, round_id: str, bidder: str, bid_id: str, reason: str
) -> m.Bid:
    """The operator's way out of a round that cannot clear (or a bid found inadmissible after
    close): the bid is left out of the clearing, and the reason is recorded in the audit log
    and published with the results. Closed rounds only; an exclusion is final."""
    actor.require("operator", "admin")
    row = get_round(uow, round_id, for_update=True)
    if row.status != "closed":
        raise Conflict(f"round {round_id!r} is {row.status}: bids are excluded only once closed")
    bid = uow.bids.get(round_id, bidder, bid_id)
    if bid is None:
        raise NotFound(f"no bid {bid_id!r} of {bidder!r} in round {round_id!r}")
    if bid.excluded_reason is not None:
        raise Conflict(f"bid {bid_id!r} of {bidder!r} is already excluded")
    bid.excluded_reason, bid.excluded_at, bid.excluded_by = reason, _now(), actor.key_id
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "bid.exclude",
        f"round/{round_id}/bid",
        {"bidder": bidder, "bid_id": bid_id, "receipt": bid.receipt, "reason": reason},
    )
    uow.commit()
    return bid


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in payload.items()}


def list_bids(
    uow: UnitOfWork, actor: Actor, round_id: str, *, limit: int | None = None, offset: int = 0
) -> Sequence[m.Bid]:
    """After close: operators and admins see every bid, a producer its own; nobody before."""
    actor.require("operator", "admin", "producer")
    row = get_round(uow, round_id)
    if row.status in ("draft", "open"):
        raise Conflict(f"round {round_id!r} is {row.status}: bids are sealed until it closes")
    bidder = actor.producer if actor.role == "producer" else None
    return uow.bids.for_round(round_id, bidder=bidder, limit=limit, offset=offset)


def _domain_bid(payload: dict[str, Any]) -> Any:
    """The engine's bid: id and alternative group qualified by the bidder."""
    from auction.bids import Bid

    def dec(key: str) -> Decimal | None:
        value = payload.get(key)
        return None if value is None else Decimal(str(value))

    group = payload.get("alternative_group")
    return Bid(
        bid_id=engine_bid_id(payload["bidder"], payload["bid_id"]),
        bidder=payload["bidder"],
        technology=payload["technology"],
        capacity_mw=Decimal(payload["capacity_mw"]),
        annual_mwh=Decimal(payload["annual_mwh"]),
        price=Decimal(payload["price"]),
        innovative=bool(payload["innovative"]),
        grid_node=payload.get("grid_node"),
        alternative_group=None if group is None else engine_bid_id(payload["bidder"], group),
        min_capacity_mw=dec("min_capacity_mw"),
    )


def clear_round(uow: UnitOfWork, actor: Actor, round_id: str, rule: str | None = None) -> m.Round:
    """Clear a closed round and, in the same transaction, store its analysis (the optimiser
    against every merit-order rule, and the budget curve); the audit entry carries the
    analysis's hash. A cleared round cannot be cleared again."""
    from auction import clear, parse_round

    row = _advance(uow, actor, round_id, "clear")
    bids = [b for b in uow.bids.for_round(round_id) if b.excluded_reason is None]
    if not bids:
        raise InputError(Problem("round", None, "bids", "no bids to clear"))
    stored = {engine_bid_id(b.bidder, b.bid_id): b for b in bids}
    spec = parse_round(row.spec, source="round")
    domain = [_domain_bid(b.payload) for b in bids]
    result = clear(spec, domain, rule=rule)
    for award in result.awards:
        bid = stored[award.bid_id]
        uow.session.add(
            m.Award(
                round_id=round_id,
                bid_id=bid.bid_id,
                bidder=bid.bidder,
                technology=award.technology,
                receipt=bid.receipt,
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
    analysis = _store_analysis(uow, round_id, round_analysis.analyse(spec, domain, result))
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
            "analysis_sha256": analysis.sha256,
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
    domain = [
        _domain_bid(b.payload) for b in uow.bids.for_round(round_id) if b.excluded_reason is None
    ]
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


def contract_ids(round_id: str, awards: Sequence[m.Award]) -> dict[tuple[str, str], str]:
    """`<round>-<bid id>`; `<round>-<bidder>-<bid id>` for a bid id two winners share."""
    shared = Counter(a.bid_id for a in awards)
    return {
        (a.bidder, a.bid_id): award_contract_id(
            round_id, a.bid_id if shared[a.bid_id] == 1 else f"{a.bidder}-{a.bid_id}"
        )
        for a in awards
    }


def award_round(
    uow: UnitOfWork, actor: Actor, round_id: str, terms: ContractTerms
) -> list[m.Contract]:
    """Each accepted award becomes a two-way CfD at its price paid (strike in the round's
    currency; paid in `terms.payment_currency`, converted under `terms.fx_rule`)."""
    row = _advance(uow, actor, round_id, "award")
    standstill.check_award_allowed(uow, row)
    winners = [a for a in uow.rounds.awards(round_id) if a.accepted and a.price_paid is not None]
    ids = contract_ids(round_id, winners)
    taken = [i for i in ids.values() if len(i) > 100 or uow.contracts.get(i) is not None]
    if taken:
        raise Conflict(f"contract id(s) already taken or too long: {', '.join(taken[:5])}")
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
            contract_id=ids[(award.bidder, award.bid_id)],
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
        {
            "contracts": [c.contract_id for c in contracts],
            "contracts_sha256": contracts_sha256(uow, round_id),
        },
    )
    uow.commit()
    return contracts


@dataclass(frozen=True)
class Results:
    round: m.Round
    awards: Sequence[m.Award]
    excluded: list[m.Bid]
    audit_head: audit.Head | None


CONTRACT_TERMS = (
    "contract_id",
    "bid_id",
    "producer",
    "scheme",
    "strike_price",
    "currency",
    "start_date",
    "end_date",
    "capacity_mw",
    "terms",
)


def contracts_sha256(uow: UnitOfWork, round_id: str) -> str:
    """SHA-256 over the terms of every contract a round's award made, as stored: recorded in
    the award's audit entry and recomputed on verify, so a strike price or capacity changed
    in the database afterwards is detected."""
    rows = [
        {name: getattr(c, name) for name in CONTRACT_TERMS}
        for c in uow.contracts.list(round_id=round_id)
    ]
    return sha256_hex(canonical_json(rows))


def results(uow: UnitOfWork, round_id: str) -> tuple[m.Round, Sequence[m.Award]]:
    """Published once cleared, to every role: awards with the receipts of the cleared bids."""
    row = get_round(uow, round_id)
    if row.status not in ("cleared", "awarded"):
        raise Conflict(f"round {round_id!r} is {row.status}: results are published once cleared")
    return row, uow.rounds.awards(round_id)


def published(uow: UnitOfWork, round_id: str) -> Results:
    """`results`, with the bids the operator excluded and why, and the audit log's head."""
    row, awards = results(uow, round_id)
    excluded = [b for b in uow.bids.for_round(round_id) if b.excluded_reason is not None]
    return Results(row, awards, excluded, audit.head(uow))
