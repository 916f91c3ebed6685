"""Output files that appear whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_staged(out_dir: Path, render: Callable[[Path], list[Path]]) -> list[Path]:
    """`render(folder)` writes its files into a hidden staging folder inside `out_dir`; only
    when every one is complete are they renamed into `out_dir` (a rename within one file
    system replaces a file whole). A failure while rendering leaves `out_dir` as it was."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        written = render(staging)
        targets = []
        for path in written:
            target = out_dir / path.name
            os.replace(path, target)
            targets.append(target)
        return targets
    finally:
        shutil.rmtree(staging, ignore_errors=True)
