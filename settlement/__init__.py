"""Monthly settlement of support contracts: two-way CfD, variable and fixed premium, feed-in.

Semantics: shared docs `settlement.md`. Sign convention: a positive amount is paid by the
counterparty to the producer, a negative one by the producer to the counterparty.
"""

from settlement.contracts import contracts_from_records, load_contracts
from settlement.engine import Settlement, settle_month
from settlement.meters import MeterData, read_meters, read_meters_text
from settlement.model import Contract, Line, Statement
from settlement.prices import (
    PriceSeries,
    monthly_reference_prices,
    read_prices,
    read_prices_text,
)

__all__ = [
    "Contract",
    "Line",
    "MeterData",
    "PriceSeries",
    "Settlement",
    "Statement",
    "contracts_from_records",
    "load_contracts",
    "monthly_reference_prices",
    "read_meters",
    "read_meters_text",
    "read_prices",
    "read_prices_text",
    "settle_month",
]
