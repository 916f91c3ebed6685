"""The payment formulas of the four schemes, vectorised over numpy arrays.

`unit_rate` is the per-MWh payment for a reference price R. It is pure and works on int64 arrays
(exact: prices in hundredths per MWh, as the settlement uses them) or on float arrays (the
treasury's forecasts). Payment of an interval or month = unit_rate × energy.

    cfd               (K − R), two-way; with `upper_price` U: max(K − R, 0) − max(R − U, 0)
    variable_premium  max(0, K − R)
    fixed_premium     P
    feed_in           T   (the energy goes to the counterparty; R plays no part)
    green_certificate max(0, G − R), R the month's certificate market price (one certificate
                      per MWh): the shortfall below the minimum guaranteed price (Art. 2(1)(n))

`zero_floor` floors R at 0 (UK: Difference = min(K − R, K)); `cap` and `floor` bound the rate
(Georgia 2020 hydro: min(15, max(0, 55 − p)) USD/MWh is variable_premium K=55, cap=15).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# A green certificate's guaranteed price pays the shortfall below it: the variable premium's
# formula (code 1) on the certificate market price.
SCHEME_CODES = {
    "cfd": 0,
    "variable_premium": 1,
    "fixed_premium": 2,
    "feed_in": 3,
    "green_certificate": 1,
}
USES_REFERENCE = ("cfd", "variable_premium", "green_certificate")


def raw_rate_by_code(
    scheme_code: Any, price: Any, reference: Any, zero_floor: Any, upper_price: Any
) -> np.ndarray:
    """Rate before cap/floor, every argument broadcast per element (codes: SCHEME_CODES).

    `upper_price` equal to `price` gives the plain two-way CfD.
    """
    code = np.asarray(scheme_code)
    k = np.asarray(price)
    r = np.where(np.asarray(zero_floor, dtype=bool), np.maximum(reference, 0), reference)
    zero = np.zeros_like(k - r)
    cfd = np.maximum(k - r, zero) - np.maximum(r - upper_price, zero)
    premium = np.maximum(k - r, zero)
    flat = k + zero
    return np.where(code == 0, cfd, np.where(code == 1, premium, flat))


def bound_rate(rate: Any, cap: Any = None, floor: Any = None) -> np.ndarray:
    out = np.asarray(rate)
    if floor is not None:
        out = np.maximum(out, floor)
    if cap is not None:
        out = np.minimum(out, cap)
    return out


def unit_rate(
    scheme: str,
    price: Any,
    reference: Any,
    *,
    zero_floor: bool = False,
    cap: Any = None,
    floor: Any = None,
    upper_price: Any = None,
) -> np.ndarray:
    """Per-MWh payment for reference price(s) R; positive = counterparty pays the producer.

    >>> unit_rate("cfd", 8000, np.array([5000, 9000])).tolist()   # hundredths/MWh
    [3000, -1000]
    """
    if scheme not in SCHEME_CODES:
        raise ValueError(f"unknown scheme {scheme!r}; known: {sorted(SCHEME_CODES)}")
    upper = price if upper_price is None else upper_price
    raw = raw_rate_by_code(SCHEME_CODES[scheme], price, reference, zero_floor, upper)
    return bound_rate(raw, cap, floor)
