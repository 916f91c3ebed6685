"""`mzekari demo`: the Georgia 2023 round end to end through the real HTTP API, in process.

Round and bids: scenarios/georgia_2023 (round.toml, bids.csv). Prices: ESCO's monthly
balancing-electricity price for 2021 (scenarios/georgia_2023/esco_2021.csv, extracted from
shared/data), the last full year of real prices, so the awarded contracts are settled as if
they had delivered in 2021. Strikes are in USD; they are paid in GEL at the National Bank of
Georgia's 2021 average rate, 3.2209 GEL/USD (the rate the round's reference price uses),
recorded as each month's rate. Meter data: seeded hourly profiles by technology
(api/demo_profiles.py) scaled to each award's annual MWh.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
import tomllib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "scenarios" / "georgia_2023"
YEAR = 2021
GEL_PER_USD = "3.2209"  # National Bank of Georgia, 2021 annual average
SERIES = "balancing"
SEED = 2023


class Demo:
    def __init__(self, out: Path, database_url: str | None = None):
        import warnings

        with warnings.catch_warnings():  # the in-process client's transport notice
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient

        from api.app import create_app
        from api.db.engine import make_engine, upgrade
        from api.settings import Settings

        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
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

    def call(self, method: str, path: str, who: dict[str, str], expect: int = 200,
             **kwargs: Any) -> Any:
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
        demo.call("POST", f"/api/rounds/{round_id}/bids", demo.key("producer", bid["bidder"]),
                  201, json=body)
    demo.step(f"round {round_id}: {len(bids)} sealed bids from "
              f"{len({b['bidder'] for b in bids})} producers")
    demo.call("POST", f"/api/rounds/{round_id}/close", operator)
    cleared = demo.call("POST", f"/api/rounds/{round_id}/clear", operator)
    clearing = cleared["clearing"]
    results = demo.call("POST", f"/api/rounds/{round_id}/award", operator, json={
        "start": f"{YEAR}-01-01", "years": 15, "payment_currency": "GEL",
        "reference_series": SERIES, "reference_basis": "monthly_baseload",
        "fx_rule": "monthly_average"})
    accepted = [a for a in results["awards"] if a["accepted"]]
    demo.step(f"cleared ({clearing['status']}): {len(accepted)} bids accepted, "
              f"{sum(Decimal(a['awarded_capacity_mw']) for a in accepted)} MW, budget used "
              f"{clearing.get('budget_used')} {spec['currency']}; "
              f"{len(accepted)} two-way CfD contracts")
    _load_inputs(demo, operator)
    for month in range(1, months + 1):
        demo.call("POST", "/api/settlements", operator, 201, json={"month": f"{YEAR}-{month:02d}"})
    demo.step(f"settled {months} months")
    _report(demo, operator)
    return 0


def _load_inputs(demo: Demo, operator: dict[str, str]) -> None:
    from api.demo_profiles import generation_kwh, hours_of_year

    with (SCENARIO / "esco_2021.csv").open(newline="") as fh:
        esco = [(r["month"], r["price_gel_per_mwh"]) for r in csv.DictReader(fh)]
    prices = "month,price\n" + "".join(f"{m},{Decimal(p):.2f}\n" for m, p in esco)
    demo.call("POST", f"/api/prices/{SERIES}", operator, 201, content=prices,
              params={"currency": "GEL"})
    fx = "date,pair,rate\n" + "".join(
        f"{m}-28,USD/GEL,{GEL_PER_USD}\n" for m, _ in esco)
    demo.call("POST", "/api/fx-rates", operator, 201, content=fx)
    contracts = demo.call("GET", "/api/contracts", operator)["items"]
    hours = hours_of_year(YEAR)
    stamps = [h.isoformat() for h in hours]
    buffer = io.StringIO()
    buffer.write("timestamp,contract_id,energy_kwh\n")
    for i, contract in enumerate(contracts):
        energy = generation_kwh(contract["terms"]["technology"],
                                Decimal(contract["capacity_mw"]),
                                Decimal(contract["terms"]["annual_mwh"]), hours, SEED + i)
        cid = contract["contract_id"]
        buffer.writelines(f"{s},{cid},{e}\n" for s, e in zip(stamps, energy.tolist(),
                                                            strict=True))
    body = buffer.getvalue().encode()
    demo.call("POST", "/api/meter-data", {**operator, "Idempotency-Key": f"demo-meters-{YEAR}"},
              201, content=body)
    demo.step(f"loaded ESCO {YEAR} balancing prices, USD/GEL {GEL_PER_USD}, and "
              f"{len(contracts) * len(hours):,} hourly meter readings")


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
        writer.writerow(["producer", "month", "currency", "paid_to_producer",
                         "paid_by_producer", "net"])
        for s in sorted(statements, key=lambda x: (x["producer"], x["month"])):
            writer.writerow([s["producer"], s["month"], s["currency"], s["paid_to_producer"],
                             s["paid_by_producer"], s["net"]])
    print()
    print(f"Statements {YEAR}, GEL (positive: ESCO pays the producer; negative: the producer "
          f"pays ESCO)")
    print(f"{'producer':<22}{'paid to producer':>18}{'paid by producer':>18}{'net':>16}")
    for producer, row in sorted(totals.items()):
        print(f"{producer:<22}{row['paid_to_producer']:>18,.2f}{row['paid_by_producer']:>18,.2f}"
              f"{row['net']:>16,.2f}")
    print(f"{'all producers':<22}{'':>36}{sum(by_month.values()):>16,.2f}")
    print()
    print("net support by month: " + ", ".join(
        f"{m[5:]}: {v:,.0f}" for m, v in sorted(by_month.items())))
    verdict = demo.call("GET", "/api/audit/verify", operator)
    demo.step(f"{len(statements)} statements; audit log: {verdict['message']}")
    print(f"wrote {folder}/ (one CSV per statement), {demo.out / 'statements_summary.csv'}, "
          f"database {demo.database}")
