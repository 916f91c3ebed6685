"""Hostile input to `mzekari forecast` and its backtest: every case exits 2 with a message naming
the file or option and the field, no traceback, nothing written; results that could not be
finite or plausible are refused or said loudly."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mzekari.cli import main
from mzekari.errors import InputError
from tests.treasury.conftest import PRICES, SCENARIO, contract
from treasury import ForecastConfig, run_forecast

BINARY = bytes(range(256)) * 8  # not UTF-8 text: 0x80.. alone are invalid


def _config(tmp_path, extra: str = "") -> str:
    """The shipped config with its data paths absolute, 20 scenarios × 3 months, plus `extra`
    (top-level keys before the first table)."""
    text = (SCENARIO / "forecast.toml").read_text(encoding="utf-8")
    text = text.replace('"../prices/', f'"{PRICES}/')
    text = text.replace("scenarios = 2000", "scenarios = 20").replace("months = 60", "months = 3")
    head, tables = text.split("[fx_rates]", 1)
    path = tmp_path / "hostile.toml"
    path.write_text(f"{head}{extra}\n[fx_rates]{tables}", encoding="utf-8")
    return str(path)


def _run(tmp_path, config: str, *extra: str, contracts: str | None = None) -> int:
    return main(
        [
            "forecast",
            contracts or str(SCENARIO / "contracts.csv"),
            "--config",
            config,
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
            *extra,
        ]
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("price_volatility = nan", "price_volatility"),
        ("price_volatility = inf", "price_volatility"),
        ("price_volatility = 5.0", "price_volatility"),
        ("generation_volatility = { hydro = nan }", "generation_volatility.hydro"),
        ("cpi_inflation = nan", "cpi_inflation"),
        ('contract_annual_mwh = { GE-H-01 = "1e400" }', "contract_annual_mwh.GE-H-01"),
    ],
)
def test_non_finite_and_absurd_settings_are_refused(tmp_path, capsys, extra, field) -> None:
    assert _run(tmp_path, _config(tmp_path, extra)) == 2
    err = capsys.readouterr().err
    assert f"hostile.toml, field '{field}'" in err
    assert not (tmp_path / "out").exists()


def test_a_binary_config_or_contract_file_is_an_input_error(tmp_path, capsys) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(BINARY)
    assert _run(tmp_path, str(binary)) == 2
    assert "binary.toml: the forecast config is not UTF-8 text" in capsys.readouterr().err
    contracts = tmp_path / "contracts.csv"
    contracts.write_bytes(BINARY)
    assert _run(tmp_path, _config(tmp_path), contracts=str(contracts)) == 2
    assert "contracts.csv: not UTF-8 text" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_system_file_as_realised_prices_is_an_input_error(tmp_path, capsys) -> None:
    config = _config(tmp_path, 'realised_prices = "/etc/passwd"\nrealised_meters = "/etc/passwd"')
    assert _run(tmp_path, config) == 2
    assert "/etc/passwd" in capsys.readouterr().err


def test_a_wrong_history_file_is_not_quoted_back(tmp_path, capsys) -> None:
    shadow = tmp_path / "shadow"
    shadow.write_text("root:$6$secret-hash$:20228:0:99999:7:::\n" * 20)
    config = tmp_path / "hostile.toml"
    _config(tmp_path)
    text = re.sub(r"(?m)^price_history = .*$", f'price_history = "{shadow}"', config.read_text())
    config.write_text(text)
    assert _run(tmp_path, str(config)) == 2
    err = capsys.readouterr().err
    assert "shadow: cannot tell which column holds prices" in err
    assert "secret-hash" not in err


def test_an_unwritable_out_is_refused_before_any_work(tmp_path, capsys) -> None:
    assert (
        main(
            [
                "forecast",
                str(SCENARIO / "contracts.csv"),
                "--config",
                _config(tmp_path),
                "--out",
                "/proc/nope",
                "--no-progress",
            ]
        )
        == 2
    )
    assert "--out /proc/nope: cannot write there" in capsys.readouterr().err


def test_the_out_check_leaves_nothing_behind(tmp_path, capsys) -> None:
    # A refused run leaves no folder the writability probe made.
    assert _run(tmp_path, _config(tmp_path), "--months", "0") == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--budget", "1e400", "less than or equal to"),
        ("--months", "0", "greater than or equal to 1"),
    ],
)
def test_an_option_is_blamed_not_the_config_file(tmp_path, capsys, option, value, message) -> None:
    assert _run(tmp_path, _config(tmp_path), option, value) == 2
    err = capsys.readouterr().err
    assert f"command line, field '{option}': " in err and message in err
    assert "hostile.toml" not in err
    assert not (tmp_path / "out").exists()


def test_dask_workers_are_bounded_by_the_cores(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        _run(tmp_path, _config(tmp_path), "--dask-workers", "100000")
    assert stop.value.code == 2
    assert "--dask-workers: at most" in capsys.readouterr().err


def test_a_failure_while_writing_leaves_no_half_written_file(tmp_path, monkeypatch) -> None:
    import treasury.charts

    def broken(result, out_dir):
        raise RuntimeError("disk full")

    monkeypatch.setattr(treasury.charts, "write_charts", broken)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "forecast_monthly.csv").write_text("previous run\n")
    with pytest.raises(RuntimeError, match="disk full"):
        _run(tmp_path, _config(tmp_path))
    # The previous file is untouched and nothing new (not even a staging folder) is left.
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["forecast_monthly.csv"]
    assert (tmp_path / "out" / "forecast_monthly.csv").read_text() == "previous run\n"


def test_the_allowed_maximum_volatility_warns_loudly(esco_history) -> None:
    config = ForecastConfig(
        start_month="2022-01",
        months=24,
        scenarios=400,
        price_history=esco_history,
        price_volatility=1.0,
        contract_technologies={"H": "hydro"},
    )
    result = run_forecast([contract("H")], config)
    (warning,) = [w for w in result.warnings if w.startswith("EXTREME PRICE FAN")]
    # The warning's multiple, recomputed from the result's own fan and starting level.
    peak = result.monthly["price_p95"].max() / result.calibration["reference_level"]
    assert peak > 5 and f"{peak:.1f}×" in warning
    calm = run_forecast([contract("H")], config.model_copy(update={"price_volatility": None}))
    assert not [w for w in calm.warnings if w.startswith("EXTREME")]


def test_a_non_finite_scenario_total_is_refused() -> None:
    from treasury.engine import refuse_non_finite

    with pytest.raises(InputError, match="field 'net': not finite"):
        refuse_non_finite({"net": np.array([[1.0, np.inf]]), "price": np.ones((1, 2))})
    refuse_non_finite({"net": np.ones((2, 2))})  # finite totals pass


def _history(tmp_path, prices: list[float]) -> str:
    months = pd.period_range("2015-01", periods=len(prices), freq="M")
    path = tmp_path / "history.csv"
    pd.DataFrame({"month": months.astype(str), "price_gel_per_mwh": prices}).to_csv(
        path, index=False
    )
    return str(path)


def test_a_backtest_on_absurd_prices_is_refused(tmp_path, capsys) -> None:
    history = _history(tmp_path, [1e300] * 48)
    args = ["forecast", "backtest", "--history", history, "--out", str(tmp_path / "out")]
    assert main([*args, "--scenarios", "50"]) == 2
    err = capsys.readouterr().err
    assert "history.csv, row 1, field 'price': price '1e+300' is not a number quoted to 0.01" in err
    assert not (tmp_path / "out").exists()


def test_a_backtest_with_nothing_to_beat_says_skill_is_undefined(tmp_path, capsys) -> None:
    history = _history(tmp_path, [50.0] * 48)  # the naive forecast is exact every month
    args = ["forecast", "backtest", "--history", history, "--out", str(tmp_path / "out")]
    assert main([*args, "--scenarios", "50"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out and "undefined" in out
    assert "WARNING: skill undefined for 2017, all" in out
