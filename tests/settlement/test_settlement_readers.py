"""One reader per file kind: what it accepts, and how it names what it refuses.

Accepted values are checked against an independent parse (datetime.fromisoformat, Decimal);
refusals must name the file, the row and the field, and the command must exit 2 without a
traceback.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

from mzekari.cli import main
from mzekari.errors import InputError, ProblemCollector
from settlement.meters import read_meters
from settlement.price_io import parse_hundredths
from settlement.rates import read_cpi, read_fx
from settlement.tables import timestamps_utc_ns

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "settlement_de_2025"
PRICES = ROOT / "scenarios" / "prices" / "de_lu_day_ahead_2025.csv"


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-01T00:00+04:00",
        "2025-06-01T00:00:00.000+04:00",
        "2025-06-01 00:00:00+04:00",
        "2025-05-31T20:00:00Z",
        " 2025-06-01T00:00:00+0400 ",
    ],
)
def test_one_timestamp_rule_accepts_iso_8601_with_an_offset(text):
    problems = ProblemCollector("t.csv")
    (ns,) = timestamps_utc_ns([text], problems, "timestamp")
    clean = text.strip().replace("Z", "+00:00")
    if clean.endswith("+0400"):
        clean = clean[:-5] + "+04:00"
    expected = datetime.fromisoformat(clean).timestamp()
    assert not problems and ns == int(expected) * 10**9


@pytest.mark.parametrize("text", ["2025-06-01T00:00", "2025-06-31T00:00+04:00", "yesterday", ""])
def test_one_timestamp_rule_refuses_naive_or_impossible_times(text):
    problems = ProblemCollector("t.csv")
    timestamps_utc_ns(["2025-06-01T00:00+04:00", text], problems, "timestamp")
    ((row, field),) = {(p.row, p.field) for p in problems.problems}
    assert (row, field) == (2, "timestamp")


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("50.25", True),
        ("-3.5", True),
        ("0", True),
        ("-0.05", True),
        ("50.250", False),
        ("1e2", False),
        ("+50", False),
        ("50.", False),
        (".5", False),
        ("1O3.2", False),
        ("999999999999.99", True),  # the largest price the rule accepts
        ("1000000000000", False),  # beyond: refused, never an int64 overflow
        ("-" + "9" * 40, False),
    ],
)
def test_one_price_rule(text, accepted):
    problems = ProblemCollector("p.csv")
    values, ok = parse_hundredths([text], problems, "price")
    assert bool(ok[0]) is accepted and (not problems) is accepted
    if accepted:
        assert Decimal(int(values[0])) / 100 == Decimal(text)


def test_meters_from_parquet_equal_meters_from_csv(tmp_path):
    csv_data = read_meters(SCENARIO / "meters.csv")
    table = pa.csv.read_csv(SCENARIO / "meters.csv")
    pq.write_table(table, tmp_path / "meters.parquet")
    parquet_data = read_meters(tmp_path / "meters.parquet")
    assert parquet_data.contract_ids == csv_data.contract_ids
    for name in ("contract_index", "starts_utc_ns", "energy_kwh", "curtailed_kwh", "go_kwh"):
        assert np.array_equal(getattr(parquet_data, name), getattr(csv_data, name)), name
    # A timestamp column without a zone is refused, as a text timestamp without an offset is.
    naive = table.set_column(
        1,
        "timestamp",
        table.column("timestamp").cast(pa.timestamp("ns", tz="UTC")).cast(pa.timestamp("ns")),
    )
    pq.write_table(naive, tmp_path / "naive.parquet")
    with pytest.raises(InputError) as err:
        read_meters(tmp_path / "naive.parquet")
    assert [p.field for p in err.value.problems] == ["timestamp"]


def test_a_bad_cell_deep_in_a_large_file_is_named_by_row(tmp_path):
    rows = [f"C1,2025-06-01T00:00+04:00,{i}" for i in range(200_000)]
    rows[123_456] = "C1,2025-06-01T00:00+04:00,12.5"
    path = tmp_path / "m.csv"
    path.write_text("contract_id,timestamp,energy_kwh\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError) as err:
        read_meters(path)
    ((source, row, field),) = {(p.source, p.row, p.field) for p in err.value.problems}
    assert (source, row, field) == (str(path), 123_457, "energy_kwh")


def test_fx_and_cpi_readers_name_file_row_and_field(tmp_path):
    fx = tmp_path / "fx.csv"
    fx.write_text("date,pair,rate\n2025-06-30,USD/GEL,2.7012\n2025-06-30,usd/gel,2.8\n")
    with pytest.raises(InputError) as err:
        read_fx(fx)
    assert [(p.row, p.field) for p in err.value.problems] == [(2, "date")]
    fx.write_text("date,pair,rate\n2025-06-27,USD/GEL,2.7100\n2025-06-30,USD/GEL,2.7012\n")
    assert read_fx(fx) == {
        "USD/GEL": {"2025-06-27": Decimal("2.7100"), "2025-06-30": Decimal("2.7012")}
    }
    cpi = tmp_path / "cpi.csv"
    cpi.write_text("month,cpi\n2025-03,101.5\n2025-04,1O3.2\n")
    with pytest.raises(InputError) as err:
        read_cpi(cpi)
    assert [(p.source, p.row, p.field) for p in err.value.problems] == [(str(cpi), 2, "cpi")]


def _settle_args(tmp_path: Path, **replace: str) -> list[str]:
    files = {
        "--contracts": str(SCENARIO / "contracts.csv"),
        "--prices": str(PRICES),
        "--meters": str(SCENARIO / "meters.csv"),
        "--out": str(tmp_path / "out"),
    }
    files.update(replace)
    args = ["settle", "--month", "2025-06"]
    for flag, value in files.items():
        args += [flag, *value.split(" ")] if value else []
    return args


def _bad_copy(tmp_path: Path, source: Path, name: str, edit) -> str:
    lines = source.read_text().splitlines()
    path = tmp_path / name
    path.write_text("\n".join(edit(lines)) + "\n")
    return str(path)


# The seven inputs that ended in tracebacks: each must exit 2 and name where the fault is.
CASES = {
    "extra field": lambda t: {
        "--meters": _bad_copy(
            t, SCENARIO / "meters.csv", "m.csv", lambda ls: [*ls[:5], ls[5] + ",7", *ls[6:]]
        )
    },
    "unbalanced quote": lambda t: {
        "--contracts": _bad_copy(
            t,
            SCENARIO / "contracts.csv",
            "c.csv",
            lambda ls: [ls[0], ls[1].replace(",", ',"', 1), *ls[2:]],
        )
    },
    "wrong FX columns": lambda t: {
        "--fx": _bad_copy(t, PRICES, "fx.csv", lambda ls: ["day,pair,rate", "2025-06-30,USD/GEL,2"])
    },
    "1O3.2 in CPI": lambda t: {
        "--cpi": _bad_copy(t, PRICES, "cpi.csv", lambda ls: ["month,cpi", "2025-04,1O3.2"])
    },
    "malformed posted": lambda t: {
        "--posted": _bad_copy(t, PRICES, "posted.csv", lambda ls: ["line_id,amount", "x,1"])
    },
    "missing posted": lambda t: {"--posted": str(t / "no_such_lines.csv")},
    "unwritable output": lambda t: {"--out": str(t / "a_file" / "out")},
}
WHERE = {
    "extra field": ("m.csv", "row 5"),
    "unbalanced quote": ("c.csv", "row 1"),
    "wrong FX columns": ("fx.csv", "field 'date'"),
    "1O3.2 in CPI": ("cpi.csv", "row 1, field 'cpi'"),
    "malformed posted": ("posted.csv", "field 'contract_id'"),
    "missing posted": ("no_such_lines.csv", "cannot read"),
    "unwritable output": ("a_file", "cannot write"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_inputs_exit_2_naming_the_fault_without_a_traceback(tmp_path, capsys, case):
    (tmp_path / "a_file").write_text("a file where the output folder should go")
    args = _settle_args(tmp_path, **CASES[case](tmp_path))
    assert main(args) == 2
    err = capsys.readouterr().err
    name, where = WHERE[case]
    assert "Traceback" not in err
    assert name in err and where in err, err
    assert not (tmp_path / "out").exists()  # nothing written
