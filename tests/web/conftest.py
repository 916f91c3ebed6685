"""A database seeded through the real service layer (keys, a round taken from draft to
awarded, prices, meter data, three settlement runs, a treasury forecast), served by the real
app: in-process for TestClient tests, and by uvicorn on 127.0.0.1 for the browser tests.

Hand-worked amounts (monthly baseload reference from the `balancing` series):
- Alpha (a1, solar, strike 150.50 GEL/MWh) makes 1 000 kWh in each hour 08–17 Tbilisi time.
  January: 31 × 10 h × 1 MWh = 310 MWh × (150.50 − 101.50) = 15 190.00 paid to Alpha.
  February: 28 × 10 MWh = 280 MWh × (150.50 − 160.25) = −2 730.00 (Alpha pays).
  January corrected to 1 100 kWh an hour: 341 MWh × 49.00 = 16 709.00, so the third run posts
  an adjustment of +1 519.00.
- Beta (b1, wind, strike 140.00) makes 2 000 kWh every hour.
  January: 744 h × 2 MWh = 1 488 MWh × 38.50 = 57 288.00; February: 1 344 MWh × (−20.25)
  = −27 216.00.
- Gamma's hydro bid (95.00) is above the hydro ceiling (90.00); Delta's wind bid (190.00,
  8 000 MWh/year) would need 720 000 GEL of budget where only 242 500 remain after a1 and b1
  ((150.50 − 100) × 15 000 + (140 − 100) × 50 000 = 2 757 500 of 3 000 000).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine

from api.actor import Actor
from api.app import create_app
from api.db.engine import make_engine, make_session_factory, upgrade
from api.services import forecasts, rounds, settlements, uploads
from api.services.keys import create_key
from api.settings import Settings
from api.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ROUND_SPEC = {
    "round_id": "W-2022",
    "name": "Web test round 2022",
    "currency": "GEL",
    "technologies": [
        {"name": "solar", "ceiling_price": "200"},
        {"name": "wind"},
        {"name": "hydro", "ceiling_price": "90"},
    ],
    "budget": {"amount": "3000000", "reference_price": "100"},
}
BIDS = {
    "Alpha": {
        "bid_id": "a1",
        "technology": "solar",
        "capacity_mw": "10",
        "annual_mwh": "15000",
        "price": "150.50",
    },
    "Beta": {
        "bid_id": "b1",
        "technology": "wind",
        "capacity_mw": "20",
        "annual_mwh": "50000",
        "price": "140.00",
    },
    "Gamma": {
        "bid_id": "g1",
        "technology": "hydro",
        "capacity_mw": "5",
        "annual_mwh": "20000",
        "price": "95.00",
    },
    "Delta": {
        "bid_id": "d1",
        "technology": "wind",
        "capacity_mw": "10",
        "annual_mwh": "8000",
        "price": "190.00",
    },
}
PRICES_2022 = {1: "101.50", 2: "160.25", **{m: "120.00" for m in range(3, 13)}}
OPERATOR = Actor("seed-operator", "operator")
TREASURY = Actor("seed-treasury", "treasury")


def _body(text: str) -> tuple[io.BytesIO, str]:
    data = text.encode()
    return io.BytesIO(data), hashlib.sha256(data).hexdigest()


def meter_csv(month: int, alpha_kwh: int, beta_kwh: int | None) -> str:
    lines = ["timestamp,contract_id,energy_kwh"]
    start = pd.Timestamp(f"2022-{month:02d}-01", tz="Asia/Tbilisi")
    for hour in pd.date_range(start, start + pd.offsets.MonthBegin(1), freq="h", inclusive="left"):
        lines.append(f"{hour.isoformat()},W-2022-a1,{alpha_kwh if 8 <= hour.hour < 18 else 0}")
        if beta_kwh is not None:
            lines.append(f"{hour.isoformat()},W-2022-b1,{beta_kwh}")
    return "\n".join(lines) + "\n"


def seed(engine: Engine) -> dict[str, Any]:
    def uow() -> UnitOfWork:
        return UnitOfWork.for_engine(engine)

    keys = {}
    for name, role, producer in (
        ("operator", "operator", None),
        ("treasury", "treasury", None),
        ("admin", "admin", None),
        ("alpha", "producer", "Alpha"),
        ("beta", "producer", "Beta"),
    ):
        with uow() as u:
            keys[name] = create_key(u, role, producer).secret_key
    with uow() as u:
        rounds.create_round(u, OPERATOR, ROUND_SPEC)
    with uow() as u:
        rounds.open_round(u, OPERATOR, "W-2022")
    for producer, bid in BIDS.items():
        with uow() as u:
            rounds.submit_bid(u, Actor(f"seed-{producer}", "producer", producer), "W-2022", bid)
    for step in (rounds.close_round, rounds.clear_round):
        with uow() as u:
            step(u, OPERATOR, "W-2022")
    with uow() as u:
        rounds.award_round(
            u,
            OPERATOR,
            "W-2022",
            rounds.ContractTerms(
                start=date(2022, 1, 1),
                years=15,
                payment_currency="GEL",
                reference_series="balancing",
            ),
        )
    with uow() as u:
        body, sha = _body(
            "month,price\n" + "".join(f"2022-{m:02d},{p}\n" for m, p in PRICES_2022.items())
        )
        uploads.upload_prices(u, OPERATOR, "balancing", "GEL", body, sha)
    runs = []
    for month, alpha_kwh, beta_kwh in ((1, 1000, 2000), (2, 1000, 2000), (1, 1100, None)):
        with uow() as u:
            body, sha = _body(meter_csv(month, alpha_kwh, beta_kwh))
            uploads.upload_meters(u, OPERATOR, body, sha)
        with uow() as u:
            runs.append(settlements.run_settlement(u, OPERATOR, f"2022-{month:02d}").run.id)
    # A second round still open, with one sealed bid, and a forecast job still queued.
    with uow() as u:
        rounds.create_round(
            u, OPERATOR, {**ROUND_SPEC, "round_id": "W-2023", "name": "Web test round 2023"}
        )
    with uow() as u:
        rounds.open_round(u, OPERATOR, "W-2023")
    with uow() as u:
        rounds.submit_bid(
            u,
            Actor("seed-Alpha", "producer", "Alpha"),
            "W-2023",
            {**BIDS["Alpha"], "price": "173.21"},
        )
    with uow() as u:
        queued = forecasts.create_job(u, TREASURY, {"start_month": "2023-01", "months": 12})
    with uow() as u:
        job = forecasts.create_job(
            u,
            TREASURY,
            {
                "start_month": "2022-01",
                "months": 24,
                "scenarios": 200,
                "seed": 7,
                "auction_budget": "600000",
            },
        )
    forecasts.run_job(make_session_factory(engine), job.id)
    with uow() as u:
        statements = {(s.producer, s.month, s.run_id): s.id for s in u.settlements.statements()}
        state = u.jobs.get(job.id)
        assert state is not None and state.status == "done", state and state.error
    return {
        "keys": keys,
        "runs": runs,
        "statements": statements,
        "forecast": job.id,
        "queued_forecast": queued.id,
    }


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    path = tmp_path_factory.mktemp("web") / "web.sqlite"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    data = seed(engine)
    yield SimpleNamespace(url=url, engine=engine, **data)
    engine.dispose()


@pytest.fixture(scope="session")
def web_app(web_db: SimpleNamespace) -> Any:
    return create_app(Settings(database_url=web_db.url), web_db.engine)


@pytest.fixture
def client(web_app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(web_app) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a background thread."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-web-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start", pytrace=False)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(web_app: Any) -> Iterator[str]:
    with serve(web_app) as url:
        yield url


def blank(path: Path) -> SimpleNamespace:
    """A new database with keys only (operator, treasury, admin, producers Alpha and Beta), and
    the app over it: for the tests whose forms change state."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    keys = {}
    for name, role, producer in (
        ("operator", "operator", None),
        ("treasury", "treasury", None),
        ("admin", "admin", None),
        ("alpha", "producer", "Alpha"),
        ("beta", "producer", "Beta"),
    ):
        with UnitOfWork.for_engine(engine) as u:
            keys[name] = create_key(u, role, producer).secret_key
    app = create_app(Settings(database_url=url), engine)
    return SimpleNamespace(url=url, engine=engine, keys=keys, app=app)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's `chromium` and `chromium-driver` "
            "(.ci/run does) to run the browser tests",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def screenshot() -> Any:
    """`screenshot(page, name)` saves a full-page PNG under test-artifacts/screenshots."""

    def take(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
