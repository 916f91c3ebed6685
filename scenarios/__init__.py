"""Shipped scenarios and the real data they are derived from (package data: read with importlib.resources)."""
