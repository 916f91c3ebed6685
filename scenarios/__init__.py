"""Shipped scenarios and the real data they are derived from, installed with the package so
`mzekari demo` runs from any folder on a plain install."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def scenario_file(*parts: str) -> Traversable:
    """A shipped scenario file, e.g. `scenario_file("georgia_2023", "round.toml")`."""
    path = files(__name__)
    for part in parts:
        path = path / part
    if not path.is_file():
        raise FileNotFoundError(f"no shipped scenario file {'/'.join(parts)}")
    return path
