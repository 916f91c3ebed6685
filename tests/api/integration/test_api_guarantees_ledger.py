"""The GO ledger's service on both databases: imports that would count a MWh twice or point
at another producer's contract write nothing; a transfer after a month was settled makes the
next run post the double benefit as an adjustment."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import func, select

from api.actor import Actor, Conflict
from api.db import models as m
from api.services import guarantees, settlements
from mzekari.errors import InputError

OPERATOR = Actor("op-key", "operator")
ALPHA = Actor("alpha-key", "producer", "Alpha")
TZ = "Asia/Tbilisi"
TODAY = date(2025, 8, 1)


@pytest.fixture
def ledger(uow_factory):
    """C1 (Alpha, CfD 150 on a monthly price of 100, double-benefit share 0.5), June 2025
    metered 1,000 kWh an hour (720 MWh), HPP-7's June GOs issued."""
    with uow_factory() as uow:
        uow.session.add_all(
            [
                m.Contract(
                    contract_id="C1",
                    producer="Alpha",
                    scheme="cfd",
                    strike_price=Decimal("150.00"),
                    currency="GEL",
                    start_date=date(2025, 1, 1),
                    end_date=date(2039, 12, 31),
                    capacity_mw=Decimal(5),
                    terms={
                        "reference_basis": "monthly_baseload",
                        "reference_series": "balancing",
                        "double_benefit_share": "0.5",
                    },
                    created_at=datetime.now(UTC),
                ),
                m.PriceSeries(name="balancing", currency="GEL", resolution_s=0),
            ]
        )
        uow.session.flush()
        start = pd.Timestamp("2025-06-01", tz=TZ)
        uow.session.add(
            m.PricePoint(series="balancing", ts=start.to_pydatetime(), price=Decimal("100.00"))
        )
        contract_pk = uow.contracts.get("C1").id
        hours = pd.date_range(start, periods=720, freq="h")
        uow.session.add_all(
            m.MeterReading(contract_pk=contract_pk, ts=t.to_pydatetime(), energy_kwh=1000)
            for t in hours
        )
        uow.commit()
    with uow_factory() as uow:
        guarantees.register_installation(
            uow,
            OPERATOR,
            {
                "installation_id": "HPP-7",
                "producer": "Alpha",
                "energy_source": "hydro",
                "installation_type": "run-of-river hydro",
                "location": "Rioni",
                "capacity_mw": Decimal(5),
                "commissioning_date": date(2023, 4, 1),
                "support_scheme": "cfd",
                "contract_id": "C1",
            },
            date(2025, 7, 1),
        )
    with uow_factory() as uow:
        batch, _ = guarantees.issue(uow, ALPHA, "HPP-7", "2025-06", date(2025, 7, 2))
    assert batch.volume == 720
    return batch


def _counts(uow_factory) -> tuple[int, int, int]:
    with uow_factory() as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(table))
            for table in (m.GoBatch, m.GoHolding, m.AuditEntry)
        )


def test_imports_that_double_count_or_name_a_foreign_contract_write_nothing(ledger, uow_factory):
    with uow_factory() as uow:
        exported = guarantees.export_ledger(uow, OPERATOR)
    rows = list(csv.DictReader(io.StringIO(exported)))
    before = _counts(uow_factory)

    def text(changed: dict[str, str]) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerow({**rows[0], **changed})
        return out.getvalue()

    # The same batch with other 15(12) fields: a conflict.
    with uow_factory() as uow, pytest.raises(Conflict, match="other fields"):
        guarantees.import_ledger(uow, OPERATOR, text({"device_location": "Kutaisi"}), TODAY)
    # The same installation and month under another batch id: one MWh counted once.
    renamed = {
        "batch_id": "GE-HPP-7-JUNE",
        "certificate_id_from": "GE-HPP-7-JUNE-0000001",
        "certificate_id_to": "GE-HPP-7-JUNE-0000720",
    }
    with uow_factory() as uow, pytest.raises(Conflict, match="counted once"):
        guarantees.import_ledger(uow, OPERATOR, text(renamed), TODAY)
    # A domestic batch naming a contract of another producer.
    foreign_contract = {**renamed, "production_device_id": "HPP-8", "issued_to": "Beta"}
    with uow_factory() as uow, pytest.raises(InputError, match="no contract"):
        guarantees.import_ledger(uow, OPERATOR, text(foreign_contract), TODAY)
    assert _counts(uow_factory) == before


def test_a_later_registry_export_moves_gos_on_but_never_undoes_a_use(ledger, uow_factory):
    with uow_factory() as uow:
        guarantees.cancel_gos(
            uow,
            ALPHA,
            "GE-HPP-7-202506-0000001",
            "GE-HPP-7-202506-0000010",
            "Tbilisi Metro",
            date(2025, 7, 5),
        )
    with uow_factory() as uow:
        rows = list(csv.DictReader(io.StringIO(guarantees.export_ledger(uow, OPERATOR))))
    cancelled, active = rows

    def text(*body: dict[str, str]) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(cancelled), lineterminator="\n")
        writer.writeheader()
        writer.writerows(body)
        return out.getvalue()

    # The registry says the active run was sold to a supplier since: the ledger follows.
    with uow_factory() as uow:
        outcome = guarantees.import_ledger(
            uow, OPERATOR, text(cancelled, {**active, "account": "Supplier"}), TODAY
        )
    assert (outcome.added, outcome.updated) == ([], ["GE-HPP-7-202506"])
    with uow_factory() as uow:
        holders = [(h.first, h.holder) for _, h in guarantees.account_holdings(uow, OPERATOR)]
    assert holders == [(1, "Alpha"), (11, "Supplier")]
    # An export where the cancelled GOs are active again would undo their use.
    before = _counts(uow_factory)
    revived = {**cancelled, "status": "active", "cancelled_on": "", "beneficiary": ""}
    with uow_factory() as uow, pytest.raises(Conflict, match="never undone"):
        guarantees.import_ledger(
            uow, OPERATOR, text(revived, {**active, "account": "Supplier"}), TODAY
        )
    assert _counts(uow_factory) == before


def test_a_transfer_after_settlement_is_posted_as_an_adjustment(ledger, uow_factory):
    with uow_factory() as uow:
        first = settlements.run_settlement(uow, OPERATOR, "2025-06")
    with uow_factory() as uow:
        guarantees.transfer_gos(
            uow,
            ALPHA,
            "GE-HPP-7-202506-0000001",
            "GE-HPP-7-202506-0000100",
            "Supplier",
            date(2025, 7, 20),
        )
    with uow_factory() as uow:
        second = settlements.run_settlement(uow, OPERATOR, "2025-06")
        assert second.run.id != first.run.id and not second.replayed
        lines = uow.session.scalars(
            select(m.SettlementLine).join(m.Statement).where(m.Statement.run_id == second.run.id)
        ).all()
    # 0.5 × 100 MWh × (150 − 100) = 2,500.00 less support, posted as a new line.
    assert [(ln.kind, ln.adjusted_kind, ln.amount_minor) for ln in lines] == [
        ("adjustment", "double_benefit", -250_000)
    ]
    assert "GE-HPP-7-202506-0000001…GE-HPP-7-202506-0000100" in lines[0].explanation
    with uow_factory() as uow:
        again = settlements.run_settlement(uow, OPERATOR, "2025-06")
    assert again.replayed
