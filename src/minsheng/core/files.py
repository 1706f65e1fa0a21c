"""Replacing a directory by renames: a reader sees the old one or the new one, never half of either."""

from __future__ import annotations

import shutil
from pathlib import Path


def replace_directory(staging: Path, target: Path) -> None:
    """Put a finished directory in place of target by renames: readers see the old or the new, never half."""
    old = target.with_name(f".{target.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
