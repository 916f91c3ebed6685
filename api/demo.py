"""`mzekari demo`: the Georgia 2023 round end to end through the real HTTP API, in process.

Round and bids: scenarios/georgia_2023 (round.toml, bids.csv). Prices: ESCO's monthly
balancing-electricity price for 2021 (scenarios/georgia_2023/esco_2021.csv, extracted from
shared/data), the last full year of real prices, so the awarded contracts are settled as if
they had delivered in 2021. Strikes are in USD, paid in GEL under the contracts' default rule:
the official USD/GEL rate of the month's last business day. The shared data hold no daily
National Bank of Georgia rates, so the NBG's 2021 annual average, 3.2209 GEL/USD (the rate the
round's reference price uses), stands in for each month's rate, dated that month's last weekday;
each statement line names the rate and date used. Meter data: seeded hourly profiles by
technology (api/demo_profiles.py) scaled to each award's annual MWh.

What is printed is for people (money to the currency's minor unit, thousands separated); the
files written keep exact values (`clearing.json`, `round_analysis.json`, the statements).
"""

from __future__ import annotations

import csv
import io
import json
import time
import tomllib
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from mzekari.money import for_people

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "scenarios" / "georgia_2023"
YEAR = 2021
GEL_PER_USD = "3.2209"  # National Bank of Georgia, 2021 annual average
FX_SOURCE = "National Bank of Georgia, 2021 annual average USD/GEL"
FX_RULE = "last_business_day"
SERIES = "balancing"
SEED = 2023


def last_weekday(year: int, month: int) -> date:
    """The month's last Monday–Friday (public holidays are not modelled)."""
    day = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


