"""Settlement reads the GO ledger (double benefit, law Art. 15(6)), and the green-certificate
scheme pays the shortfall below its minimum guaranteed price (Art. 2(1)(n)); both by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from settlement_builders import contract, lines_by_kind, meters, month_grid

from mzekari.cli import main
from mzekari.errors import InputError
from settlement import PriceSeries, settle_month
from settlement.double_benefit import round_exact
from settlement.guarantee_io import Ledger, write_ledger
from settlement.guarantees import (
    Installation,
    benefited,
    initial_holdings,
    issue_batch,
    transfer,
)
from settlement.ledger import read_lines

JUNE_HOURS = 720


def monthly(values: dict[str, str], name: str) -> PriceSeries:
    return PriceSeries.from_monthly(dict(values), name)


def cfd_june(**extra: str):
    return contract(
        contract_id="C1",
        producer="Alpha",
        price="150.00",
        start="2025-01-01",
        reference_basis="monthly_baseload",
        reference_series="balancing",
        double_benefit_share="0.5",
        **extra,
    )


def june_ledger(gos_sold: int) -> Ledger:
    inst = Installation(
        "HPP-7",
        "Alpha",
        "hydro",
        "run-of-river",
        "Rioni",
        Decimal(5),
        date(2023, 4, 1),
        support_scheme="cfd",
        production_support="CfD 150.00 GEL/MWh",
        contract_id="C1",
    )
    batch = issue_batch(inst, "2025-06", JUNE_HOURS * 1715, date(2025, 7, 3))
    ledger = Ledger({batch.batch_id: batch}, initial_holdings(batch))
    change = transfer(batch, ledger.holdings, 1, gos_sold, "Supplier", date(2025, 7, 10), "Alpha")
    ledger.apply(change.removed, change.added)
    return ledger


def june_meters(kwh_per_hour: int = 1715):
    return meters({"C1": (month_grid("2025-06"), [kwh_per_hour] * JUNE_HOURS)})


def test_400_gos_sold_cut_june_support_on_400_mwh_by_the_contract_share():
    ledger = june_ledger(400)
    uses = benefited(ledger.batches.values(), ledger.holdings, "2025-06")
    result = settle_month(
        [cfd_june()],
        {"balancing": monthly({"2025-06": "100.00"}, "balancing")},
        june_meters(),
        "2025-06",
        guarantees=uses,
    )
    kinds = lines_by_kind(result)
    # Support: (150 − 100) × 1,234.8 MWh; reduction: 0.5 × 400 MWh × 50 = 10,000.00.
    assert kinds["support"][0].amount == Decimal("61740.00")
    (line,) = kinds["double_benefit"]
    assert line.amount == Decimal("-10000.00")
    assert line.eligible_kwh == 400_000
    assert "GE-HPP-7-202506-0000001…GE-HPP-7-202506-0000400" in line.explanation
    assert result.statements[0].net == Decimal("51740.00")


def test_interval_prices_reduce_at_the_months_mean_positive_rate():
    grid = month_grid("2025-06")
    # Half the hours at R = 100 (rate 50), half at R = 170 (rate −20, the producer pays).
    values = ["100.00" if i % 2 == 0 else "170.00" for i in range(JUNE_HOURS)]
    series = PriceSeries.from_frame(
        pd.DataFrame({"timestamp": grid, "price": values}), "dam", "dam.csv"
    )
    ledger = june_ledger(400)
    uses = benefited(ledger.batches.values(), ledger.holdings, "2025-06")
    c = contract(
        contract_id="C1",
        producer="Alpha",
        price="150.00",
        start="2025-01-01",
        double_benefit_share="0.5",
    )
    result = settle_month([c], {"dam": series}, june_meters(), "2025-06", guarantees=uses)
    (line,) = lines_by_kind(result)["double_benefit"]
    # Positive support only on the R = 100 hours: 360 h × 1,715 kWh × 50 /MWh; spread over
    # all 720 h of eligible energy, times 400 MWh, times 0.5.
    positive = Fraction(360 * 1715 * 50, 1000)
    expected = -Fraction(1, 2) * positive * 400_000 / (720 * 1715)
    assert line.amount == round_exact(expected, "GEL", "half_up") == Decimal("-5000.00")


def test_gos_from_both_the_meter_column_and_the_ledger_are_refused():
    ledger = june_ledger(10)
    uses = benefited(ledger.batches.values(), ledger.holdings, "2025-06")
    data = meters(
        {"C1": (month_grid("2025-06"), [1715] * JUNE_HOURS)},
        {"C1": {"go_kwh": [1] * JUNE_HOURS}},
    )
    with pytest.raises(InputError, match="counted once"):
        settle_month(
            [cfd_june()],
            {"balancing": monthly({"2025-06": "100.00"}, "balancing")},
            data,
            "2025-06",
            guarantees=uses,
        )


@pytest.mark.parametrize(("market", "paid"), [("3.00", "2000.00"), ("6.00", "0.00")])
def test_green_certificates_pay_the_shortfall_below_the_guaranteed_price(market, paid):
    gc = contract(
        contract_id="C1",
        producer="Alpha",
        scheme="green_certificate",
        price="5.00",
        start="2025-01-01",
        reference_basis="monthly_baseload",
        reference_series="certificates",
    )
    # 1,000 certificates: 1,000 MWh metered in June (1,000,000 kWh over 720 hours).
    energy = [1389] * 720
    energy[0] -= sum(energy) - 1_000_000
    data = meters({"C1": (month_grid("2025-06"), energy)})
    result = settle_month(
        [gc], {"certificates": monthly({"2025-06": market}, "certificates")}, data, "2025-06"
    )
    (line,) = lines_by_kind(result)["support"]
    assert line.amount == Decimal(paid)
    assert line.eligible_kwh == 1_000_000
    assert line.reference_price == Decimal(market)


def test_green_certificates_need_the_months_certificate_price():
    with pytest.raises(InputError, match="monthly_baseload"):
        contract(scheme="green_certificate", price="5.00", reference_basis="interval")


def test_settle_command_reads_the_ledger_like_the_engine(tmp_path: Path):
    ledger_path = write_ledger(tmp_path / "ledger.csv", june_ledger(400))
    grid = month_grid("2025-06")
    (tmp_path / "meters.csv").write_text(
        "contract_id,timestamp,energy_kwh\n" + "".join(f"C1,{t.isoformat()},1715\n" for t in grid)
    )
    (tmp_path / "prices.csv").write_text("month,price\n2025-06,100.00\n")
    (tmp_path / "contracts.csv").write_text(
        "contract_id,producer,scheme,price,currency,start,end,capacity_mw,reference_basis,"
        "reference_series,double_benefit_share\n"
        "C1,Alpha,cfd,150.00,GEL,2025-01-01,2030-12-31,5,monthly_baseload,balancing,0.5\n"
    )
    assert _settle(tmp_path, ledger_path) == 0
    lines = {ln.kind: ln for ln in read_lines(tmp_path / "out" / "lines.csv")}
    assert lines["double_benefit"].amount == Decimal("-10000.00")
    assert "0000400" in lines["double_benefit"].explanation
    (tmp_path / "bad.csv").write_text("certificate_id_from\nx\n")
    assert (
        main(
            [
                "settle",
                "--contracts",
                str(tmp_path / "contracts.csv"),
                "--prices",
                f"balancing={tmp_path / 'prices.csv'}",
                "--meters",
                str(tmp_path / "meters.csv"),
                "--month",
                "2025-06",
                "--guarantees",
                str(tmp_path / "bad.csv"),
                "--out",
                str(tmp_path / "out2"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "out2").exists()


def test_settle_command_refuses_gos_issued_to_another_than_the_contracts_producer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """GOs of C1 issued to "Nordwind Park" would all count as sold by Alpha: exit 2 naming
    the ledger, the batch's row and its issued_to, and nothing written."""
    ledger = june_ledger(100)
    (batch,) = ledger.batches.values()
    stranger = replace(batch, issued_to="Nordwind Park")
    ledger = Ledger(
        {batch.batch_id: stranger},
        [replace(h, holder="Nordwind Park") if h.holder == "Alpha" else h for h in ledger.holdings],
    )
    ledger_path = write_ledger(tmp_path / "ledger.csv", ledger)
    _settle_files(tmp_path)
    assert _settle(tmp_path, ledger_path) == 2
    assert f"{ledger_path}, row 1, field 'issued_to'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_settle_command_names_the_ledger_row_of_an_unknown_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    ledger = june_ledger(100)
    (batch,) = ledger.batches.values()
    other = replace(batch, installation=replace(batch.installation, contract_id="C9"))
    ledger_path = write_ledger(
        tmp_path / "ledger.csv", Ledger({batch.batch_id: other}, ledger.holdings)
    )
    _settle_files(tmp_path)
    assert _settle(tmp_path, ledger_path) == 2
    assert f"{ledger_path}, row 1, field 'contract_id'" in capsys.readouterr().err


