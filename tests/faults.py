"""Faults an operator's machine really has, made real for the tests: a read-only or vanished database folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """The folder and its database file cannot be written by new connections (chmod, or chattr +i for root).

    The WAL's shared-memory file stays writable: connections that have it mapped would die of SIGBUS otherwise,
    which no permission change causes.
    """
    targets = [folder, *(p for p in folder.glob("*.sqlite"))]
    if os.geteuid() == 0:  # root ignores permissions; the immutable flag binds it too
        if not shutil.which("chattr"):
            pytest.skip("running as root without chattr: cannot make a file read-only")
        subprocess.run(["chattr", "+i", *map(str, targets)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, targets)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in targets}
        for p in targets:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


@contextlib.contextmanager
def gone(folder: Path) -> Iterator[None]:
    """The database folder is moved away (deleted, unmounted), then put back as it was."""
    aside = folder.with_name(folder.name + ".aside")
    folder.rename(aside)
    try:
        yield
    finally:
        aside.rename(folder)
