"""Statement reads by 50 concurrent clients on loopback: p50/p95/max latency and throughput.

    .venv/bin/python benchmarks/api_statement_reads.py [--clients 50] [--requests 40]

Fills a fresh PostgreSQL database (MZEKARI_TEST_POSTGRES_URL's server) with the Georgia demo
(13 producers, 156 statements), serves it with uvicorn in its own process, and has each
client read its producer's statements (JSON with lines), back to back or every --interval
seconds. Target: p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER = os.environ.get("MZEKARI_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


async def client_loop(base: str, key: str, ids: list[int], requests: int,
                      latencies: list[float], interval_s: float) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        # Each client opens its connection once, unmeasured (a browser or SDK keeps it alive);
        # paced clients then start at independent moments, as users do, not in lockstep.
        (await client.get(f"/api/statements/{ids[0]}")).raise_for_status()
        await asyncio.sleep(random.Random(key).uniform(0, interval_s))
        for i in range(requests):
            started = time.perf_counter()
            response = await client.get(f"/api/statements/{ids[i % len(ids)]}")
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
            if interval_s:  # a user reading a statement, then the next one
                await asyncio.sleep(max(0.0, interval_s - (time.perf_counter() - started)))


async def load(base: str, work: list[tuple[str, list[int]]], requests: int,
               interval_s: float = 0.0) -> tuple[list[float], float]:
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(client_loop(base, key, ids, requests, latencies, interval_s)
                           for key, ids in work))
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="per client")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--interval", type=float, default=0.0,
                        help="seconds between one client's requests (0: back to back)")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    from api.demo import run_demo
    from api.services.keys import create_key
    from api.uow import UnitOfWork

    name = f"mzk_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        with tempfile.TemporaryDirectory() as out:
            run_demo(out, database_url=url)
        from api.db.engine import make_engine

        engine = make_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT producer, id FROM statements")).all()
        by_producer: dict[str, list[int]] = {}
        for producer, statement_id in rows:
            by_producer.setdefault(producer, []).append(statement_id)
        producers = sorted(by_producer)
        work = []
        for i in range(args.clients):
            producer = producers[i % len(producers)]
            with UnitOfWork.for_engine(engine) as uow:
                work.append((create_key(uow, "producer", producer).secret_key,
                             by_producer[producer]))
        engine.dispose()

        env = {**os.environ, "MZEKARI_DATABASE_URL": url}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app",
             "--host", "127.0.0.1", "--port", str(args.port), "--workers", str(args.workers),
             "--log-level", "warning", "--no-access-log"], env=env)
        base = f"http://127.0.0.1:{args.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        latencies, elapsed = asyncio.run(load(base, work, args.requests, args.interval))
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
        p50 = statistics.median(latencies) * 1000
        print(f"{len(latencies):,} statement reads by {args.clients} concurrent clients, "
              f"{args.workers} worker(s), interval {args.interval} s: p50 {p50:.1f} ms, "
              f"p95 {p95:.1f} ms (target ≤ 50 ms), max {latencies[-1] * 1000:.1f} ms, "
              f"{len(latencies) / elapsed:,.0f} req/s")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
