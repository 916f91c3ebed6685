"""`mzekari demo --out DIR` never deletes what it did not create."""

from __future__ import annotations

import pytest

from api import demo_out
from mzekari.cli import main
from mzekari.errors import InputError


def test_a_folder_holding_other_files_is_refused_untouched(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("years of work")
    (tmp_path / "data").mkdir()
    assert main(["demo", "--out", str(tmp_path), "--months", "1"]) == 2
    assert "did not create" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "thesis.tex"]
    assert (tmp_path / "thesis.tex").read_text() == "years of work"


def test_a_file_given_as_folder_is_refused(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    with pytest.raises(InputError, match="not a folder"):
        demo_out.prepare(target)
    assert target.read_text() == "keep"


def test_a_rerun_removes_exactly_its_own_files(tmp_path):
    out = tmp_path / "demo"
    demo_out.prepare(out)  # a new folder
    (out / "statements").mkdir()
    (out / "statements" / "a.csv").write_text("x")
    (out / "clearing.json").write_text("{}")
    demo_out.record(out)
    assert (out / demo_out.MANIFEST).read_text().splitlines() == [
        "clearing.json",
        "statements/a.csv",
    ]
    demo_out.prepare(out)  # the previous run's files only: the folder is empty again
    assert list(out.iterdir()) == []
    # A file someone added after the run survives, and the run is refused.
    (out / "clearing.json").write_text("{}")
    demo_out.record(out)
    (out / "mine.txt").write_text("keep")
    with pytest.raises(InputError, match=r"mine\.txt"):
        demo_out.prepare(out)
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_a_manifest_naming_files_outside_the_folder_deletes_nothing_there(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    (out / demo_out.MANIFEST).write_text("../precious.txt\n")
    demo_out.prepare(out)
    assert outside.read_text() == "keep"
