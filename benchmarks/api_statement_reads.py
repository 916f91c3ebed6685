"""Statement reads by concurrent clients on loopback: latency percentiles, throughput, CPU.

    .venv/bin/python benchmarks/api_statement_reads.py [--database postgresql|sqlite|both]
        [--clients 50] [--requests 40] [--workers N] [--paced-requests 10] [--interval 1]

Fills a fresh database (PostgreSQL: a new database on MZEKARI_TEST_POSTGRES_URL's server;
SQLite: a temporary file) with the Georgia demo (13 producers, 156 statements), starts
`mzekari serve` on 127.0.0.1, and gives each client a producer key. Three bounded phases:

- first reads: each client reads each of its producer's statements once (includes the reads
  that load and render a statement, once per statement and worker process);
- back to back: each client sends --requests reads, the next as soon as the last is answered;
- paced: each client sends --paced-requests reads, one every --interval seconds, starting at
  independent moments.

The load generator is one asyncio process holding one keep-alive connection per client and
speaking HTTP/1.1 on the socket directly, so it takes little of the CPU it shares with the
server; its CPU share and the server's are printed with each phase. Target: p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER = os.environ.get(
    "MZEKARI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Client:
    key: str
    ids: list[int]
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None


async def read_statement(client: Client, port: int, statement_id: int) -> None:
    assert client.reader is not None and client.writer is not None
    client.writer.write(
        f"GET /api/statements/{statement_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}"
        f"\r\nAuthorization: Bearer {client.key}\r\n\r\n".encode()
    )
    head = await client.reader.readuntil(b"\r\n\r\n")
    lowered = head.lower()
    start = lowered.index(b"content-length:") + 15
    length = int(lowered[start : lowered.index(b"\r\n", start)])
    body = await client.reader.readexactly(length)
    if head[9:12] != b"200" or not body.startswith(b"{"):
        raise RuntimeError(f"statement {statement_id}: {head[:12]!r} {body[:200]!r}")


async def phase(
    clients: list[Client], port: int, requests: int | None, interval_s: float
) -> tuple[list[float], float, float]:
    """(latencies, wall seconds, load generator CPU seconds). requests=None: each client
    reads each of its statements once."""
    latencies: list[float] = []

    async def run(client: Client) -> None:
        rng = random.Random(client.key)
        await asyncio.sleep(rng.uniform(0, interval_s))
        offset = rng.randrange(len(client.ids))
        count = len(client.ids) if requests is None else requests
        for i in range(count):
            started = time.perf_counter()
            await read_statement(client, port, client.ids[(offset + i) % len(client.ids)])
            latencies.append(time.perf_counter() - started)
            if interval_s:
                await asyncio.sleep(max(0.0, interval_s - (time.perf_counter() - started)))

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(run(c) for c in clients))
    return latencies, time.perf_counter() - wall, time.process_time() - cpu


def process_tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants so far (Linux /proc)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def report(
    label: str, latencies: list[float], wall_s: float, client_cpu_s: float, server_cpu_s: float
) -> None:
    q = statistics.quantiles([x * 1000 for x in latencies], n=100, method="inclusive")
    print(
        f"  {label:<13} {len(latencies):>6,} reads  p50 {q[49]:6.1f} ms  p95 {q[94]:6.1f} ms"
        f"  p99 {q[98]:6.1f} ms  max {max(latencies) * 1000:6.1f} ms  "
        f"{len(latencies) / wall_s:6,.0f} req/s  CPU: load generator "
        f"{client_cpu_s / wall_s:4.0%}, server {server_cpu_s / wall_s:4.0%} of one core",
        flush=True,
    )


async def measure(
    clients: list[Client], port: int, server_pid: int, args: argparse.Namespace
) -> None:
    for client in clients:
        client.reader, client.writer = await asyncio.open_connection("127.0.0.1", port)
    phases = [("first reads", None, 0.0), ("back to back", args.requests, 0.0)]
    if args.paced_requests:
        phases.append((f"paced {args.interval:g} s", args.paced_requests, args.interval))
    for label, requests, interval_s in phases:
        server_cpu = process_tree_cpu_s(server_pid)
        latencies, wall_s, client_cpu_s = await phase(clients, port, requests, interval_s)
        report(label, latencies, wall_s, client_cpu_s, process_tree_cpu_s(server_pid) - server_cpu)
    for client in clients:
        assert client.writer is not None
        client.writer.close()


def fill(url: str, clients: int) -> list[Client]:
    """The demo into `url`, and one producer key per client (producers taken in turn)."""
    from api.db.engine import make_engine
    from api.demo import run_demo
    from api.services.keys import create_key
    from api.uow import UnitOfWork

    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
        run_demo(out, database_url=url)
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT producer, id FROM statements")).all()
    by_producer: dict[str, list[int]] = {}
    for producer, statement_id in rows:
        by_producer.setdefault(producer, []).append(statement_id)
    producers = sorted(by_producer)
    out_clients = []
    for i in range(clients):
        producer = producers[i % len(producers)]
        with UnitOfWork.for_engine(engine) as uow:
            key = create_key(uow, "producer", producer).secret_key
        out_clients.append(Client(key, sorted(by_producer[producer])))
    engine.dispose()
    return out_clients


def serve_and_measure(url: str, clients: list[Client], args: argparse.Namespace) -> None:
    env = {**os.environ, "MZEKARI_DATABASE_URL": url}
    command = [
        sys.executable,
        "-c",
        "import sys; from mzekari.cli import main; sys.exit(main(sys.argv[1:]))",
        "serve",
        "--port",
        str(args.port),
        "--no-access-log",
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", args.port), 1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        time.sleep(1.0)  # every worker process up, not only the first
        try:
            import uvloop

            run = uvloop.run
        except ImportError:
            run = asyncio.run
        run(measure(clients, args.port, server.pid, args))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="per client, back to back")
    parser.add_argument("--paced-requests", type=int, default=10, help="per client; 0: none")
    parser.add_argument("--interval", type=float, default=1.0, help="paced: seconds apart")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="serve's worker processes (default: serve's own default)",
    )
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    for database in ("postgresql", "sqlite") if args.database == "both" else (args.database,):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"{database}: {args.clients} clients, workers "
            f"{args.workers or 'default'}, load average before {load}",
            flush=True,
        )
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'reads.sqlite'}"
                serve_and_measure(url, fill(url, args.clients), args)
            continue
        name = f"mzk_load_{uuid.uuid4().hex[:8]}"
        admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
        try:
            serve_and_measure(url, fill(url, args.clients), args)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
