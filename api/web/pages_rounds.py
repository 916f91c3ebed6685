"""Rounds for every role: the rules of each round; the operator's forms that create, open,
close, clear and award it; the producer's sealed-bid form and receipt; and the published
results of awarded rounds, readable without a key.

Every state change goes through `api.services.rounds` (the same calls as the JSON API), so the
roles, the sealing of bids and the audit entries are the service's.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup

from api.actor import Actor, NotAllowed
from api.services import public_results, rounds
from api.uow import UnitOfWork
from api.web import charts, round_terms, session
from api.web.format import typed_number
from api.web.i18n import _
from api.web.render import PageRoute, actor_or_none, render
from mzekari.errors import InputError, Problem

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)

STATE_STEPS = ("draft", "open", "closed", "cleared", "awarded")
ACTIONS = {"open": rounds.open_round, "close": rounds.close_round}
ROUND_FILE_BYTES = 256 * 1024
CURRENCIES = ("GEL", "USD", "EUR")
TECHNOLOGY_ROWS = 4
SALT = re.compile(r"[0-9a-f]{64}")
SAFE_NAME = re.compile(
    r"[^A-Za-z0-9_.-]"
)  # a download's file name: nothing that could break the header
Text = Annotated[str, Form(max_length=200)]
Number = Annotated[str, Form(max_length=40)]


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


def _done(round_id: str, what: str) -> Response:
    return RedirectResponse(f"/web/rounds/{round_id}?done={what}", status_code=303)


@router.get("/rounds")
def rounds_page(request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        rows = list(uow.rounds.list())
        # A producer does not learn how many rivals bid while a round is open.
        counts = (
            {r.round_id: len(uow.bids.for_round(r.round_id)) for r in rows}
            if actor.role in ("operator", "admin")
            else None
        )
    return render(request, "rounds.html", {"rounds": rows, "bid_counts": counts}, actor=actor)


@router.get("/rounds/new")
def new_round_page(request: Request) -> Response:
    actor = session.actor_from_cookie(request)
    actor.require("operator", "admin")
    return render(
        request,
        "round_new.html",
        {"currencies": CURRENCIES, "rows": range(TECHNOLOGY_ROWS)},
        actor=actor,
    )


def _spec_from_form(
    round_id: str,
    name: str,
    currency: str,
    budget: str,
    reference_price: str,
    pricing_rule: str,
    technology: list[str],
    ceiling_price: list[str],
    max_mw: list[str],
    bidder_cap_mw: str,
) -> dict[str, Any]:
    """The form's fields as a round definition; the engine validates it (same messages as a
    round file). Empty fields are left out, never guessed."""
    spec: dict[str, Any] = {
        "round_id": round_id.strip(),
        "name": name.strip(),
        "currency": currency,
        "pricing": {"rule": pricing_rule},
        "technologies": [],
    }
    for index, tech in enumerate(technology):
        if not tech.strip():
            continue
        entry: dict[str, Any] = {"name": tech.strip()}
        for key, values in (("ceiling_price", ceiling_price), ("max_mw", max_mw)):
            value = typed_number(values[index]) if index < len(values) else ""
            if value:
                entry[key] = value
        spec["technologies"].append(entry)
    if budget.strip():
        spec["budget"] = {"amount": typed_number(budget)}
        if reference_price.strip():
            spec["budget"]["reference_price"] = typed_number(reference_price)
    if bidder_cap_mw.strip():
        spec["bidder_cap_mw"] = typed_number(bidder_cap_mw)
    return spec


@router.post("/rounds")
async def create_round(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    round_id: Text = "",
    name: Text = "",
    currency: Annotated[str, Form(pattern=r"^[A-Z]{3}$")] = "GEL",
    budget: Number = "",
    reference_price: Number = "",
    pricing_rule: Annotated[str, Form(pattern=r"^(pay_as_bid|pay_as_clear|median)$")] = (
        "pay_as_bid"
    ),
    technology: Annotated[list[str], Form(max_length=TECHNOLOGY_ROWS)] = [],  # noqa: B006
    ceiling_price: Annotated[list[str], Form(max_length=TECHNOLOGY_ROWS)] = [],  # noqa: B006
    max_mw: Annotated[list[str], Form(max_length=TECHNOLOGY_ROWS)] = [],  # noqa: B006
    bidder_cap_mw: Number = "",
    round_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """A round from the form, or from an uploaded round file (TOML or JSON) when one is sent."""
    from auction import read_round_text

    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    actor.require("operator", "admin")
    if round_file is not None and round_file.filename:
        source = _("round file")
        raw = await round_file.read(ROUND_FILE_BYTES + 1)
        if len(raw) > ROUND_FILE_BYTES:
            raise InputError(Problem(source, None, None, _("larger than 256 KiB")))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(Problem(source, None, None, _("not UTF-8 text"))) from None
        is_json = text.lstrip().startswith("{")
        spec = read_round_text(text, source, json_format=is_json).model_dump(mode="json")
    else:
        spec = _spec_from_form(
            round_id,
            name,
            currency,
            budget,
            reference_price,
            pricing_rule,
            technology,
            ceiling_price,
            max_mw,
            bidder_cap_mw,
        )
    with _uow(request) as uow:
        row = rounds.create_round(uow, actor, spec)
    return _done(row.round_id, "created")


@router.post("/rounds/{round_id}/award")
def award_round(
    round_id: str,
    request: Request,
    start: Annotated[date, Form()],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    years: Annotated[int, Form(ge=1, le=40)] = 15,
    payment_currency: Annotated[str, Form(pattern=r"^[A-Z]{3}$")] = "GEL",
    reference_series: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{1,50}$")] = "balancing",
    fx_rule: Annotated[str, Form(pattern=r"^(last_business_day|monthly_average)$")] = (
        "monthly_average"
    ),
) -> Response:
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    terms = rounds.ContractTerms(
        start=start,
        years=years,
        payment_currency=payment_currency,
        reference_series=reference_series,
        fx_rule=fx_rule,
    )
    with _uow(request) as uow:
        rounds.award_round(uow, actor, round_id, terms)
    return _done(round_id, "award")


@router.post("/rounds/{round_id}/bids")
def submit_bid(
    round_id: str,
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    bid_id: Annotated[str, Form(max_length=100)] = "",
    technology: Annotated[str, Form(max_length=100)] = "",
    capacity_mw: Number = "",
    annual_mwh: Number = "",
    price: Number = "",
    innovative: Annotated[str, Form(max_length=10)] = "",
    grid_node: Annotated[str, Form(max_length=100)] = "",
    alternative_group: Annotated[str, Form(max_length=100)] = "",
    min_capacity_mw: Number = "",
) -> Response:
    """A sealed bid (a new one, or a replacement when the bid id is one of the producer's own);
    the answer is the receipt, shown once, to keep."""
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    fields = {
        "bid_id": bid_id.strip(),
        "technology": technology.strip(),
        "capacity_mw": typed_number(capacity_mw),
        "annual_mwh": typed_number(annual_mwh),
        "price": typed_number(price),
        "innovative": innovative == "true",
        "grid_node": grid_node.strip() or None,
        "alternative_group": alternative_group.strip() or None,
        "min_capacity_mw": typed_number(min_capacity_mw) or None,
    }
    with _uow(request) as uow:
        receipt = rounds.submit_bid(uow, actor, round_id, fields)
    return render(request, "receipt.html", {"receipt": receipt}, status_code=201, actor=actor)


@router.post("/rounds/{round_id}/receipt")
def download_receipt(
    round_id: str,
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    canonical_bid: Annotated[str, Form(max_length=4000)] = "",
    salt: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The receipt as a file. It is recomputed from the canonical bid and the bidder's salt
    (never taken from the form), and only for the signed-in producer's own bid in this round."""
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    actor.require("producer")
    try:
        bid = json.loads(canonical_bid)
    except ValueError:
        bid = None
    if not isinstance(bid, dict) or bid.get("round_id") != round_id:
        raise InputError(Problem(_("form"), None, "canonical_bid", _("not this round's bid")))
    if bid.get("bidder") != actor.producer:
        raise NotAllowed("not your bid")
    if not SALT.fullmatch(salt):
        raise InputError(Problem(_("form"), None, "salt", _("not a salt of 64 hex digits")))
    receipt = rounds.commitment(bytes.fromhex(salt), canonical_bid)
    body = "\n".join(
        (
            f"round: {round_id}",
            f"bid: {bid.get('bid_id')}",
            f"bidder: {actor.producer}",
            f"receipt: {receipt}",
            f"salt (secret: only you hold it): {salt}",
            "the receipt is HMAC-SHA256 of the canonical bid below, keyed with the salt's bytes",
            "canonical bid:",
            canonical_bid,
            "",
        )
    )
    name = SAFE_NAME.sub("_", f"receipt-{round_id}-{bid.get('bid_id')}")[:150] + ".txt"
    return PlainTextResponse(
        body,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/rounds/{round_id}/withdraw")
def withdraw_bid(
    round_id: str,
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    bid_id: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A producer takes back one of its own sealed bids while the round is open."""
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        rounds.withdraw_bid(uow, actor, round_id, bid_id.strip())
    return _done(round_id, "withdraw")


@router.post("/rounds/{round_id}/exclude")
def exclude_bid(
    round_id: str,
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    bid_key: Annotated[str, Form(max_length=301)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The operator leaves one bid of a closed round out of the clearing, with a reason that
    is recorded in the audit log and published with the results. The bid is chosen as
    `bidder/bid id` (bid ids have no slash)."""
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    bidder, _slash, bid_id = bid_key.rpartition("/")
    problems = []
    if not bidder or not bid_id:
        problems.append(Problem(_("form"), None, "bid_key", _("choose a bid")))
    if not reason.strip():
        problems.append(Problem(_("form"), None, "reason", _("an exclusion needs a reason")))
    if problems:
        raise InputError(problems)
    with _uow(request) as uow:
        rounds.exclude_bid(uow, actor, round_id, bidder, bid_id, reason.strip())
    return _done(round_id, "exclude")


# Registered after the award, bid, receipt, withdrawal and exclusion forms, which it would
# otherwise shadow.
@router.post("/rounds/{round_id}/{action}")
def advance_round(
    round_id: str,
    action: str,
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    rule: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    """Open or close a round, or clear it (the exact optimiser unless a merit-order rule is
    chosen); the clearing runs in this request and its certified status shows after."""
    session.check_form(request, csrf_token)
    actor = session.actor_from_cookie(request)
    with _uow(request) as uow:
        if action in ACTIONS:
            ACTIONS[action](uow, actor, round_id)
        elif action == "clear":
            rounds.clear_round(uow, actor, round_id, rule=rule or None)
        else:
            raise InputError(Problem(_("address"), None, "action", _("unknown action")))
    return _done(round_id, action)


@router.get("/rounds/{round_id}")
def round_page(
    round_id: str, request: Request, done: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """Reads what clearing stored (awards and the analysis); never runs a solver."""
    actor = session.actor_from_cookie(request)
    operator = actor.role in ("operator", "admin")
    context: dict[str, Any] = {"steps": STATE_STEPS, "done": done, "operator": operator}
    with _uow(request) as uow:
        row = rounds.get_round(uow, round_id)
        context["round"] = row
        context["rules"] = round_terms.rules(row.spec)
        context["methods"] = round_terms.METHODS
        if operator:
            context["bid_count"] = len(uow.bids.for_round(round_id))
        if row.status not in ("draft", "open") and actor.role == "producer":
            context["own_bids"] = list(rounds.list_bids(uow, actor, round_id))
        if row.status == "closed" and operator:  # unsealed at close, to review before clearing
            context["closed_bids"] = list(rounds.list_bids(uow, actor, round_id))
        if row.status in ("cleared", "awarded"):
            context.update(_results_context(uow, row, operator))
    return render(request, "round.html", context, actor=actor)


def _results_context(uow: UnitOfWork, row: Any, operator: bool) -> dict[str, Any]:
    from auction import REJECTION_REASONS

    _, awards = rounds.results(uow, row.round_id)
    context: dict[str, Any] = {
        "accepted": [a for a in awards if a.accepted],
        "rejected": [a for a in awards if not a.accepted],
        "awards": awards,
        "contracts": list(uow.contracts.list(round_id=row.round_id)),
        "reasons": REJECTION_REASONS,
    }
    if operator:
        payloads = {b.bid_id: b.payload for b in uow.bids.for_round(row.round_id)}
        context["rejected_rows"] = [
            (
                a,
                payloads.get(a.bid_id),
                round_terms.rejection_limit(
                    row.spec,
                    payloads.get(a.bid_id),
                    a.reason or "",
                    (row.clearing or {}).get("budget_used"),
                ),
            )
            for a in context["rejected"]
        ]
        stored = rounds.stored_analysis(uow, row.round_id)
        analysis = stored.analysis if stored is not None else None
        context["analysis"] = analysis
        context["analysis_sha256"] = stored.sha256 if stored is not None else None
        context["analysis_at"] = stored.computed_at if stored is not None else None
        if analysis and analysis["curve"]:
            context["curve_chart"] = _curve_chart(analysis, row.currency)
    return context


def _percent(share: str) -> str:
    return format((Decimal(share) * 100).normalize(), "f")


def _curve_chart(analysis: dict[str, Any], currency: str) -> Markup:
    series: dict[str, list[tuple[Decimal, Decimal]]] = {}
    for point in analysis["curve"]:
        series.setdefault(point["method"], []).append(
            (Decimal(point["budget"]), Decimal(point["energy_mwh"]))
        )
    shares = analysis["curve_shares"]
    budget = analysis.get("budget")
    return charts.lines(
        series,
        _("budget ({currency})").format(currency=currency),
        _("annual energy (MWh)"),
        _("Budget curve: annual energy bought for each budget"),
        _(
            "Annual energy the exact optimiser and each merit-order rule buy at budgets from "
            "{low} % to {high} % of the round's budget; the dashed vertical line marks the "
            "round's budget. The table below lists the same values."
        ).format(low=_percent(shares[0]), high=_percent(shares[-1])),
        "curve-chart",
        marker=(Decimal(budget), _("round's budget")) if budget else None,
    )


# --- published results, for everyone (no key needed) -----------------------------------------


@router.get("/results")
def results_list(request: Request) -> Response:
    with _uow(request) as uow:
        awarded = public_results.awarded_rounds(uow)
    return render(request, "results.html", {"rounds": awarded}, actor=actor_or_none(request))


@router.get("/results/{round_id}")
def results_page(round_id: str, request: Request) -> Response:
    """What the law publishes, from the public-results service (the same document as
    `/public/rounds/{id}/results.json`): losing bids only by their receipts."""
    actor = actor_or_none(request)
    with _uow(request) as uow:
        document = public_results.results(uow, round_id)
    own = actor.producer if isinstance(actor, Actor) and actor.role == "producer" else None
    return render(request, "results_round.html", {"doc": document, "own": own}, actor=actor)
