"""Reading HSDS input: ``open_source`` picks the reader for a path; the JSON readers live here.

An ``http(s)://`` URL is another HSDS API (``remote.open_remote``); a folder
holding a tabular data package goes to ``tabular.read_tabular``; an
``.ndjson``/``.jsonl`` file (or a ``.json`` file holding one object per line)
to ``ndjson.read_ndjson``; any other path is JSON: one file (an object, an
array, an API page) or every ``*.json``/``*.ndjson``/``*.jsonl`` below a folder.
Each reader yields ``SourceItem``s one at a time: a record with where it came
from (file and line or row), or an error naming the file and the line/column. A
JSON array is decoded element by element, so a file of a million services is
never held in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from carenet.directory.hsds import remote
from carenet.directory.hsds.ndjson import SUFFIXES, is_ndjson, looks_like_ndjson, read_ndjson
from carenet.directory.hsds.sources import Source, SourceItem
from carenet.directory.hsds.tabular import read_tabular

CHUNK = 1 << 20


def _remote_options() -> remote.Options:
    """Timeout and retries of HTTP imports (``CARENET_IMPORT_HTTP_*``; defaults outside an app)."""
    from flask import current_app, has_app_context

    config = current_app.config if has_app_context() else {}
    return remote.Options(
        timeout=float(config.get("IMPORT_HTTP_TIMEOUT") or 30),
        retries=int(config.get("IMPORT_HTTP_RETRIES", 3)),
    )


def open_source(path: str | Path) -> Source:
    """The records at ``path``: an HSDS API URL, a JSON or ndjson file, a folder of them,
    or a tabular data package."""
    if remote.is_url(path):
        try:
            return remote.open_remote(str(path), _remote_options())
        except ValueError as exc:
            return Source(total=0, items=iter([SourceItem(str(path), "URL", error=str(exc))]))
    path = Path(path)
    if path.is_dir() and _is_tabular(path):
        return read_tabular(path)
    files = [path] if path.is_file() else _json_files(path)
    total = sum(f.stat().st_size for f in files)
    return Source(total=total, items=_read_files(files, path if path.is_dir() else path.parent))


def _is_tabular(folder: Path) -> bool:
    return (folder / "datapackage.json").exists() or (folder / "services.csv").exists()


def _json_files(folder: Path) -> list[Path]:
    suffixes = (".json", *SUFFIXES)
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes and p.is_file())


def _read_files(files: list[Path], root: Path) -> Iterator[SourceItem]:
    done = 0
    for file in files:
        name = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
        reader = read_ndjson if is_ndjson(file) else _read_json_file
        for item in reader(file, name):
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
            if first == "{" and looks_like_ndjson(head):
                handle.close()
                yield from read_ndjson(file, name)
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
    """Decode a top-level JSON array one element at a time, tracking line numbers.

    ``_ArrayText`` holds the text read so far and moves through it; a syntax error
    ends the stream with one error item naming its line and column.
    """
    text = _ArrayText(handle, buf)
    try:
        first = True
        while text.to_element(first):
            obj, end = text.decode()
            start_line = text.line_of(text.pos)
            yield SourceItem(name, f"line {start_line}", obj=obj, done=text.consumed + end)
            text.drop_before_line_of(end)
            first = False
    except _BrokenJSON as exc:
        yield SourceItem(name, text.where(exc.at), error=f"broken JSON: {exc.msg}")


class _BrokenJSON(Exception):
    """A syntax error at offset ``at`` of ``_ArrayText.buf``; ``msg`` as ``json`` words it."""

    def __init__(self, msg: str, at: int) -> None:
        super().__init__(msg)
        self.msg, self.at = msg, at


class _ArrayText:
    """The part of a JSON array file not yet decoded, read on a chunk at a time.

    ``buf`` always starts at the beginning of a line: ``line`` is that line's number
    and ``consumed`` the characters dropped before it; ``pos`` is where reading
    resumes in ``buf`` (starting just after the array's ``[``).
    """

    __slots__ = ("buf", "consumed", "decoder", "eof", "handle", "line", "pos")

    def __init__(self, handle: Any, buf: str) -> None:
        self.handle = handle
        self.buf = buf
        self.eof = False
        self.line = 1
        self.consumed = 0
        self.pos = buf.index("[") + 1
        self.decoder = json.JSONDecoder()

    def more(self) -> bool:
        """Append the next chunk of the file to ``buf``; False once the file is used up."""
        if self.eof:
            return False
        chunk = self.handle.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def skip_space(self) -> bool:
        """Move ``pos`` past whitespace, reading on as needed; False if the file ends first."""
        buf, pos = self.buf, self.pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf) or not self.more():
                self.pos = pos
                return pos < len(buf)
            buf = self.buf

    def to_element(self, first: bool) -> bool:
        """Move ``pos`` to the next element (past the ``,`` unless ``first``); False at ``]``.

        Raises ``_BrokenJSON`` when the file ends first, when anything follows the
        closing ``]``, or when an element is not followed by ``,`` or ``]``.
        """
        if not self.skip_space():
            raise _BrokenJSON("unexpected end of file", self.pos)
        if self.buf[self.pos] == "]":
            self.pos += 1
            if self.skip_space():
                raise _BrokenJSON("Extra data", self.pos)
            return False
        if not first:
            self.skip_comma()
        return True

    def skip_comma(self) -> None:
        """Move ``pos`` past the ``,`` at ``pos`` and the whitespace after it."""
        if self.buf[self.pos] != ",":
            raise _BrokenJSON("Expecting ',' delimiter", self.pos)
        self.pos += 1
        if not self.skip_space():
            raise _BrokenJSON("unexpected end of file", self.pos)

    def decode(self) -> tuple[Any, int]:
        """The element at ``pos`` and its end offset in ``buf``, reading on until it is whole."""
        while True:
            try:
                return self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if not self.more():
                    raise _BrokenJSON(exc.msg, exc.pos) from None

    def line_of(self, at: int) -> int:
        return self.line + self.buf.count("\n", 0, at)

    def where(self, at: int) -> str:
        start = self.buf.rfind("\n", 0, at) + 1
        return f"line {self.line_of(at)}, column {at - start + 1}"

    def drop_before_line_of(self, end: int) -> None:
        """Forget the text before the line holding ``end`` (where reading resumes)."""
        cut = self.buf.rfind("\n", 0, end) + 1
        self.line += self.buf.count("\n", 0, cut)
        self.consumed += cut
        self.buf, self.pos = self.buf[cut:], end - cut
