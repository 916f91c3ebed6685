"""Upload one month of hourly meter data for 10,000 contracts (7.44 million rows) into
PostgreSQL through the HTTP API, then settle that month through the API; print both times.

    .venv/bin/python benchmarks/api_bulk_month.py [--contracts 10000] [--month 2025-07]

Targets: upload ≤ 60 s, settlement ≤ 30 s. Uses a fresh database on the server at
MZEKARI_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432), dropped afterwards. The API runs
in uvicorn, in its own process, on loopback; the body is streamed from a file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx2 as httpx
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from api.db import models as m
from api.db.engine import make_engine, upgrade
from api.services.keys import create_key
from api.uow import UnitOfWork

SERVER = os.environ.get(
    "MZEKARI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def write_meter_csv(path: str, contract_ids: list[str], month: str, seed: int) -> int:
    start = pd.Timestamp(f"{month}-01", tz="Asia/Tbilisi")
    hours = pd.date_range(start, start + pd.offsets.MonthBegin(1), freq="h", inclusive="left")
    stamps = [h.isoformat() for h in hours]
    rng = np.random.default_rng(seed)
    rows = 0
    with open(path, "w") as fh:
        fh.write("timestamp,contract_id,energy_kwh\n")
        for cid in contract_ids:
            energy = rng.integers(0, 5000, size=len(stamps)).tolist()
            fh.write("".join(f"{s},{cid},{e}\n" for s, e in zip(stamps, energy, strict=True)))
            rows += len(stamps)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--month", default="2025-07")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    name = f"mzk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=10)
        contract_ids = [f"BENCH-{i:05d}" for i in range(args.contracts)]
        now = datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(
                insert(m.Contract),
                [
                    {
                        "contract_id": cid,
                        "round_id": None,
                        "bid_id": None,
                        "producer": f"producer-{i % 500:03d}",
                        "scheme": "cfd",
                        "strike_price": Decimal("150.00") + Decimal(i % 97),
                        "currency": "GEL",
                        "start_date": date(2025, 1, 1),
                        "end_date": date(2039, 12, 31),
                        "capacity_mw": Decimal("5"),
                        "terms": {
                            "reference_basis": "monthly_baseload",
                            "reference_series": "balancing",
                            "technology": "solar",
                            "annual_mwh": "8000",
                        },
                        "created_at": now,
                    }
                    for i, cid in enumerate(contract_ids)
                ],
            )
        with UnitOfWork.for_engine(engine) as uow:
            key = create_key(uow, "operator").secret_key
        headers = {"Authorization": f"Bearer {key}"}

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "meters.csv")
            started = time.perf_counter()
            rows = write_meter_csv(path, contract_ids, args.month, seed=1)
            size_mb = os.path.getsize(path) / 1e6
            print(
                f"generated {rows:,} rows ({size_mb:.0f} MB) in "
                f"{time.perf_counter() - started:.1f} s"
            )

            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "api.app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(args.port),
                    "--log-level",
                    "warning",
                ],
                env={**os.environ, "MZEKARI_DATABASE_URL": url},
            )
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{args.port}/health")
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.2)
            base = f"http://127.0.0.1:{args.port}"
            with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
                prices = "month,price\n" + "".join(
                    f"2025-{mm:02d},{120 + mm}.50\n" for mm in range(1, 13)
                )
                client.post("/api/prices/balancing", content=prices).raise_for_status()

                def stream():  # the body goes out in 1 MB pieces, never whole in memory
                    with open(path, "rb") as fh:
                        while block := fh.read(1 << 20):
                            yield block

                started = time.perf_counter()
                response = client.post(
                    "/api/meter-data", content=stream(), headers={"Content-Type": "text/csv"}
                )
                upload_s = time.perf_counter() - started
                response.raise_for_status()
                print(
                    f"upload:     {upload_s:6.1f} s  ({rows / upload_s:,.0f} rows/s; "
                    f"target ≤ 60 s) rows stored: {response.json()['row_count']:,}"
                )

                started = time.perf_counter()
                response = client.post("/api/settlements", json={"month": args.month})
                settle_s = time.perf_counter() - started
                response.raise_for_status()
                statements = client.get("/api/statements", params={"month": args.month}).json()[
                    "count"
                ]
                print(
                    f"settlement: {settle_s:6.1f} s  (target ≤ 30 s) "
                    f"{response.json()['line_count']:,} lines, {statements:,} statements"
                )
        engine.dispose()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
