"""``carenet seed``: load seed_data/ (real Open211 Miami services as HSDS 3.0 JSON).

Seeding is an import of seed_data/ by id, so running it twice leaves the same
rows (the second run updates, it never duplicates). See seed_data/README.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from carenet.directory.hsds import ImportReport, import_path

SEED_DIR = Path(__file__).resolve().parent.parent.parent / "seed_data"


def seed_folder() -> Path:
    """Where the seed files are (``CARENET_SEED_DIR`` overrides the repository's seed_data/)."""
    return Path(os.environ.get("CARENET_SEED_DIR") or SEED_DIR)


def seed_directory(echo: Callable[[str], object] = print) -> ImportReport:
    """Import the seed files; echo the import report; return it."""
    folder = seed_folder()
    if not (folder / "services.json").exists():
        raise FileNotFoundError(f"no seed data at {folder}: run seed_data/build_seed.py")
    report = import_path(folder)
    for line in report.lines():
        echo(line)
    return report
