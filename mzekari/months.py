"""Month and term arithmetic in a market's local time: months as YYYY-MM, half-open UTC
ranges of interval starts, contract terms of inclusive local dates.

Timestamps are held as int64 nanoseconds since the epoch, UTC, marking interval starts.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

NS_PER_S = 1_000_000_000
MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


@functools.lru_cache(maxsize=1024)
def parse_month(month: str) -> tuple[int, int]:
    match = MONTH_RE.match(month)
    if not match:
        raise ValueError(f"month must be YYYY-MM, got {month!r}")
    return int(match.group(1)), int(match.group(2))


def next_month(month: str) -> str:
    year, mon = parse_month(month)
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def month_bounds_ns(month: str, tz: str) -> tuple[int, int]:
    """[first, last) UTC nanoseconds of a local calendar month (743/745 h across DST)."""
    year, mon = parse_month(month)
    zone = ZoneInfo(tz)
    start = datetime(year, mon, 1, tzinfo=zone)
    ny, nm = parse_month(next_month(month))
    end = datetime(ny, nm, 1, tzinfo=zone)
    return _ns(start), _ns(end)


def _ns(moment: datetime) -> int:
    # Exact integer arithmetic: timestamp() is a float and loses nanoseconds far from 1970.
    epoch = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def months_of_year(month: str) -> list[str]:
    year, _ = parse_month(month)
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


@functools.lru_cache(maxsize=4096)
def local_midnight_ns(day: date, tz: str) -> int:
    return _ns(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)))


@functools.lru_cache(maxsize=4096)
def term_ns(start: date, end: date, tz: str) -> tuple[int, int]:
    """[first, last) UTC nanoseconds of a term of inclusive local dates."""
    return local_midnight_ns(start, tz), local_midnight_ns(end + timedelta(days=1), tz)
