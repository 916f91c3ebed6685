"""The `mzekari settle` and `mzekari prices monthly` commands on the shipped scenario."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from mzekari.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "settlement_de_2025"
PRICES = ROOT / "scenarios" / "prices" / "de_lu_day_ahead_2025.csv"


def settle(out: Path, *extra: str, meters: Path = SCENARIO / "meters.csv") -> int:
    return main(
        [
            "settle",
            "--contracts",
            str(SCENARIO / "contracts.csv"),
            "--prices",
            str(PRICES),
            "--meters",
            str(meters),
            "--month",
            "2025-06",
            "--out",
            str(out),
            *extra,
        ]
    )


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_settle_the_shipped_scenario(tmp_path, capsys):
    assert settle(tmp_path / "run") == 0
    printed = capsys.readouterr().out
    assert "Europe/Berlin" in printed  # the contracts' market zone, without --tz
    lines = read(tmp_path / "run" / "lines.csv")
    statements = read(tmp_path / "run" / "statements.csv")
    assert {"contract_id", "month", "reference_price", "eligible_kwh", "amount"} <= set(lines[0])
    kinds = {row["kind"] for row in lines}
    assert {
        "support",
        "negative_price_exclusion",
        "seasonal_exclusion",
        "volume_cap",
        "annual_cap",
        "rate_cap",
        "curtailment",
        "double_benefit",
    } <= kinds
    schemes_paid = {row["contract_id"].split("-")[1] for row in lines}
    assert schemes_paid == {"CFD", "MPV", "MPF", "FIT"}
    # DE-FIT-03 ended in May; DE-CFD-08 started on 15 June
    assert "DE-FIT-03" not in {row["contract_id"] for row in lines}
    net = defaultdict(Decimal)
    for row in lines:
        net[row["producer"]] += Decimal(row["amount"])
    assert {s["producer"]: Decimal(s["net"]) for s in statements} == dict(net)
    for s in statements:
        assert Decimal(s["net"]) == Decimal(s["paid_to_producer"]) - Decimal(
            s["paid_by_producer"]
        ) - Decimal(s["reductions"])


def test_resettling_with_the_posted_lines_posts_nothing(tmp_path, capsys):
    settle(tmp_path / "first")
    assert settle(tmp_path / "again", "--posted", str(tmp_path / "first" / "lines.csv")) == 0
    assert "nothing to post" in capsys.readouterr().out
    assert read(tmp_path / "again" / "lines.csv") == []


def test_bad_meter_file_exits_2_naming_file_row_and_field(tmp_path, capsys):
    bad = tmp_path / "meters.csv"
    text = (SCENARIO / "meters.csv").read_text().splitlines()
    fields = text[5].split(",")
    fields[2] = "-7"
    text[5] = ",".join(fields)
    bad.write_text("\n".join(text) + "\n")
    assert settle(tmp_path / "out", meters=bad) == 2
    err = capsys.readouterr().err
    assert f"{bad}, row 5, field 'energy_kwh': negative energy -7 kWh" in err
    assert not (tmp_path / "out").exists()


def test_prices_monthly_prints_and_writes_and_names_the_month_it_cannot_compute(tmp_path, capsys):
    out = tmp_path / "monthly.csv"
    # The file ends on 15 December at 23:00: December cannot be computed, and says why.
    assert main(["prices", "monthly", str(PRICES), "--tz", "Europe/Berlin", "--out", str(out)]) == 1
    rows = read(out)
    assert [r["month"] for r in rows] == [f"2025-{m:02d}" for m in range(1, 13)]
    june = next(r for r in rows if r["month"] == "2025-06")
    assert june["intervals"] == "720" and june["basis"] == "baseload" and june["missing"] == ""
    december = rows[-1]
    assert december["reference_price"] == ""
    # 16 December 00:00 to 31 December 23:00 local: 16 days × 24 h
    assert december["missing"].startswith(
        "384 of 744 intervals without a price: 2025-12-16T00:00:00+01:00"
    )
    printed = capsys.readouterr()
    assert "2025-06" in printed.out
    assert "could not be computed: 2025-12" in printed.err


def test_settle_with_exchange_rates_cpi_profiles_and_a_monthly_fallback(tmp_path, capsys):
    import pandas as pd

    tz = "Asia/Tbilisi"
    (tmp_path / "c.csv").write_text(
        "contract_id,producer,scheme,price,currency,start,end,capacity_mw,strike_currency,"
        "fallback_series,indexation,index_base_month,reference_basis,weighting\n"
        "G1,Rioni Hydro,cfd,50,GEL,2021-06-30,2040-12-31,2,USD,esco,,,,\n"
        "G2,Rioni Hydro,fixed_premium,10,GEL,2021-06-30,2040-12-31,2,,,cpi,2020-04,,\n"
        "G3,Kakheti Solar,variable_premium,150,GEL,2021-06-30,2040-12-31,2,,esco,,,"
        "monthly_weighted,solar\n"
    )
    hours = pd.date_range(pd.Timestamp("2021-06-29", tz=tz), periods=72, freq="h")
    dam = ["" if 24 <= i < 30 else "100.00" for i in range(72)]  # no prices 30 June 00–05
    (tmp_path / "dam.csv").write_text(
        "timestamp,price\n"
        + "".join(f"{t.isoformat()},{p}\n" for t, p in zip(hours, dam, strict=True))
    )
    june = pd.date_range(pd.Timestamp("2021-06-01", tz=tz), periods=720, freq="h")
    (tmp_path / "solar.csv").write_text(
        "timestamp,solar\n"
        + "".join(f"{t.isoformat()},{1 if i >= 696 else 0}\n" for i, t in enumerate(june))
    )
    (tmp_path / "fx.csv").write_text(
        "date,pair,rate\n2021-06-29,USD/GEL,3.2000\n2021-06-30,USD/GEL,3.1200\n"
    )
    (tmp_path / "cpi.csv").write_text("month,cpi\n2020-04,100\n2021-04,105\n")
    day = june[696:]
    (tmp_path / "m.csv").write_text(
        "contract_id,timestamp,energy_kwh\n"
        + "".join(f"{cid},{t.isoformat()},1000\n" for cid in ("G1", "G2", "G3") for t in day)
    )
    code = main(
        [
            "settle",
            "--contracts",
            str(tmp_path / "c.csv"),
            "--prices",
            f"dam={tmp_path / 'dam.csv'}",
            f"esco={ROOT / 'scenarios/prices/ge_esco_balancing_monthly.csv'}",
            "--meters",
            str(tmp_path / "m.csv"),
            "--month",
            "2021-06",
            "--out",
            str(tmp_path / "out"),
            "--fx",
            str(tmp_path / "fx.csv"),
            "--cpi",
            str(tmp_path / "cpi.csv"),
            "--profile",
            f"solar={tmp_path / 'solar.csv'}",
        ]
    )
    assert code == 0, capsys.readouterr().err
    lines = read(tmp_path / "out" / "lines.csv")
    got = {(r["contract_id"], r["reference_series"]): Decimal(r["amount"]) for r in lines}
    # G1: K = 50 USD × 3.1200 = 156.00 GEL; 18 h at dam 100: 18 × 56 = 1008;
    #     6 h on ESCO's June 2021 balancing price 139.10: 6 × 16.90 = 101.40
    assert got[("G1", "dam")] == Decimal("1008.00")
    assert got[("G1", "esco")] == Decimal("101.40")
    # G2: a fixed premium needs no prices: 10 × 105 / 100 = 10.50 per MWh × 24 MWh
    assert got[("G2", "")] == Decimal("252.00")
    # G3: the day-ahead series has no complete June, so the profile-weighted month falls back
    #     to ESCO's monthly value: (150 − 139.10) × 24 = 261.60
    assert got[("G3", "esco")] == Decimal("261.60")
    assert "FALLBACK" in next(r["explanation"] for r in lines if r["contract_id"] == "G3")


def test_settling_on_the_smard_export_as_published_gives_the_same_lines(tmp_path):
    smard = ROOT / "scenarios" / "sources" / "de_lu_day_ahead_2025_hourly_smard.csv"
    settle(tmp_path / "derived")
    assert (
        main(
            [
                "settle",
                "--contracts",
                str(SCENARIO / "contracts.csv"),
                "--prices",
                f"dam={smard}@DE_LU",
                "--meters",
                str(SCENARIO / "meters.csv"),
                "--month",
                "2025-06",
                "--out",
                str(tmp_path / "smard"),
            ]
        )
        == 0
    )
    assert read(tmp_path / "smard" / "lines.csv") == read(tmp_path / "derived" / "lines.csv")


def test_settle_with_a_status_file_pays_only_inside_the_support_windows(tmp_path):
    status = tmp_path / "status.csv"
    status.write_text("contract_id,action,effective_date\nDE-CFD-01,revoke,2025-06-16\n")
    assert settle(tmp_path / "out", "--status", str(status)) == 0
    lines = [r for r in read(tmp_path / "out" / "lines.csv") if r["contract_id"] == "DE-CFD-01"]
    kinds = {r["kind"]: r for r in lines}
    # By hand from the meter file: energy metered from 16 June (Berlin time) on.
    after = sum(
        int(r["energy_kwh"])
        for r in read(SCENARIO / "meters.csv")
        if r["contract_id"] == "DE-CFD-01" and r["timestamp"][:10] >= "2025-06-16"
    )
    assert after > 0 and int(kinds["status_exclusion"]["excluded_kwh"]) == after
    assert kinds["status_exclusion"]["explanation"].endswith("2025-06-01 to 2025-06-15")


def test_a_bad_status_file_exits_2_naming_each_row_and_field(tmp_path, capsys):
    status = tmp_path / "status.csv"
    status.write_text(
        "contract_id,action,effective_date\n"
        "NOPE,revoke,2025-06-16\n"
        "DE-CFD-01,resume,2025-06-16\n"
        "DE-CFD-02,revoke,16.06.2025\n"
    )
    assert settle(tmp_path / "out", "--status", str(status)) == 2
    err = capsys.readouterr().err
    assert f"{status}, row 1, field 'contract_id': unknown contract 'NOPE'" in err
    assert f"{status}, row 2, field 'action': DE-CFD-01: cannot resume" in err
    assert f"{status}, row 3, field 'effective_date'" in err
    assert not (tmp_path / "out").exists()
