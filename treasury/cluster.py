"""A local Dask cluster tuned for the forecast's array work.

Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_ set, which turns off glibc's adaptive
mmap threshold: every array above 128 kB is then mapped and unmapped on each numpy operation,
and a worker spends its time in page faults (measured here: ~70x the faults of a plain
process, 2-4x the wall time). Raising the mmap threshold in each worker restores heap reuse.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
MMAP_THRESHOLD_BYTES = 64 * 1024 * 1024


def keep_arrays_on_heap() -> bool:
    """In a worker: let glibc reuse freed blocks up to 64 MB (no-op off glibc)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


def local_cluster(n_workers: int, threads_per_worker: int = 1) -> tuple[Any, Any]:
    """(cluster, client): worker processes on this machine, tuned with keep_arrays_on_heap."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        dashboard_address=None,
    )
    client = Client(cluster)
    client.run(keep_arrays_on_heap)
    return cluster, client