class Demo:
    def __init__(self, out: Path, database_url: str | None = None):
        import warnings

        with warnings.catch_warnings():  # the in-process client's transport notice
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient

        from api import demo_out
        from api.app import create_app
        from api.db.engine import make_engine, upgrade
        from api.settings import Settings

        demo_out.prepare(out)
        self.out = out
        url = database_url or f"sqlite:///{out / 'mzekari.sqlite'}"
        self.database = url if database_url else str(out / "mzekari.sqlite")
        upgrade(url)
        self.engine = make_engine(url)
        self.client = TestClient(create_app(Settings(database_url=url), self.engine))
        self.keys: dict[str, str] = {}
        self.started = time.perf_counter()

    def step(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:5.1f} s] {message}", flush=True)

    def key(self, role: str, producer: str | None = None) -> dict[str, str]:
        from api.services.keys import create_key
        from api.uow import UnitOfWork

        name = producer or role
        if name not in self.keys:
            with UnitOfWork.for_engine(self.engine) as uow:
                self.keys[name] = create_key(uow, role, producer, name=name).secret_key
        return {"Authorization": f"Bearer {self.keys[name]}"}

    def call(
        self, method: str, path: str, who: dict[str, str], expect: int = 200, **kwargs: Any
    ) -> Any:
        response = self.client.request(method, path, headers=who, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json() if "json" in response.headers.get("content-type", "") else response


def run_demo(out_dir: str, months: int = 12, database_url: str | None = None) -> int:
    """The demo into a fresh SQLite file under `out_dir`, or into the (empty, migrated here)
    database at `database_url`."""
    demo = Demo(Path(out_dir), database_url)
    operator = demo.key("operator")
    spec = tomllib.loads((SCENARIO / "round.toml").read_text())
    round_id = spec["round_id"]
    demo.call("POST", "/api/rounds", operator, 201, json=spec)
    demo.call("POST", f"/api/rounds/{round_id}/open", operator)
    with (SCENARIO / "bids.csv").open(newline="") as fh:
        bids = list(csv.DictReader(fh))
    for bid in bids:
        body = {k: v for k, v in bid.items() if k != "bidder" and v != ""}
        body["innovative"] = bid["innovative"].lower() in ("true", "yes", "1", "y")
        demo.call(
            "POST",
            f"/api/rounds/{round_id}/bids",
            demo.key("producer", bid["bidder"]),
            201,
            json=body,
        )
    demo.step(
        f"round {round_id}: {len(bids)} sealed bids from "
        f"{len({b['bidder'] for b in bids})} producers"
    )
    demo.call("POST", f"/api/rounds/{round_id}/close", operator)
    cleared = demo.call("POST", f"/api/rounds/{round_id}/clear", operator)
    clearing = cleared["clearing"]
    results = demo.call(
        "POST",
        f"/api/rounds/{round_id}/award",
        operator,
        json={
            "start": f"{YEAR}-01-01",
            "years": 15,
            "payment_currency": "GEL",
            "reference_series": SERIES,
            "reference_basis": "monthly_baseload",
            "fx_rule": FX_RULE,
        },
    )
    accepted = [a for a in results["awards"] if a["accepted"]]
    currency = spec["currency"]
    budget = f" of {for_people(clearing['budget'], currency)}" if clearing.get("budget") else ""
    demo.step(
        f"cleared ({clearing['status']}): {len(accepted)} bids accepted, "
        f"{sum(Decimal(a['awarded_capacity_mw']) for a in accepted):,f} MW, budget used "
        f"{for_people(clearing['budget_used'], currency)}{budget} {currency}; "
        f"{len(accepted)} two-way CfD contracts"
    )
    _write_clearing(demo, round_id, clearing)
    _load_inputs(demo, operator)
    for month in range(1, months + 1):
        demo.call("POST", "/api/settlements", operator, 201, json={"month": f"{YEAR}-{month:02d}"})
    demo.step(f"settled {months} months")
    _report(demo, operator)
    from api import demo_out

    demo_out.record(demo.out)
    return 0


def _write_clearing(demo: Demo, round_id: str, clearing: dict[str, Any]) -> None:
    """Exact figures to files; one line for people comparing the optimiser with the rules."""
    from api.services import rounds
    from api.uow import UnitOfWork

    (demo.out / "clearing.json").write_text(json.dumps(clearing, indent=2, sort_keys=True))
    with UnitOfWork.for_engine(demo.engine) as uow:
        stored = rounds.stored_analysis(uow, round_id)
        if stored is None:
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


def _load_inputs(demo: Demo, operator: dict[str, str]) -> None:
    from api.demo_profiles import generation_kwh, hours_of_year

    with (SCENARIO / "esco_2021.csv").open(newline="") as fh:
        esco = [(r["month"], r["price_gel_per_mwh"]) for r in csv.DictReader(fh)]
    prices = "month,price\n" + "".join(f"{m},{Decimal(p):.2f}\n" for m, p in esco)
    demo.call(
        "POST", f"/api/prices/{SERIES}", operator, 201, content=prices, params={"currency": "GEL"}
    )
    dates = [last_weekday(int(m[:4]), int(m[5:7])) for m, _ in esco]
    fx = "date,pair,rate\n" + "".join(f"{d.isoformat()},USD/GEL,{GEL_PER_USD}\n" for d in dates)
    demo.call("POST", "/api/fx-rates", operator, 201, content=fx)
    contracts = demo.call("GET", "/api/contracts", operator)["items"]
    hours = hours_of_year(YEAR)
    stamps = [h.isoformat() for h in hours]
    buffer = io.StringIO()
    buffer.write("timestamp,contract_id,energy_kwh\n")
    for i, contract in enumerate(contracts):
        energy = generation_kwh(
            contract["terms"]["technology"],
            Decimal(contract["capacity_mw"]),
            Decimal(contract["terms"]["annual_mwh"]),
            hours,
            SEED + i,
        )
        cid = contract["contract_id"]
        buffer.writelines(f"{s},{cid},{e}\n" for s, e in zip(stamps, energy.tolist(), strict=True))
    body = buffer.getvalue().encode()
    demo.call(
        "POST",
        "/api/meter-data",
        {**operator, "Idempotency-Key": f"demo-meters-{YEAR}"},
        201,
        content=body,
    )
    demo.step(
        f"loaded ESCO {YEAR} balancing prices; USD/GEL {GEL_PER_USD} ({FX_SOURCE}) as "
        f"each month's official rate, dated its last weekday ({dates[0]} … {dates[-1]}); "
        f"{len(contracts) * len(hours):,} hourly meter readings"
    )


def _report(demo: Demo, operator: dict[str, str]) -> None:
    statements = demo.call("GET", "/api/statements", operator)["items"]
    folder = demo.out / "statements"
    folder.mkdir()
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for s in statements:
        producer_key = demo.key("producer", s["producer"])  # each reads its own statement
        text = demo.call("GET", f"/api/statements/{s['id']}/csv", producer_key).text
        (folder / f"{s['producer']}_{s['month']}.csv").write_text(text)
        row = totals[s["producer"]]
        for field in ("paid_to_producer", "paid_by_producer", "net"):
            row[field] += Decimal(s[field])
        by_month[s["month"]] += Decimal(s["net"])
    with (demo.out / "statements_summary.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["producer", "month", "currency", "paid_to_producer", "paid_by_producer", "net"]
        )
        for s in sorted(statements, key=lambda x: (x["producer"], x["month"])):
            writer.writerow(
                [
                    s["producer"],
                    s["month"],
                    s["currency"],
                    s["paid_to_producer"],
                    s["paid_by_producer"],
                    s["net"],
                ]
            )
    print()
    print(
        f"Statements {YEAR}, GEL (positive: ESCO pays the producer; negative: the producer "
        f"pays ESCO)"
    )
    print(f"{'producer':<22}{'paid to producer':>18}{'paid by producer':>18}{'net':>16}")
    for producer, row in sorted(totals.items()):
        print(
            f"{producer:<22}{row['paid_to_producer']:>18,.2f}{row['paid_by_producer']:>18,.2f}"
            f"{row['net']:>16,.2f}"
        )
    print(f"{'all producers':<22}{'':>36}{sum(by_month.values()):>16,.2f}")
    print()
    print(
        "net support by month: "
        + ", ".join(f"{m[5:]}: {v:,.0f}" for m, v in sorted(by_month.items()))
    )
    verdict = demo.call("GET", "/api/audit/verify", operator)
    demo.step(f"{len(statements)} statements; audit log: {verdict['message']}")
    print(
        f"wrote {folder}/ (one CSV per statement), {demo.out / 'statements_summary.csv'}, "
        f"database {demo.database}"
    )
