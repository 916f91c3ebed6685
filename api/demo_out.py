"""The demo's output folder: it never deletes what it did not create.

A new or empty folder is used as it is. When the demo finishes it lists every file it wrote
in `.mzekari-demo`; the next run into that folder removes exactly those files, and refuses to
go on if anything else is there. Any other non-empty folder is refused (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from mzekari.errors import InputError, Problem

MANIFEST = ".mzekari-demo"


def _refuse(out: Path, message: str) -> InputError:
    return InputError(Problem(str(out), None, "--out", message))


def prepare(out: Path) -> None:
    """Make `out` ready: create it, or empty it of this command's own earlier files only."""
    if out.exists() and not out.is_dir():
        raise _refuse(out, "exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    if manifest.is_file() and not manifest.is_symlink():
        root = out.resolve()
        for name in manifest.read_text(encoding="utf-8").splitlines():
            path = out / name
            # Only regular files inside the folder; a listed name that escapes it is ignored.
            if path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(root):
                path.unlink()
        manifest.unlink()
        for folder in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
    left = sorted(p.name for p in out.iterdir())
    if left:
        raise _refuse(
            out,
            f"is not empty and holds files this command did not create ({', '.join(left[:5])}"
            f"{', …' if len(left) > 5 else ''}): choose a new or empty folder",
        )


def record(out: Path) -> None:
    """List every file now in `out` (all written by this run, which started on an empty
    folder), so the next run removes exactly these."""
    names = sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != MANIFEST
    )
    (out / MANIFEST).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
