"""Mzekari: budget-limited renewable-energy auctions and the settlement of their contracts.

This package holds the small shared kernel that the computation packages (`auction`,
`settlement`, `treasury`) and the service (`api`) all stand on: exact money, input problems
that name where they came from, and the `mzekari` command line.
"""

__version__ = "0.1.0"
