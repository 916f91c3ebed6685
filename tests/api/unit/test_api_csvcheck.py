"""Vectorised CSV checks: every bad cell is named by its 1-based data row and column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from api.services.csvcheck import MAX_PROBLEMS, Problems, check_header, timestamps_ns, whole_numbers


def test_timestamps_need_an_offset_and_are_converted_to_utc():
    values = pd.Series(
        [
            "2021-01-01T04:00:00+04:00",
            "2021-01-01T00:00:00Z",
            "2021-01-01 04:00:00+04:00",
            "2021-01-01T04:00:00",
            "soon",
        ]
    )
    problems = Problems("m.csv")
    ns, ok = timestamps_ns(values, np.arange(1, 6), "timestamp", problems)
    midnight_utc = pd.Timestamp("2021-01-01", tz="UTC").value
    assert ok.tolist() == [True, True, True, False, False]
    assert ns[:3].tolist() == [midnight_utc] * 3
    assert [(p.row, p.field) for p in problems.items] == [(4, "timestamp"), (5, "timestamp")]


def test_energy_must_be_whole_non_negative_kwh():
    values = pd.Series(["10", "0", "1.5", "-2", "x", ""])
    problems = Problems("m.csv")
    numbers, ok = whole_numbers(values, np.arange(1, 7), "energy_kwh", problems)
    assert ok.tolist() == [True, True, False, False, False, False]
    assert numbers[:2].tolist() == [10, 0]
    assert sorted(p.row for p in problems.items) == [3, 4, 5, 6]


def test_all_integer_column_takes_the_fast_path():
    problems = Problems("m.csv")
    numbers, ok = whole_numbers(pd.Series(["1", "22", "333"]), np.arange(1, 4), "e", problems)
    assert numbers.tolist() == [1, 22, 333] and ok.all() and not problems


def test_header_names_missing_and_unexpected_columns():
    problems = Problems("m.csv")
    assert not check_header(["timestamp", "kwh"], ("timestamp", "energy_kwh"), problems)
    assert [p.field for p in problems.items] == ["energy_kwh", "kwh"]


def test_problem_list_is_bounded_and_counts_the_rest():
    problems = Problems("m.csv")
    rows = np.arange(1, MAX_PROBLEMS + 51)
    problems.add_rows(rows, "energy_kwh", ["x"] * len(rows), "bad")
    listed = problems.all()
    assert len(listed) == MAX_PROBLEMS + 1
    assert listed[-1].message == "… and 50 more problem(s)"
