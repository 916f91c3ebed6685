"""Shipped scenarios and the real data they come from (package data: importlib.resources)."""
