"""What a treasury official relies on: bad input refused before any work, an as-of date and a
stale-data warning on every output, Monte Carlo errors stated, no month leaking into another,
a pipeline counted at its expected delivery, and the price model backtested."""

from __future__ import annotations

import csv
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from mzekari.cli import main
from mzekari.errors import InputError
from tests.treasury.conftest import SCENARIO, contract
from treasury import ForecastConfig, run_forecast
from treasury.backtest import crps_from_samples, run_backtest
from treasury.reduce import quantile_standard_error

CALM = {"generation_volatility": {"hydro": 0.0, "solar": 0.0, "wind": 0.0, "other": 0.0}}


def hydro(cid: str = "A", **terms: object):
    """A hydro CfD on the monthly baseload price (the technology rides in `weighting`)."""
    return contract(cid, reference_basis="monthly_baseload", weighting="hydro", **terms)  # type: ignore[arg-type]


def _cli(tmp_path, *extra: str) -> list[str]:
    return [
        "forecast",
        str(SCENARIO / "contracts.csv"),
        "--config",
        str(SCENARIO / "forecast.toml"),
        "--out",
        str(tmp_path / "out"),
        "--no-progress",
        "--scenarios",
        "20",
        "--months",
        "2",
        *extra,
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--budget", "-5"), "greater than or equal to 0"),
        (("--start-month", "2020-01"), "inside the price history"),
        (("--scenarios", "100000000"), "at most 1,000,000 scenarios"),
        (("--as-of", "2021-06-30"), "after the as-of date"),
    ],
)
def test_bad_options_are_refused_before_any_work(tmp_path, capsys, extra, message) -> None:
    assert main(_cli(tmp_path, *extra)) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_negative_dask_workers_are_an_argument_error(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(_cli(tmp_path, "--dask-workers", "-3"))
    assert stop.value.code == 2
    assert "must be 0 or more" in capsys.readouterr().err


def test_out_pointing_at_a_file_is_refused_first(tmp_path, capsys) -> None:
    target = tmp_path / "out"
    target.write_text("keep me")
    assert main(_cli(tmp_path)) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (
            "month,price\n2020-01,100\n2020-02,abc\n",
            "row 2, field 'price': price 'abc' is not a number quoted to 0.01 per MWh",
        ),
        ("month,price\n2020-13,100\n", "not a date or month"),
        # Settlement's one price rule: what `mzekari settle` refuses, the forecast refuses.
        *(
            (
                f"month,price\n2020-01,100\n2020-02,{cell}\n",
                f"row 2, field 'price': price '{cell}' is not a number quoted to 0.01 per MWh",
            )
            for cell in ("50.250", "1e2", "+50", "50.", ".5")
        ),
    ],
)
def test_a_bad_history_file_names_file_row_and_field(tmp_path, capsys, content, message) -> None:
    history = tmp_path / "history.csv"
    if content is not None:
        history.write_text(content)
    config = tmp_path / "forecast.toml"
    config.write_text('start_month = "2026-01"\nmonths = 2\nprice_history = "history.csv"\n')
    code = main(
        [
            "forecast",
            str(SCENARIO / "contracts.csv"),
            "--config",
            str(config),
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "history.csv" in err and message in err


def test_as_of_and_the_stale_warning_are_on_every_output(tmp_path, esco_history) -> None:
    config = ForecastConfig(
        start_month="2026-01", months=3, scenarios=30, price_history=esco_history
    )
    result = run_forecast([hydro()], config)
    assert result.as_of == "2026-01-01" and result.history_end == "2021-12"
    assert len(result.warnings) == 1 and "49 months" in result.warnings[0]
    summary = json.loads(json.dumps(result.summary()))
    assert summary["as_of"] == "2026-01-01" and summary["warnings"] == result.warnings
    result.write(tmp_path)
    for name in ("forecast_monthly.csv", "forecast_annual.csv"):
        with open(tmp_path / name) as handle:
            rows = list(csv.DictReader(handle))
        assert {r["as_of"] for r in rows} == {"2026-01-01"}
        assert all("STALE PRICE HISTORY" in r["warning"] for r in rows)
    page = (tmp_path / "forecast.html").read_text()
    assert 'class="warning"' in page and "2026-01-01" in page and "{&quot;" not in page
    fresh = run_forecast(
        [hydro()],
        ForecastConfig(
            start_month="2022-03",
            months=3,
            scenarios=30,
            as_of=date(2022, 2, 15),
            price_history=esco_history,
        ),
    )
    assert fresh.warnings == [] and fresh.history_age_months == 2


def test_standard_errors_match_their_definitions_and_shrink(esco_history) -> None:
    def run(scenarios: int, seed: int = 1):
        config = ForecastConfig(
            start_month="2026-01",
            months=12,
            scenarios=scenarios,
            seed=seed,
            price_history=esco_history,
        )
        return run_forecast([hydro(capacity_mw="50")], config)

    small = run(400)
    totals = small.scenario_totals.sum(axis=1)
    year = small.annual.iloc[0]
    assert year["expected_se"] == pytest.approx(totals.std(ddof=1) / np.sqrt(400))
    assert year["reserve_se"] == pytest.approx(
        float(quantile_standard_error(totals[:, None], 0.95)[0])
    )
    large = run(1600)
    assert small.annual.iloc[0]["reserve_se"] / large.annual.iloc[0]["reserve_se"] == pytest.approx(
        2.0, rel=0.35
    )
    # Independent check: the reserve's spread over seeds is about its stated standard error.
    reserves = [run(200, seed).annual.iloc[0]["reserve"] for seed in range(12)]
    stated = np.mean([run(200, seed).annual.iloc[0]["reserve_se"] for seed in range(3)])
    assert np.std(reserves, ddof=1) == pytest.approx(stated, rel=0.6)
    needed = int(year["scenarios_needed"])
    assert needed == int(np.ceil(400 * (year["reserve_se"] / (0.01 * abs(year["reserve"]))) ** 2))


def test_a_given_month_is_priced_alone(hourly_2025) -> None:
    """The same June price gives the same June cost whether June is given alone or with the
    other eleven months (no scaling to the mean of all given months)."""
    june = 60.0
    other = [150.0, 140.0, 120.0, 110.0, 90.0, june, 70.0, 100.0, 130.0, 160.0, 170.0, 180.0]
    year = pd.DataFrame(
        {"scenario": 0, "month": [f"2026-{m:02d}" for m in range(1, 13)], "price": other}
    )
    alone = pd.DataFrame({"scenario": [0], "month": ["2026-06"], "price": [june]})
    solar = contract("S", reference_basis="interval", negative_price_rule="any")
    costs = []
    for paths, start, months in ((year, "2026-01", 12), (alone, "2026-06", 1)):
        config = ForecastConfig(
            start_month=start,
            months=months,
            price_paths=paths,
            hourly_history=hourly_2025,
            contract_technologies={"S": "solar"},
            **CALM,
        )
        result = run_forecast([solar], config)
        costs.append(float(result.monthly.set_index("month").loc["2026-06", "expected"]))
    assert costs[0] == pytest.approx(costs[1], rel=1e-12)


def test_a_pipeline_plant_is_built_or_not_in_each_scenario(esco_history) -> None:
    """Built, a pipeline plant costs exactly what the same plant started two months later
    costs in that scenario (the build draw is the scenario's last, so prices and weather are
    the same numbers); not built, nothing. It is built in about `probability` of scenarios."""
    scenarios = 400
    base = {"start_month": "2026-01", "months": 24, "scenarios": scenarios, "seed": 5, **CALM}
    planned = hydro("P", start=date(2026, 4, 1), end=date(2041, 3, 31))
    late = hydro("P", start=date(2026, 6, 1), end=date(2041, 5, 31))
    delivered = run_forecast(
        [planned],
        ForecastConfig(
            **base,
            price_history=esco_history,
            delivery={"hydro": {"probability": 0.3, "delay_months": 2}},
        ),
    )
    shifted = run_forecast([late], ForecastConfig(**base, price_history=esco_history))
    built = np.abs(delivered.scenario_totals).sum(axis=1) > 0
    assert np.allclose(delivered.scenario_totals[built], shifted.scenario_totals[built])
    assert not delivered.scenario_totals[~built].any()
    sd = np.sqrt(0.3 * 0.7 / scenarios)
    assert abs(built.mean() - 0.3) < 4 * sd
    assert any("pipeline" in note for note in delivered.notes)
    # The reserve covers the pipeline: with nothing else contracted, a plant built in 30 % of
    # the scenarios still needs a 95 % reserve.
    assert delivered.annual.iloc[0]["reserve"] > 0


def test_zero_volatility_gives_one_price_path(esco_history) -> None:
    config = ForecastConfig(
        start_month="2026-01",
        months=12,
        scenarios=50,
        price_history=esco_history,
        price_volatility=0,
    )
    monthly = run_forecast([hydro()], config).monthly
    assert (monthly["price_p5"] == monthly["price_p95"]).all()
    assert (monthly["price_p50"] == monthly["price_mean"]).all()


def test_crps_from_sorted_samples_equals_the_pairwise_definition() -> None:
    rng = np.random.default_rng(3)
    samples = rng.lognormal(4.5, 0.3, size=(300, 4))
    observed = np.array([80.0, 95.0, 120.0, 200.0])
    pairwise = np.abs(samples[:, None, :] - samples[None, :, :]).mean(axis=(0, 1))
    by_definition = np.abs(samples - observed).mean(axis=0) - 0.5 * pairwise
    assert np.allclose(crps_from_samples(samples, observed), by_definition)


def test_backtest_scores_each_year_against_what_happened(esco_history, tmp_path) -> None:
    report = run_backtest(esco_history, scenarios=300, seed=2)
    months = report.months
    assert list(report.by_origin["origin"]) == [str(y) for y in range(2015, 2021)] + ["all"]
    history = pd.read_csv(esco_history).set_index("month")["price"]
    for row in months.itertuples():
        assert row.realised == history[row.month]
        last_year = f"{int(row.month[:4]) - 1}{row.month[4:]}"
        assert row.crps_naive == pytest.approx(abs(history[last_year] - row.realised))
        assert row.inside_p5_p95 == (row.p5 <= row.realised <= row.p95)
    overall = report.by_origin.iloc[-1]
    assert overall["coverage_p5_p95"] == pytest.approx(months["inside_p5_p95"].mean())
    assert 0.6 <= overall["coverage_p5_p95"] <= 1.0
    code = main(["forecast", "backtest", "--out", str(tmp_path), "--scenarios", "200"])
    assert code == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        "backtest_months.csv",
        "backtest_summary.csv",
        "backtest.png",
    }


def test_a_history_running_into_the_forecast_is_refused(esco_history) -> None:
    config = ForecastConfig(start_month="2021-06", months=3, price_history=esco_history)
    with pytest.raises(InputError, match="inside the price history"):
        run_forecast([hydro()], config)


def test_the_reserve_does_not_flip_with_the_fitting_window(esco_history) -> None:
    """The shipped portfolio's 2026 reserve fitted on 2013-2021 (two flood crashes) and on
    2015-2021 (none) differ by far less than the 29 % the former model gave."""
    from settlement import load_contracts
    from treasury.cli import load_config_file
    from treasury.history import load_monthly_history

    values = load_config_file(SCENARIO / "forecast.toml")
    history = load_monthly_history(esco_history)
    contracts = load_contracts(SCENARIO / "contracts.csv")
    reserves = []
    for window in ("2013", "2015"):
        config = ForecastConfig(
            **{**values, "price_history": history[window:], "months": 12, "scenarios": 2000}
        )
        reserves.append(float(run_forecast(contracts, config).annual.iloc[0]["reserve"]))
    assert abs(reserves[1] / reserves[0] - 1) < 0.15


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("scenario,month,price\n0,2026-01,100\n0,2026-02,x\n", "row 2, field 'price'"),
    ],
)
def test_bad_price_paths_name_file_row_and_field(tmp_path, content, message) -> None:
    paths = tmp_path / "paths.csv"
    if content is not None:
        paths.write_text(content)
    config = ForecastConfig(start_month="2026-01", months=2, price_paths=paths)
    with pytest.raises(InputError, match=message) as error:
        run_forecast([hydro()], config)
    assert "paths.csv" in str(error.value)