def test_settle_command_refuses_a_ledger_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    ledger_path = tmp_path / "ledger.csv"
    ledger_path.write_bytes("batch_id,account\nGE-1,Süd\n".encode("latin-1"))
    _settle_files(tmp_path)
    assert _settle(tmp_path, ledger_path) == 2
    err = capsys.readouterr().err
    assert f"{ledger_path}: not UTF-8 text" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def _settle_files(tmp_path: Path) -> None:
    grid = month_grid("2025-06")
    (tmp_path / "meters.csv").write_text(
        "contract_id,timestamp,energy_kwh\n" + "".join(f"C1,{t.isoformat()},1715\n" for t in grid)
    )
    (tmp_path / "prices.csv").write_text("month,price\n2025-06,100.00\n")
    (tmp_path / "contracts.csv").write_text(
        "contract_id,producer,scheme,price,currency,start,end,capacity_mw,reference_basis,"
        "reference_series,double_benefit_share\n"
        "C1,Alpha,cfd,150.00,GEL,2025-01-01,2030-12-31,5,monthly_baseload,balancing,1\n"
    )


def _settle(tmp_path: Path, ledger_path: Path) -> int:
    return main(
        [
            "settle",
            "--contracts",
            str(tmp_path / "contracts.csv"),
            "--prices",
            f"balancing={tmp_path / 'prices.csv'}",
            "--meters",
            str(tmp_path / "meters.csv"),
            "--month",
            "2025-06",
            "--guarantees",
            str(ledger_path),
            "--out",
            str(tmp_path / "out"),
        ]
    )
