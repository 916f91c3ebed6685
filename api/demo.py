"""`mzekari demo`: the Georgia 2023 round end to end through the service layer, in process.

Round and bids: the shipped scenario georgia_2023 (round.toml, bids.csv). Prices: ESCO's
monthly balancing-electricity price for 2021 (georgia_2023/esco_2021.csv, extracted from
scenarios/sources), the last full year of real prices, so the awarded contracts are settled as
if they had delivered in 2021. Strikes are in USD, paid in GEL under the contracts' rule: the
official USD/GEL rate of the month's last business day. The shipped data hold no daily National
Bank of Georgia rates, so the NBG's 2021 annual average, 3.2209 GEL/USD (the rate the round's
reference price uses), stands in for each month's rate, dated that month's last weekday; each
statement line names the rate and date used. Meter data: seeded hourly profiles by technology
(api/demo_profiles.py) scaled to each award's annual MWh.

Every step calls the same services, with the same request schemas, as the HTTP API, so the
demo needs nothing beyond a plain install. What is printed is for people (money to the
currency's minor unit, thousands separated); the files written keep exact values
(`clearing.json`, `round_analysis.json`, the statements).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from mzekari.errors import InputError, MzekariError
from mzekari.money import for_people
from scenarios import scenario_file

SCENARIO = "georgia_2023"
YEAR = 2021
GEL_PER_USD = "3.2209"  # National Bank of Georgia, 2021 annual average
FX_SOURCE = "National Bank of Georgia, 2021 annual average USD/GEL"
FX_RULE: Literal["last_business_day"] = "last_business_day"
SERIES = "balancing"
SEED = 2023
# Marks a folder as the demo's own: only such a folder is emptied (of the demo's files) on rerun.
MARKER = ".mzekari-demo"
OUTPUTS = ("clearing.json", "round_analysis.json", "statements_summary.csv", "mzekari.sqlite")

T = TypeVar("T")


def last_weekday(year: int, month: int) -> date:
    """The month's last Monday–Friday (public holidays are not modelled)."""
    day = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def prepare_out(out: Path) -> None:
    """Create `out`, or reuse a folder an earlier demo made, removing only the demo's own
    files. Anything else is refused: the demo never deletes what it did not create."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise InputError(
                f"--out {out}: the folder is not empty and was not made by `mzekari demo`; "
                "name a new or empty folder"
            )
        for name in (*OUTPUTS, "mzekari.sqlite-wal", "mzekari.sqlite-shm"):
            (out / name).unlink(missing_ok=True)
        statements = out / "statements"
        if statements.is_dir():
            for path in statements.glob("*.csv"):
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by `mzekari demo`; its files are replaced on the next run\n")


def shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class Demo:
    def __init__(self, out: Path, database_url: str | None = None):
        from api.actor import Actor
        from api.db.engine import make_engine, make_session_factory, upgrade

        prepare_out(out)
        self.out = out
        self.url = database_url or f"sqlite:///{out / 'mzekari.sqlite'}"
        upgrade(self.url)
        self.engine = make_engine(self.url)
        self.factory = make_session_factory(self.engine)
        self.actors: dict[str, Actor] = {}
        self.started = time.perf_counter()

    def step(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:5.1f} s] {message}", flush=True)

    def actor(self, role: str, producer: str | None = None) -> Any:
        """A real API key per role (and per producer), so the audit log names who acted."""
        from api.actor import Actor
        from api.services.keys import create_key

        name = producer or role
        if name not in self.actors:
            issued = self.run(lambda uow: create_key(uow, role, producer, name=f"demo {name}"))
            self.actors[name] = Actor(issued.key_id, role, producer)
        return self.actors[name]

    def run(self, use_case: Callable[[Any], T]) -> T:
        """One use case in its own unit of work, as one HTTP request would run it."""
        from api.uow import UnitOfWork

        with UnitOfWork(self.factory) as uow:
            return use_case(uow)


def _read_text(*parts: str) -> str:
    return scenario_file(SCENARIO, *parts).read_text(encoding="utf-8")


def _upload(body: str) -> tuple[io.BytesIO, str]:
    data = body.encode()
    return io.BytesIO(data), hashlib.sha256(data).hexdigest()


def run_demo(out_dir: str, months: int = 12, database_url: str | None = None) -> int:
    """The demo into a fresh SQLite file under `out_dir`, or into the empty database at
    `database_url` (migrated here)."""
    from api.http.schemas import AwardRequest, BidCreate
    from api.services import rounds, settlements

    if not 1 <= months <= 12:
        raise InputError(f"--months {months}: settle 1 to 12 months of {YEAR}")
    demo = Demo(Path(out_dir), database_url)
    demo.step(f"database {shown_url(demo.url)}")
    operator = demo.actor("operator")
    spec = tomllib.loads(_read_text("round.toml"))
    round_id = spec["round_id"]
    try:
        demo.run(lambda uow: rounds.create_round(uow, operator, spec))
    except MzekariError as exc:
        raise InputError(
            f"database {shown_url(demo.url)} is not empty ({exc}); the demo needs an empty one"
        ) from exc
    demo.run(lambda uow: rounds.open_round(uow, operator, round_id))
    bids = list(csv.DictReader(io.StringIO(_read_text("bids.csv"))))
    for bid in bids:
        body = {k: v for k, v in bid.items() if k != "bidder" and v != ""}
        body["innovative"] = bid["innovative"].lower() in ("true", "yes", "1", "y")
        fields = BidCreate.model_validate(body).model_dump()
        bidder = demo.actor("producer", bid["bidder"])
        demo.run(partial(rounds.submit_bid, actor=bidder, round_id=round_id, fields=fields))
    demo.step(
        f"round {round_id}: {len(bids)} sealed bids from "
        f"{len({b['bidder'] for b in bids})} producers"
    )
    demo.run(lambda uow: rounds.close_round(uow, operator, round_id))
    cleared = demo.run(lambda uow: rounds.clear_round(uow, operator, round_id))
    clearing = cleared.clearing
    if clearing is None:
        raise MzekariError(f"round {round_id} was cleared but no clearing was stored")
    award = AwardRequest(
        start=date(YEAR, 1, 1),
        years=15,
        payment_currency="GEL",
        reference_series=SERIES,
        reference_basis="monthly_baseload",
        fx_rule=FX_RULE,
    )
    contracts = demo.run(
        lambda uow: rounds.award_round(
            uow, operator, round_id, rounds.ContractTerms(**award.model_dump())
        )
    )
    currency = spec["currency"]
    budget = f" of {for_people(clearing['budget'], currency)}" if clearing.get("budget") else ""
    demo.step(
        f"cleared ({clearing['status']}): {len(contracts)} bids accepted, "
        f"{sum(Decimal(c.capacity_mw) for c in contracts):,f} MW, budget used "
        f"{for_people(clearing['budget_used'], currency)}{budget} {currency}; "
        f"{len(contracts)} two-way CfD contracts"
    )
    _write_clearing(demo, round_id, clearing)
    _load_inputs(demo, operator)
    for month in range(1, months + 1):
        label = f"{YEAR}-{month:02d}"
        demo.run(partial(settlements.run_settlement, actor=operator, month=label))
    demo.step(f"settled {months} months")
    _report(demo, operator)
    return 0


def _write_clearing(demo: Demo, round_id: str, clearing: dict[str, Any]) -> None:
    """Exact figures to files; one line for people comparing the optimiser with the rules."""
    from api.services import rounds

    (demo.out / "clearing.json").write_text(json.dumps(clearing, indent=2, sort_keys=True))
    stored = demo.run(lambda uow: rounds.stored_analysis(uow, round_id))
    if stored is None:
        demo.step("no round analysis was stored at clearing")
        return
    analysis, sha = stored.analysis, stored.sha256
    (demo.out / "round_analysis.json").write_text(json.dumps(analysis, indent=2, sort_keys=True))
    optimiser, *rules = analysis["comparison"]
    best = max(rules, key=lambda r: Decimal(r["energy_mwh"]))
    over = " while exceeding a volume" if best["over_volume"] else ""
    demo.step(
        f"the optimiser buys {Decimal(optimiser['energy_mwh']):,f} MWh a year; the best "
        f"merit-order rule ({best['method']}) {Decimal(best['energy_mwh']):,f} MWh{over} "
        f"(analysis stored at clearing, sha256 {sha[:12]}…)"
    )


def _load_inputs(demo: Demo, operator: Any) -> None:
    from api.demo_profiles import generation_kwh, hours_of_year
    from api.services import uploads

    esco = [
        (r["month"], r["price_gel_per_mwh"])
        for r in csv.DictReader(io.StringIO(_read_text("esco_2021.csv")))
    ]
    prices = "month,price\n" + "".join(f"{m},{Decimal(p):.2f}\n" for m, p in esco)
    body, sha = _upload(prices)
    demo.run(lambda uow: uploads.upload_prices(uow, operator, SERIES, "GEL", body, sha))
    dates = [last_weekday(int(m[:4]), int(m[5:7])) for m, _ in esco]
    fx = "date,pair,rate\n" + "".join(f"{d.isoformat()},USD/GEL,{GEL_PER_USD}\n" for d in dates)
    body, sha = _upload(fx)
    demo.run(lambda uow: uploads.upload_fx_rates(uow, operator, body, sha))
    contracts = demo.run(lambda uow: list(uow.contracts.list()))
    hours = hours_of_year(YEAR)
    stamps = [h.isoformat() for h in hours]
    buffer = io.StringIO()
    buffer.write("timestamp,contract_id,energy_kwh\n")
    for i, contract in enumerate(contracts):
        energy = generation_kwh(
            contract.terms["technology"],
            Decimal(contract.capacity_mw),
            Decimal(contract.terms["annual_mwh"]),
            hours,
            SEED + i,
        )
        cid = contract.contract_id
        buffer.writelines(f"{s},{cid},{e}\n" for s, e in zip(stamps, energy.tolist(), strict=True))
    body, sha = _upload(buffer.getvalue())
    demo.run(lambda uow: uploads.upload_meters(uow, operator, body, sha, f"demo-meters-{YEAR}"))
    demo.step(
        f"loaded ESCO {YEAR} balancing prices; USD/GEL {GEL_PER_USD} ({FX_SOURCE}) as "
        f"each month's official rate, dated its last weekday ({dates[0]} … {dates[-1]}); "
        f"{len(contracts) * len(hours):,} hourly meter readings"
    )


def _report(demo: Demo, operator: Any) -> None:
    from api.services import audit, settlements

    statements = demo.run(lambda uow: settlements.list_statements(uow, operator, None, None, None))
    folder = demo.out / "statements"
    folder.mkdir(exist_ok=True)
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    rows = []
    for s in statements:
        producer = demo.actor("producer", s.producer)  # each reads its own statement
        text, row = demo.run(partial(_statement, producer=producer, statement_id=s.id))
        (folder / f"{s.producer}_{s.month}.csv").write_text(text)
        rows.append(row)
        for field in ("paid_to_producer", "paid_by_producer", "net"):
            totals[s.producer][field] += row[field]
        by_month[s.month] += row["net"]
    fields = ["producer", "month", "currency", "paid_to_producer", "paid_by_producer", "net"]
    with (demo.out / "statements_summary.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: (r["producer"], r["month"])))
    print()
    print(
        f"Statements {YEAR}, GEL (positive: ESCO pays the producer; negative: the producer "
        f"pays ESCO)"
    )
    print(f"{'producer':<22}{'paid to producer':>18}{'paid by producer':>18}{'net':>16}")
    for producer_name, total in sorted(totals.items()):
        print(
            f"{producer_name:<22}{total['paid_to_producer']:>18,.2f}"
            f"{total['paid_by_producer']:>18,.2f}{total['net']:>16,.2f}"
        )
    print(f"{'all producers':<22}{'':>36}{sum(by_month.values()):>16,.2f}")
    print()
    print(
        "net support by month: "
        + ", ".join(f"{m[5:]}: {v:,.0f}" for m, v in sorted(by_month.items()))
    )
    verdict = demo.run(lambda uow: audit.verify(list(uow.audit.list(limit=10**9))))
    demo.step(f"{len(statements)} statements; audit log: {verdict.message}")
    print(
        f"wrote {folder}/ (one CSV per statement), {demo.out / 'statements_summary.csv'}, "
        f"database {shown_url(demo.url)}"
    )


def _statement(uow: Any, producer: Any, statement_id: int) -> tuple[str, dict[str, Any]]:
    """The statement as its producer reads it: the CSV and the document's totals."""
    from api.services import settlements

    document = settlements.statement_document(uow, producer, statement_id)
    text = settlements.statement_csv(settlements.get_statement(uow, producer, statement_id))
    row = {
        "producer": document["producer"],
        "month": document["month"],
        "currency": document["currency"],
        **{f: Decimal(document[f]) for f in ("paid_to_producer", "paid_by_producer", "net")},
    }
    return text, row
