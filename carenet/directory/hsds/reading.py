"""Reading HSDS input: ``open_source`` picks the reader for a path; the JSON readers live here.

A folder holding a tabular data package goes to ``tabular.read_tabular``; any
other path is JSON: one file (an object, an array, an API page) or every
``*.json`` below a folder. Each reader yields ``SourceItem``s one at a time: a
record with where it came from (file and line or row), or an error naming the
file and the line/column. A JSON array is decoded element by element, so a
file of a million services is never held in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from carenet.directory.hsds.sources import Source, SourceItem
from carenet.directory.hsds.tabular import read_tabular

CHUNK = 1 << 20


def open_source(path: str | Path) -> Source:
    """The records at ``path``: a JSON file, a folder of them, or a tabular data package."""
    path = Path(path)
    if path.is_dir() and _is_tabular(path):
        return read_tabular(path)
    files = [path] if path.is_file() else _json_files(path)
    total = sum(f.stat().st_size for f in files)
    return Source(total=total, items=_read_files(files, path if path.is_dir() else path.parent))


def _is_tabular(folder: Path) -> bool:
    return (folder / "datapackage.json").exists() or (folder / "services.csv").exists()


def _json_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if p.is_file())


def _read_files(files: list[Path], root: Path) -> Iterator[SourceItem]:
    done = 0
    for file in files:
        name = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
        for item in _read_json_file(file, name):
            item.done = done + item.done
            yield item
        done += file.stat().st_size


def _error(name: str, exc: json.JSONDecodeError) -> SourceItem:
    position = f"line {exc.lineno}, column {exc.colno}"
    return SourceItem(name, position, error=f"broken JSON: {exc.msg}")


def _read_json_file(file: Path, name: str) -> Iterator[SourceItem]:
    try:
        with file.open(encoding="utf-8") as handle:
            head = handle.read(CHUNK)
            first = head.lstrip()[:1]
            if first == "[":
                yield from _stream_array(handle, head, name)
                return
            text = head + handle.read()
    except UnicodeDecodeError:
        yield SourceItem(name, "line 1", error="file is not UTF-8 text")
        return
    except OSError as exc:
        yield SourceItem(name, "line 1", error=f"cannot read file: {exc.strerror}")
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield _error(name, exc)
        return
    size = len(text)
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        for index, obj in enumerate(data["contents"]):
            yield SourceItem(name, f"contents[{index}]", obj=obj, done=size)
    elif isinstance(data, dict):
        yield SourceItem(name, "line 1", obj=data, done=size)
    else:
        yield SourceItem(name, "line 1", error="expected a JSON object, an array or an API page")


def _stream_array(handle: Any, buf: str, name: str) -> Iterator[SourceItem]:
    """Decode a top-level JSON array one element at a time, tracking line numbers."""
    decoder = json.JSONDecoder()
    eof = False
    line = 1  # line number at buf[0]; buf always starts at the beginning of a line
    consumed = 0
    pos = buf.index("[") + 1
    expect_comma = False

    def more() -> bool:
        nonlocal buf, eof
        if eof:
            return False
        chunk = handle.read(CHUNK)
        if not chunk:
            eof = True
            return False
        buf += chunk
        return True

    def skip_space() -> bool:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf) or not more():
                return pos < len(buf)

    def where(at: int) -> str:
        start = buf.rfind("\n", 0, at) + 1
        return f"line {line + buf.count(chr(10), 0, at)}, column {at - start + 1}"

    while True:
        if not skip_space():
            yield SourceItem(name, where(pos), error="broken JSON: unexpected end of file")
            return
        if buf[pos] == "]":
            pos += 1
            if skip_space():
                yield SourceItem(name, where(pos), error="broken JSON: Extra data")
            return
        if expect_comma:
            if buf[pos] != ",":
                yield SourceItem(name, where(pos), error="broken JSON: Expecting ',' delimiter")
                return
            pos += 1
            if not skip_space():
                yield SourceItem(name, where(pos), error="broken JSON: unexpected end of file")
                return
        while True:
            try:
                obj, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                if not more():
                    yield SourceItem(name, where(exc.pos), error=f"broken JSON: {exc.msg}")
                    return
        start_line = line + buf.count("\n", 0, pos)
        yield SourceItem(name, f"line {start_line}", obj=obj, done=consumed + end)
        expect_comma = True
        cut = buf.rfind("\n", 0, end) + 1  # keep buf starting at a line start
        line += buf.count("\n", 0, cut)
        consumed += cut
        buf, pos = buf[cut:], end - cut
