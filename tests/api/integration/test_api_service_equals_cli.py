"""The service settles what the command line settles, to the line.

The shipped scenario (18 contracts, every scheme and rule, curtailment and guarantee-of-origin
columns, Europe/Berlin months) goes through the service's uploads and settlement run on a fresh
database, and through `mzekari settle` on the same files; the statements and their lines must
be equal, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from api.actor import SYSTEM
from api.db import models as m
from api.db.engine import make_engine
from api.services.settlements import run_settlement, statement_document
from api.services.uploads import (
    upload_cpi,
    upload_fx_rates,
    upload_meters,
    upload_prices,
    upload_profile,
)
from api.uow import UnitOfWork
from mzekari.cli import main

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "scenarios" / "settlement_de_2025"
PRICES = ROOT / "scenarios" / "prices" / "de_lu_day_ahead_2025.csv"
COLUMNS = {"contract_id", "producer", "scheme", "price", "currency", "start", "end", "capacity_mw"}
LINE_FIELDS = ("contract_id", "kind", "reference_series", "eligible_kwh", "excluded_kwh",
               "direction", "corrects_line_id", "explanation")  # fmt: skip


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _upload(body_path: Path, upload, uow: UnitOfWork, *args: str) -> None:
    data = body_path.read_bytes()
    with body_path.open("rb") as body:
        upload(uow, SYSTEM, *args, body, hashlib.sha256(data).hexdigest())


def _service_run(
    database_url: str, contracts: Path, prices: Path, meters: Path, month: str, **rates: Path
) -> list[dict]:
    engine = make_engine(database_url)
    try:
        with UnitOfWork.for_engine(engine) as uow:
            for row in _read(contracts):
                uow.session.add(
                    m.Contract(
                        contract_id=row["contract_id"],
                        producer=row["producer"],
                        scheme=row["scheme"],
                        strike_price=Decimal(row["price"]),
                        currency=row["currency"],
                        start_date=date.fromisoformat(row["start"]),
                        end_date=date.fromisoformat(row["end"]),
                        capacity_mw=Decimal(row["capacity_mw"]),
                        terms={k: v for k, v in row.items() if k not in COLUMNS and v != ""},
                        created_at=datetime.now(UTC),
                    )
                )
            uow.commit()
        currency = _read(contracts)[0]["currency"]
        with UnitOfWork.for_engine(engine) as uow:
            _upload(prices, upload_prices, uow, "dam", currency)
        with UnitOfWork.for_engine(engine) as uow:
            _upload(meters, upload_meters, uow)
        for kind, upload in (("fx", upload_fx_rates), ("cpi", upload_cpi)):
            if kind in rates:
                with UnitOfWork.for_engine(engine) as uow:
                    _upload(rates[kind], upload, uow)
        if "profile" in rates:  # named by the file: solar.csv is the profile `solar`
            with UnitOfWork.for_engine(engine) as uow:
                _upload(rates["profile"], upload_profile, uow, rates["profile"].stem)
        with UnitOfWork.for_engine(engine) as uow:
            run = run_settlement(uow, SYSTEM, month).run
            ids = list(
                uow.session.scalars(
                    m.Statement.__table__.select()
                    .with_only_columns(m.Statement.__table__.c.id)
                    .where(m.Statement.__table__.c.run_id == run.id)
                )
            )
            return [statement_document(uow, SYSTEM, i) for i in ids]
    finally:
        engine.dispose()


def _cli_run(
    out: Path, contracts: Path, prices: Path, meters: Path, month: str, **rates: Path
) -> None:
    files = {"contracts": contracts, "prices": prices, "meters": meters, **rates}
    args = ["settle", "--month", month, "--out", str(out)]
    for flag, path in files.items():
        args += [f"--{flag}", f"{path.stem}={path}" if flag == "profile" else str(path)]
    assert main(args) == 0


def _assert_equal(service_statements: list[dict], out: Path) -> set[str]:
    """Statements and lines equal field by field; the kinds of line seen."""
    cli_statements = {s["producer"]: s for s in _read(out / "statements.csv")}
    cli_lines = {ln["line_id"]: ln for ln in _read(out / "lines.csv")}
    assert {s["producer"] for s in service_statements} == set(cli_statements)
    kinds = set()
    for st in service_statements:
        mine = cli_statements[st["producer"]]
        for total in ("paid_to_producer", "paid_by_producer", "reductions", "net"):
            assert st[total] == Decimal(mine[total]), (st["producer"], total)
        assert len(st["lines"]) == int(mine["lines"])
        for line in st["lines"]:
            theirs = cli_lines.pop(line["line_id"])
            kinds.add(line["kind"])
            assert line["amount"] == Decimal(theirs["amount"])
            for name in ("reference_price", "rate"):
                value = "" if line[name] is None else format(Decimal(line[name]), "f")
                assert value == theirs[name], (line["line_id"], name)
            for name in LINE_FIELDS:
                assert str(line[name] if line[name] is not None else "") == theirs[name], name
    assert cli_lines == {}  # every line of the command line's run is in the service's
    return kinds


def test_the_service_settles_the_scenario_as_the_command_line_does(tmp_path, database_url):
    files = (SCENARIO / "contracts.csv", PRICES, SCENARIO / "meters.csv", "2025-06")
    _cli_run(tmp_path / "cli", *files)
    kinds = _assert_equal(_service_run(database_url, *files), tmp_path / "cli")
    # The scenario exercises the rules the service used to refuse (Art. 15(6), Art. 16).
    assert {"support", "curtailment", "double_benefit"} <= kinds


def test_a_december_annual_true_up_in_the_service_uses_the_years_meters(tmp_path, database_url):
    tz = "Asia/Tbilisi"
    hours = pd.date_range(pd.Timestamp("2025-01-01", tz=tz), pd.Timestamp("2026-01-01", tz=tz),
                          freq="h", inclusive="left")  # fmt: skip
    (tmp_path / "contracts.csv").write_text(
        "contract_id,producer,scheme,price,currency,start,end,capacity_mw,reference_basis\n"
        "A1,Rioni Hydro,cfd,60,GEL,2024-01-01,2040-12-31,2,annual_weighted\n"
        "A2,Kakheti Solar,variable_premium,70,GEL,2025-01-01,2040-12-31,1,annual_weighted\n"
    )
    price = [f"{40 + (i * 7) % 45}.{i % 100:02d}" for i in range(len(hours))]
    (tmp_path / "prices.csv").write_text(
        "timestamp,price\n"
        + "".join(f"{t.isoformat()},{p}\n" for t, p in zip(hours, price, strict=True))
    )
    rows = [
        f"{cid},{t.isoformat()},{(i * k) % 900 if 6 <= t.hour < 20 else 0}\n"
        for cid, k in (("A1", 13), ("A2", 29))
        for i, t in enumerate(hours)
    ]
    (tmp_path / "meters.csv").write_text("contract_id,timestamp,energy_kwh\n" + "".join(rows))
    files = (tmp_path / "contracts.csv", tmp_path / "prices.csv", tmp_path / "meters.csv")
    _cli_run(tmp_path / "cli", *files, "2025-12")
    kinds = _assert_equal(_service_run(database_url, *files, "2025-12"), tmp_path / "cli")
    assert kinds == {"support", "true_up"}


def test_cpi_fx_and_profile_weighted_contracts_in_the_service_equal_the_command_line(
    tmp_path, database_url
):
    tz = "Asia/Tbilisi"
    hours = pd.date_range(pd.Timestamp("2025-05-31", tz=tz), pd.Timestamp("2025-07-02", tz=tz),
                          freq="h", inclusive="left")  # fmt: skip
    (tmp_path / "contracts.csv").write_text(
        "contract_id,producer,scheme,price,currency,start,end,capacity_mw,indexation,"
        "index_base_month,indexed_share,strike_currency,fx_rule,reference_basis,weighting\n"
        "G1,Rioni Hydro,cfd,55,GEL,2024-01-01,2040-12-31,2,cpi,2023-04,0.3,USD,monthly_average,,\n"
        "G2,Enguri Hydro,fixed_premium,12,GEL,2024-01-01,2040-12-31,3,cpi,2023-04,1,,,,\n"
        "S1,Kakheti Solar,variable_premium,150,GEL,2024-01-01,2040-12-31,2,,,,,,"
        "monthly_weighted,solar\n"
    )
    (tmp_path / "prices.csv").write_text(
        "timestamp,price\n"
        + "".join(f"{t.isoformat()},{100 + (i * 17) % 90}.{i % 10}0\n" for i, t in enumerate(hours))
    )
    june = [t for t in hours if t.month == 6]
    (tmp_path / "meters.csv").write_text(
        "contract_id,timestamp,energy_kwh\n"
        + "".join(
            f"{cid},{t.isoformat()},{(i * k) % 1500}\n"
            for cid, k in (("G1", 7), ("G2", 11), ("S1", 5))
            for i, t in enumerate(june)
        )
    )
    (tmp_path / "fx.csv").write_text(
        "date,pair,rate\n2025-06-02,USD/GEL,2.7731\n2025-06-16,USD/GEL,2.7731\n"
        "2025-06-30,USD/GEL,2.7732\n"
    )
    (tmp_path / "cpi.csv").write_text("month,cpi\n2023-04,100.0\n2025-04,112.37\n")
    (tmp_path / "solar.csv").write_text(
        "timestamp,solar\n"
        + "".join(f"{t.isoformat()},{max(0, 12 - abs(t.hour - 13)) * 1.5:.1f}\n" for t in hours)
    )
    files = (tmp_path / "contracts.csv", tmp_path / "prices.csv", tmp_path / "meters.csv")
    rates = {
        "fx": tmp_path / "fx.csv",
        "cpi": tmp_path / "cpi.csv",
        "profile": tmp_path / "solar.csv",
    }
    _cli_run(tmp_path / "cli", *files, "2025-06", **rates)
    kinds = _assert_equal(_service_run(database_url, *files, "2025-06", **rates), tmp_path / "cli")
    assert kinds == {"support"}
    lines = {row["contract_id"]: row for row in _read(tmp_path / "cli" / "lines.csv")}
    assert "indexed by CPI 2025-04 112.37" in lines["G1"]["explanation"]
    assert "weighted by solar" in lines["S1"]["explanation"]
