"""Newline-delimited JSON (``.ndjson``, ``.jsonl``): one HSDS object per line.

Each line is decoded on its own, so a broken line is one error (``line N,
column C``) and the lines after it are still read; blank lines are skipped.
The file is read line by line (bytes, decoded per line), never held whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from carenet.directory.hsds.sources import SourceItem

SUFFIXES = (".ndjson", ".jsonl", ".ldjson")


def is_ndjson(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def read_ndjson(file: Path, name: str, start: int = 0) -> Iterator[SourceItem]:
    """The objects of ``file`` (shown as ``name``), one per line; ``done`` counts bytes from
    ``start`` (the bytes of the files read before this one)."""
    try:
        handle = file.open("rb")
    except OSError as exc:
        yield SourceItem(name, "line 1", error=f"cannot read file: {exc.strerror}")
        return
    done = start
    with handle:
        for number, raw in enumerate(handle, 1):
            done += len(raw)
            item = _line_item(raw, name, number, done)
            if item is not None:
                yield item


def _line_item(raw: bytes, name: str, number: int, done: int) -> SourceItem | None:
    """The record (or error) of one line; None for a blank line."""
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        return SourceItem(name, f"line {number}", error="line is not UTF-8 text", done=done)
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        where = f"line {number}, column {exc.colno}"
        return SourceItem(name, where, error=f"broken JSON: {exc.msg}", done=done)
    except RecursionError:
        return SourceItem(name, f"line {number}", error="JSON nested too deeply", done=done)
    if not isinstance(obj, dict):
        return SourceItem(
            name, f"line {number}", error="expected one JSON object per line", done=done
        )
    return SourceItem(name, f"line {number}", obj=obj, done=done)


def looks_like_ndjson(head: str) -> bool:
    """True when a ``.json`` file's text starts with a whole object on its first line and
    another object follows on the next (so it is really one object per line)."""
    first, _, rest = head.lstrip("\ufeff \t\r\n").partition("\n")
    if not first.lstrip().startswith("{") or not rest.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except (json.JSONDecodeError, RecursionError):
        return False
