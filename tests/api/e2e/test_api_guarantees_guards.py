"""Attacks on the GO ledger through HTTP, on both databases: a contract's MWh issued twice
(a second installation, an import over issued months, an import unlike the register), a
producer probing another's GOs through 404 texts, accounts a spreadsheet would run or nobody
can reach, impossible months and commissioning dates. Every refusal writes nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import func, select

from api.db import models as m

TZ = "Asia/Tbilisi"
HPP = {
    "installation_id": "HPP-7",
    "producer": "Alpha",
    "energy_source": "hydro",
    "installation_type": "run-of-river hydro",
    "location": "Rioni, Imereti",
    "capacity_mw": "5",
    "commissioning_date": "2023-04-01",
    "support_scheme": "cfd",
    "contract_id": "C1",
}
JUNE = {"installation_id": "HPP-7", "month": "2025-06"}


@pytest.fixture
def issued(client, auth, uow_factory):
    """Contracts C1 (Alpha, CfD) and G1 (Beta, green certificates); C1 metered 1,000 kWh an
    hour in June 2025; HPP-7 registered on C1 and its June GOs (720) issued to Alpha."""
    with uow_factory() as uow:
        for cid, producer, scheme in (("C1", "Alpha", "cfd"), ("G1", "Beta", "green_certificate")):
            uow.session.add(
                m.Contract(
                    contract_id=cid,
                    producer=producer,
                    scheme=scheme,
                    strike_price=Decimal("150.00"),
                    currency="GEL",
                    start_date=date(2025, 1, 1),
                    end_date=date(2039, 12, 31),
                    capacity_mw=Decimal(5),
                    terms={"reference_basis": "monthly_baseload", "reference_series": "b"},
                    created_at=datetime.now(UTC),
                )
            )
        uow.session.flush()
        pk = uow.contracts.get("C1").id
        start = pd.Timestamp("2025-06-01", tz=TZ)
        uow.session.add_all(
            m.MeterReading(contract_pk=pk, ts=t.to_pydatetime(), energy_kwh=1000)
            for t in pd.date_range(start, periods=720, freq="h")
        )
        uow.commit()
    client.app.state.go_today = lambda: date(2025, 7, 3)
    op = auth("operator")
    assert client.post("/api/guarantees/installations", json=HPP, headers=op).status_code == 201
    response = client.post("/api/guarantees/issuance", json=JUNE, headers=auth("producer"))
    assert response.status_code == 201, response.text
    assert response.json()["volume"] == 720
    return client


def _written(uow_factory) -> tuple[int, ...]:
    with uow_factory() as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(table))
            for table in (m.GoInstallation, m.GoBatch, m.GoHolding, m.AuditEntry)
        )


def _export_rows(client, auth) -> list[dict[str, str]]:
    text = client.get("/api/guarantees/export", headers=auth("operator")).text
    return list(csv.DictReader(io.StringIO(text)))


def _csv(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_a_contract_has_one_installation_and_future_commissioning_is_refused(
    issued, auth, uow_factory
):
    op = auth("operator")
    before = _written(uow_factory)
    second = {**HPP, "installation_id": "HPP-8"}
    response = issued.post("/api/guarantees/installations", json=second, headers=op)
    assert response.status_code == 409, response.text
    assert "HPP-7" in response.json()["detail"]
    future = {**HPP, "installation_id": "HPP-9", "contract_id": None, "support_scheme": "none"}
    future["commissioning_date"] = "9999-12-31"
    response = issued.post("/api/guarantees/installations", json=future, headers=op)
    assert response.status_code == 422, response.text
    assert _written(uow_factory) == before


def test_imports_over_issued_months_or_unlike_the_register_write_nothing(issued, auth, uow_factory):
    op = auth("operator")
    (june,) = _export_rows(issued, auth)
    # HPP-7's production from May to July, although June is issued: June counted twice.
    overlapping = {
        **june,
        "batch_id": "GE-HPP-7-202507",
        "certificate_id_from": "GE-HPP-7-202507-0000001",
        "certificate_id_to": "GE-HPP-7-202507-0002000",
        "volume_mwh": "2000",
        "batch_volume_mwh": "2000",
        "metered_kwh": "2000000",
        "production_period_start": "2025-05-01",
        "production_period_end": "2025-07-31",
        "issue_date": "2025-08-02",
    }
    # Beta's registered installation, issued to Alpha on Alpha's contract.
    beta = {
        **HPP,
        "installation_id": "HPP-9",
        "producer": "Beta",
        "support_scheme": "green_certificate",
        "contract_id": "G1",
    }
    assert issued.post("/api/guarantees/installations", json=beta, headers=op).status_code == 201
    unlike = {
        **june,
        "batch_id": "GE-HPP-9-202506",
        "certificate_id_from": "GE-HPP-9-202506-0000001",
        "certificate_id_to": "GE-HPP-9-202506-0000720",
        "production_device_id": "HPP-9",
    }
    issued.app.state.go_today = lambda: date(2025, 8, 3)
    before = _written(uow_factory)
    for row, says in ((overlapping, "already counted"), (unlike, "registered with other")):
        response = issued.post("/api/guarantees/import", content=_csv(row), headers=op)
        assert response.status_code == 409, response.text
        assert says in response.json()["detail"]
    assert _written(uow_factory) == before
    # July is refused only for its missing meter data, not as already issued.
    response = issued.post(
        "/api/guarantees/issuance", json={**JUNE, "month": "2025-07"}, headers=auth("producer")
    )
    assert response.status_code == 422 and "fully metered" in response.text


def test_another_producers_gos_and_missing_ones_answer_one_identical_404(issued, auth, uow_factory):
    beta = auth("producer_b")
    before = _written(uow_factory)
    ranges = (
        ("GE-NOPE-202506-0000001", "GE-NOPE-202506-0000001"),  # no such batch
        ("GE-HPP-7-202506-0000001", "GE-HPP-7-202506-0000010"),  # Alpha's GOs
        ("GE-HPP-7-202506-0000700", "GE-HPP-7-202506-0000721"),  # past the batch's volume
    )
    bodies = set()
    for first, last in ranges:
        for path, extra in (("transfer", {"to_account": "x"}), ("cancel", {"beneficiary": "c"})):
            body = {"first_id": first, "last_id": last, **extra}
            response = issued.post(f"/api/guarantees/{path}", json=body, headers=beta)
            assert response.status_code == 404, response.text
            bodies.add(response.content)
    assert len(bodies) == 1
    assert _written(uow_factory) == before


UNREACHABLE_OR_FORMULA = ("Alpha ", " Supplier", '=HYPERLINK("http://x")', "+1", "@SUM(A1)", "a\tb")


def test_accounts_nobody_can_reach_or_a_spreadsheet_would_run_are_refused(
    issued, auth, uow_factory
):
    before = _written(uow_factory)
    (june,) = _export_rows(issued, auth)
    gos = {"first_id": "GE-HPP-7-202506-0000001", "last_id": "GE-HPP-7-202506-0000010"}
    for name in UNREACHABLE_OR_FORMULA:
        for path, body in (
            ("transfer", {**gos, "to_account": name}),
            ("cancel", {**gos, "beneficiary": name}),
        ):
            response = issued.post(f"/api/guarantees/{path}", json=body, headers=auth("producer"))
            assert response.status_code == 422, (name, response.text)
        if name == name.strip():  # a file's cells are read without edge spaces
            response = issued.post(
                "/api/guarantees/import",
                content=_csv({**june, "account": name}),
                headers=auth("operator"),
            )
            assert response.status_code == 422, (name, response.text)
    assert _written(uow_factory) == before


def test_impossible_months_commissioning_and_future_cancellations_are_refused(
    issued, auth, uow_factory
):
    before = _written(uow_factory)
    for month in ("0001-01", "0000-05", "9999-12"):
        response = issued.post(
            "/api/guarantees/issuance", json={**JUNE, "month": month}, headers=auth("producer")
        )
        assert response.status_code == 422, (month, response.text)
    (june,) = _export_rows(issued, auth)
    cancelled = {**june, "status": "cancelled", "beneficiary": "Metro"}
    for day in ("2099-01-01", "2026-07-01"):  # in the future; after the GOs' expiry
        response = issued.post(
            "/api/guarantees/import",
            content=_csv({**cancelled, "cancelled_on": day}),
            headers=auth("operator"),
        )
        assert response.status_code == 422, (day, response.text)
    assert _written(uow_factory) == before


def test_nul_and_control_characters_answer_422_and_write_nothing(issued, auth, uow_factory):
    op = auth("operator")
    before = _written(uow_factory)
    gos = {"first_id": "GE-HPP-7-202506-0000001", "last_id": "GE-HPP-7-202506-0000010"}
    for path, body in (
        ("installations", {**HPP, "installation_id": "HPP-8", "location": "Ra\x00cha"}),
        ("installations", {**HPP, "installation_id": "HPP-8", "contract_id": "C\x001"}),
        ("transfer", {**gos, "to_account": "bu\x00yer"}),
        ("transfer", {**gos, "to_account": "buyer", "account": "Al\x00pha"}),
        ("cancel", {**gos, "beneficiary": "c\x00"}),
    ):
        response = issued.post(f"/api/guarantees/{path}", json=body, headers=op)
        assert response.status_code == 422, (path, body, response.text)
    response = issued.get("/api/guarantees/account?holder=a%00b", headers=op)
    assert response.status_code == 422, response.text
    (june,) = _export_rows(issued, auth)
    for column in ("account", "device_location", "contract_id"):
        response = issued.post(
            "/api/guarantees/import", content=_csv({**june, column: "a\x00b"}), headers=op
        )
        assert response.status_code == 422, (column, response.text)
    assert _written(uow_factory) == before
