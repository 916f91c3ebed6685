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
    return main(["settle", "--contracts", str(SCENARIO / "contracts.csv"), "--prices", str(PRICES),
                 "--meters", str(meters), "--month", "2025-06", "--out", str(out), *extra])


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
    assert {"support", "negative_price_exclusion", "seasonal_exclusion", "volume_cap",
            "annual_cap", "rate_cap", "curtailment", "double_benefit"} <= kinds
    schemes_paid = {row["contract_id"].split("-")[1] for row in lines}
    assert schemes_paid == {"CFD", "MPV", "MPF", "FIT"}
    # DE-FIT-03 ended in May; DE-CFD-08 started on 15 June
    assert "DE-FIT-03" not in {row["contract_id"] for row in lines}
    net = defaultdict(Decimal)
    for row in lines:
        net[row["producer"]] += Decimal(row["amount"])
    assert {s["producer"]: Decimal(s["net"]) for s in statements} == dict(net)
    for s in statements:
        assert Decimal(s["net"]) == Decimal(s["paid_to_producer"]) - Decimal(s["paid_by_producer"])


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


def test_prices_monthly_prints_and_writes(tmp_path, capsys):
    out = tmp_path / "monthly.csv"
    assert main(["prices", "monthly", str(PRICES), "--tz", "Europe/Berlin", "--out", str(out)]) == 0
    rows = read(out)
    assert len(rows) == 11  # January to November; December is incomplete
    june = next(r for r in rows if r["month"] == "2025-06")
    assert june["intervals"] == "720" and june["basis"] == "baseload"
    assert "2025-06" in capsys.readouterr().out
