"""The GO ledger through HTTP on both databases: issuance from stored meter data, transfer and
cancellation, the producer's own account only, audit, export/import, and settlement reading
the ledger exactly as `mzekari settle --guarantees` does; green certificates settled monthly."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete

from api.db import models as m
from mzekari.cli import main
from settlement.ledger import read_lines

TZ = "Asia/Tbilisi"
CONTRACTS = (
    # contract_id, producer, scheme, price, series, double_benefit_share
    ("C1", "Alpha", "cfd", "150.00", "balancing", "0.5"),
    ("G1", "Beta", "green_certificate", "5.00", "certificates", "0"),
)
INSTALLATION = {
    "installation_id": "HPP-7",
    "producer": "Alpha",
    "energy_source": "hydro",
    "installation_type": "run-of-river hydro",
    "location": "Rioni, Imereti",
    "capacity_mw": "5",
    "commissioning_date": "2023-04-01",
    "investment_support": "none",
    "support_scheme": "cfd",
    "production_support": "CfD strike 150.00 GEL/MWh",
    "contract_id": "C1",
}


def _hours(month: str) -> pd.DatetimeIndex:
    start = pd.Timestamp(f"{month}-01", tz=TZ)
    return pd.date_range(start, start + pd.offsets.MonthBegin(1), freq="h", inclusive="left")


def _energy(total_kwh: int, hours: int) -> list[int]:
    each = total_kwh // hours
    return [each + total_kwh - each * hours] + [each] * (hours - 1)


def meter_csv() -> str:
    """C1 1,234,567 kWh in June; G1 1,000,000 kWh (1,000 certificates) a month; June, July."""
    rows = ["timestamp,contract_id,energy_kwh"]
    for cid, month, total in (
        ("C1", "2025-06", 1_234_567),
        ("C1", "2025-07", 1_000_000),
        ("G1", "2025-06", 1_000_000),
        ("G1", "2025-07", 1_000_000),
    ):
        hours = _hours(month)
        for stamp, kwh in zip(hours, _energy(total, len(hours)), strict=True):
            rows.append(f"{stamp.isoformat()},{cid},{kwh}")
    return "\n".join(rows) + "\n"


@pytest.fixture
def market(client, auth, uow_factory):
    with uow_factory() as uow:
        for cid, producer, scheme, price, series, share in CONTRACTS:
            uow.session.add(
                m.Contract(
                    contract_id=cid,
                    producer=producer,
                    scheme=scheme,
                    strike_price=Decimal(price),
                    currency="GEL",
                    start_date=date(2025, 1, 1),
                    end_date=date(2039, 12, 31),
                    capacity_mw=Decimal(5),
                    terms={
                        "reference_basis": "monthly_baseload",
                        "reference_series": series,
                        "double_benefit_share": share,
                    },
                    created_at=datetime.now(UTC),
                )
            )
        uow.commit()
    op = auth("operator")
    for series, body in (
        ("balancing", "month,price\n2025-06,100.00\n2025-07,100.00\n"),
        ("certificates", "month,price\n2025-06,3.00\n2025-07,6.00\n"),
    ):
        assert client.post(f"/api/prices/{series}", content=body, headers=op).status_code == 201
    response = client.post("/api/meter-data", content=meter_csv(), headers=op)
    assert response.status_code == 201, response.text
    response = client.post("/api/guarantees/installations", json=INSTALLATION, headers=op)
    assert response.status_code == 201, response.text
    return client


def on(client, day: date) -> None:
    client.app.state.go_today = lambda: day


def _statement_lines(client, auth, producer_key: str, month: str) -> list[dict]:
    items = client.get(f"/api/statements?month={month}", headers=auth(producer_key)).json()
    (item,) = [i for i in items["items"]]
    return client.get(f"/api/statements/{item['id']}", headers=auth(producer_key)).json()["lines"]


def test_gos_sold_cut_support_identically_in_service_and_command(market, auth, tmp_path: Path):
    client = market
    on(client, date(2025, 7, 3))
    response = client.post(
        "/api/guarantees/issuance",
        json={"installation_id": "HPP-7", "month": "2025-06"},
        headers=auth("producer"),
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["volume"], batch["carried_out_kwh"], batch["metered_kwh"]) == (
        1234,
        567,
        1_234_567,
    )
    assert batch["first_id"] == "GE-HPP-7-202506-0000001"
    assert batch["expires_on"] == "2026-06-30"

    on(client, date(2025, 7, 10))
    transfer = {
        "first_id": "GE-HPP-7-202506-0000001",
        "last_id": "GE-HPP-7-202506-0000400",
        "to_account": "Supplier",
    }
    # Another producer cannot touch (or tell apart) Alpha's GOs; it sees an empty account.
    assert (
        client.post(
            "/api/guarantees/transfer", json=transfer, headers=auth("producer_b")
        ).status_code
        == 404
    )
    assert client.get("/api/guarantees/account", headers=auth("producer_b")).json()["count"] == 0
    response = client.post("/api/guarantees/transfer", json=transfer, headers=auth("producer"))
    assert response.status_code == 200, response.text
    own = client.get("/api/guarantees/account", headers=auth("producer")).json()["items"]
    assert [(h["first_id"][-4:], h["last_id"][-4:], h["holder"]) for h in own] == [
        ("0401", "1234", "Alpha")
    ]

    response = client.post("/api/settlements", json={"month": "2025-06"}, headers=auth("operator"))
    assert response.status_code == 201, response.text
    lines = {ln["kind"]: ln for ln in _statement_lines(client, auth, "producer", "2025-06")}
    # (150 − 100) × 1,234.567 MWh; reduction 0.5 × 400 MWh × 50.
    assert Decimal(lines["support"]["amount"]) == Decimal("61728.35")
    db_line = lines["double_benefit"]
    assert Decimal(db_line["amount"]) == Decimal("-10000.00")
    assert "GE-HPP-7-202506-0000001…GE-HPP-7-202506-0000400" in db_line["explanation"]
    # Green certificates, June: 1,000 × (5.00 − 3.00).
    (gc,) = _statement_lines(client, auth, "producer_b", "2025-06")
    assert (gc["kind"], Decimal(gc["amount"])) == ("support", Decimal("2000.00"))

    # The same month through the command line, from the service's own export.
    export = client.get("/api/guarantees/export", headers=auth("operator"))
    assert export.status_code == 200
    (tmp_path / "ledger.csv").write_text(export.text)
    (tmp_path / "meters.csv").write_text(meter_csv())
    (tmp_path / "balancing.csv").write_text("month,price\n2025-06,100.00\n")
    (tmp_path / "certificates.csv").write_text("month,price\n2025-06,3.00\n")
    with (tmp_path / "contracts.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "contract_id",
                "producer",
                "scheme",
                "price",
                "currency",
                "start",
                "end",
                "capacity_mw",
                "reference_basis",
                "reference_series",
                "double_benefit_share",
            ]
        )
        for cid, producer, scheme, price, series, share in CONTRACTS:
            writer.writerow(
                [
                    cid,
                    producer,
                    scheme,
                    price,
                    "GEL",
                    "2025-01-01",
                    "2039-12-31",
                    "5",
                    "monthly_baseload",
                    series,
                    share,
                ]
            )
    assert (
        main(
            [
                "settle",
                "--contracts",
                str(tmp_path / "contracts.csv"),
                "--prices",
                f"balancing={tmp_path / 'balancing.csv'}",
                f"certificates={tmp_path / 'certificates.csv'}",
                "--meters",
                str(tmp_path / "meters.csv"),
                "--month",
                "2025-06",
                "--tz",
                TZ,
                "--guarantees",
                str(tmp_path / "ledger.csv"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    cli = {(ln.contract_id, ln.kind): ln for ln in read_lines(tmp_path / "out" / "lines.csv")}
    for kind, line in lines.items():
        assert (cli["C1", kind].line_id, cli["C1", kind].amount, cli["C1", kind].explanation) == (
            line["line_id"],
            Decimal(line["amount"]),
            line["explanation"],
        )
    assert cli["G1", "support"].line_id == gc["line_id"]

    # July: the certificate price 6.00 is above the guaranteed 5.00: nothing is paid.
    response = client.post("/api/settlements", json={"month": "2025-07"}, headers=auth("operator"))
    assert response.status_code == 201, response.text
    (gc_july,) = _statement_lines(client, auth, "producer_b", "2025-07")
    assert Decimal(gc_july["amount"]) == Decimal("0.00")


def test_cancel_once_audited_and_export_import_reproduces_the_ledger(market, auth, uow_factory):
    client = market
    op = auth("operator")
    on(client, date(2025, 7, 3))
    issued = client.post(
        "/api/guarantees/issuance",
        json={"installation_id": "HPP-7", "month": "2025-06"},
        headers=auth("producer"),
    )
    assert issued.status_code == 201, issued.text
    # A month is issued once.
    again = client.post(
        "/api/guarantees/issuance",
        json={"installation_id": "HPP-7", "month": "2025-06"},
        headers=auth("producer"),
    )
    assert again.status_code == 409
    cancel = {
        "first_id": "GE-HPP-7-202506-0000401",
        "last_id": "GE-HPP-7-202506-0000410",
        "beneficiary": "Tbilisi Metro",
    }
    on(client, date(2026, 6, 30))  # the last day of validity
    first = client.post("/api/guarantees/cancel", json=cancel, headers=auth("producer"))
    assert first.status_code == 200, first.text
    assert first.json()["items"][1]["status"] == "cancelled"
    second = client.post("/api/guarantees/cancel", json=cancel, headers=auth("producer"))
    assert second.status_code == 409
    on(client, date(2026, 7, 1))
    late = {**cancel, "first_id": "GE-HPP-7-202506-0000411", "last_id": "GE-HPP-7-202506-0000411"}
    expired = client.post("/api/guarantees/cancel", json=late, headers=auth("producer"))
    assert expired.status_code == 409
    assert "expired" in expired.json()["detail"]
    bad = client.post("/api/guarantees/cancel", json={**cancel, "first_id": "../x"}, headers=op)
    assert bad.status_code == 422

    audit = client.get("/api/audit?limit=100", headers=op).json()
    actions = [e["action"] for e in audit["items"]]
    for action in ("guarantee.installation", "guarantee.issue", "guarantee.cancel"):
        assert action in actions
    assert actions.count("guarantee.cancel") == 1  # refused requests write nothing

    exported = client.get("/api/guarantees/export", headers=op).text
    with uow_factory() as uow:
        uow.session.execute(delete(m.GoHolding))
        uow.session.execute(delete(m.GoBatch))
        uow.commit()
    assert client.get("/api/guarantees/export", headers=op).text.count("\n") == 1
    response = client.post("/api/guarantees/import", content=exported, headers=op)
    assert response.status_code == 200, response.text
    assert response.json()["added"] == ["GE-HPP-7-202506"]
    assert client.get("/api/guarantees/export", headers=op).text == exported
    # The same file again changes nothing; a producer may not import.
    assert client.post("/api/guarantees/import", content=exported, headers=op).json()[
        "unchanged"
    ] == ["GE-HPP-7-202506"]
    denied = client.post("/api/guarantees/import", content=exported, headers=auth("producer"))
    assert denied.status_code == 403
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {r["status"] for r in rows} == {"active", "cancelled"}
    assert client.get("/api/audit/verify", headers=op).json()["valid"] is True


HOSTILE = ("", "-1", "9" * 30, "é" * 600)


def test_hostile_import_cells_answer_4xx_and_write_nothing(client, auth):
    from settlement.guarantee_io import COLUMNS, Ledger, write_ledger_text
    from settlement.guarantees import Installation, initial_holdings, issue_batch

    inst = Installation(
        "WPP-1", "Gamma", "wind", "onshore wind", "Kartli", Decimal("20.5"), date(2016, 9, 1)
    )
    batch = issue_batch(inst, "2025-06", 5_000_500, date(2025, 7, 3))
    good = write_ledger_text(Ledger({batch.batch_id: batch}, initial_holdings(batch)))
    (row,) = list(csv.DictReader(io.StringIO(good)))
    op = auth("operator")
    statuses = set()
    for column in COLUMNS:
        for value in HOSTILE:
            if value == row[column]:
                continue
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerow({**row, column: value})
            response = client.post("/api/guarantees/import", content=out.getvalue(), headers=op)
            statuses.add(response.status_code)
            assert response.status_code in (200, 409, 422), (column, value, response.text)
            exported = client.get("/api/guarantees/export", headers=op).text
            if response.status_code == 200:  # a value the ledger accepts: it reads back
                assert exported.count("\n") == 2, (column, value)
                _clear_ledger(client)
            else:
                assert exported.count("\n") == 1, (column, value)
    assert 422 in statuses
    assert client.get("/api/guarantees/export", headers=op).text.count("\n") == 1
    response = client.post("/api/guarantees/import", content=good, headers=op)
    assert response.status_code == 200 and response.json()["added"] == [batch.batch_id]


def _clear_ledger(client) -> None:
    from sqlalchemy.orm import Session

    with Session(client.app.state.engine) as session:
        session.execute(delete(m.GoHolding))
        session.execute(delete(m.GoBatch))
        session.commit()
