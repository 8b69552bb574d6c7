"""Fixtures for directory import/export tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from directory_helpers import DATA, table_counts


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def counts() -> Callable[[], dict[str, int]]:
    return table_counts
