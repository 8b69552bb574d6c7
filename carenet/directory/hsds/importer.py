"""Import HSDS 3.0 (JSON, API pages, folders, tabular packages incl. 1.x 211 exports).

Every record is validated and mapped in Python first (``mapping``); a
rejected record never reaches the database. Good records are written in
batches of ``CARENET_IMPORT_BATCH_SIZE`` (one transaction each). Should the
database still refuse a batch, it is rolled back and replayed one record per
transaction, so only the offending record is rejected. See docs/hsds.md.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from carenet.db.bulk import DeferredCheckpoints
from carenet.db.retry import begin_writing
from carenet.directory.hsds import writing
from carenet.directory.hsds.mapping import Defaults, MappedRecord
from carenet.directory.hsds.mapping_pool import Outcome, mapped, warm_up
from carenet.directory.hsds.reading import SourceItem, open_source
from carenet.extensions import db

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class Rejection:
    record_id: str | None
    file: str
    position: str
    reason: str

    def __str__(self) -> str:
        record = f"record {self.record_id}" if self.record_id else "input"
        return f"{record} ({self.file} {self.position}): {self.reason}"

    def as_json(self, kind: str) -> dict[str, Any]:
        return {"kind": kind, "record_id": self.record_id, "file": self.file} | {
            "position": self.position,
            "message": self.reason,
        }


class Notice(Rejection):
    """A warning: the record was imported, something in it was left out or derived."""

    def __contains__(self, text: str) -> bool:  # `"dropped" in warning`
        return text in str(self)


@dataclass
class ImportReport:
    """What an import did: counts per entity, every rejected record, warnings, timing."""

    dry_run: bool = False
    records: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0  # mapping processes beside the importing one (``mapping_pool``)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        verb = "Checked (dry run, nothing written)" if self.dry_run else "Imported"
        would = "would be " if self.dry_run else ""
        rate = f"{self.rate:.0f} records/s"
        out = [f"{verb}: {self.records} records read in {self.seconds:.1f} s ({rate})"]
        for entity in writing.ENTITIES:
            created, updated = self.counts[f"{entity}_created"], self.counts[f"{entity}_updated"]
            out.append(f"{entity}s: {created} {would}created, {updated} {would}updated")
        out.append(f"rejected: {len(self.rejected)}")
        out.extend(f"  {rejection}" for rejection in self.rejected)
        if self.warnings:
            out.append(f"warnings: {len(self.warnings)}")
            out.extend(f"  {warning}" for warning in self.warnings[:SHOWN])
            if len(self.warnings) > SHOWN:
                out.append(f"  ... {len(self.warnings) - SHOWN} more (all of them: --report FILE)")
        return out

    def summary(self) -> str:
        return f"rejected: {len(self.rejected)}, warnings: {len(self.warnings)}"

    def write_json_lines(self, path: str | Path) -> None:
        """Every rejection and warning as one JSON object per line."""
        with Path(path).open("w", encoding="utf-8") as handle:
            for kind, items in (("rejected", self.rejected), ("warning", self.warnings)):
                for item in items:
                    handle.write(json.dumps(item.as_json(kind), ensure_ascii=False) + "\n")


SHOWN = 50  # warnings printed; the report file has all
GC_BATCHES = 20  # batches between two passes of the garbage collector during an import


@dataclass
class _Pending:
    item: SourceItem
    record: MappedRecord


def _record_id(item: SourceItem) -> str | None:
    if item.source_id:
        return item.source_id
    if isinstance(item.obj, dict) and item.obj.get("id") not in (None, ""):
        return str(item.obj["id"])
    return None


def _db_reason(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
    return f"database refused the record: {first}"


STATUS_SHOWN = 5  # service ids named in the summary of services without a status


@dataclass
class _StatusDefaulted:
    """Services whose status was missing or unknown and taken as active: one warning for
    the whole import, with the count, the first record's file and position, the first ids."""

    count: int = 0
    first: Notice | None = None
    ids: list[str] = field(default_factory=list)

    def add(self, item: SourceItem, record_id: str | None, service_ids: list[str]) -> None:
        if self.first is None:
            self.first = Notice(record_id, item.file, item.position, "")
        self.count += len(service_ids)
        self.ids.extend(service_ids[: STATUS_SHOWN - len(self.ids)])

    def notice(self) -> Notice | None:
        if self.first is None:
            return None
        more = f", and {self.count - len(self.ids)} more" if self.count > len(self.ids) else ""
        services = "service" if self.count == 1 else "services"
        reason = (
            f"status is missing or unknown on {self.count} {services}; taken as active"
            f" (service {', '.join(self.ids)}{more})"
        )
        return Notice(self.first.record_id, self.first.file, self.first.position, reason)


class _Importer:
    def __init__(self, report: ImportReport, batch_size: int, defaults: Defaults) -> None:
        self.report, self.batch_size, self.defaults = report, batch_size, defaults
        self.pending: list[_Pending] = []
        self.seen: dict[str, set[str]] = {t: set() for t in writing.ENTITIES}
        self.status_defaulted = _StatusDefaulted()
        self.batches = 0  # batches flushed
        self.checkpoints = DeferredCheckpoints()  # SQLite: fewer WAL checkpoints (db.bulk)

    def reject(self, item: SourceItem, reason: str) -> None:
        self.report.rejected.append(Rejection(_record_id(item), item.file, item.position, reason))

    def add(self, item: SourceItem, outcome: Outcome) -> None:
        """One item read, with its outcome (``mapping_pool``): mapped, rejected or broken."""
        if item.error or outcome is None:
            self.reject(item, item.error or "record cannot be read")
            return
        self.report.records += 1
        verdict, mapped_or_reason = outcome
        if verdict != "ok":
            self.reject(item, mapped_or_reason)
            return
        record: MappedRecord = mapped_or_reason
        record_id = _record_id(item) or record.id or None
        self.report.warnings.extend(
            Notice(record_id, item.file, item.position, w) for w in record.warnings
        )
        if record.status_defaulted:
            self.status_defaulted.add(item, record_id, record.status_defaulted)
        if record.kind == "not-a-record":
            return
        self.pending.append(_Pending(item, record))
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        self.batches += 1
        if self.batches % GC_BATCHES == 0:
            gc.collect()  # the collector is off while an import runs (import_path)
        if not self.report.dry_run:
            begin_writing(db.session())  # SQLite: BEGIN IMMEDIATE, the write lock up front
        problems = writing.missing_references([p.record for p in batch])
        for index in sorted(problems):
            self.reject(batch[index].item, problems[index])
        batch = [p for i, p in enumerate(batch) if i not in problems]
        for index, notes in writing.unknown_optional([p.record for p in batch]).items():
            item = batch[index].item
            self.report.warnings.extend(
                Notice(_record_id(item), item.file, item.position, n) for n in notes
            )
        if self.report.dry_run:
            self._count(writing.merge([p.record for p in batch]))
            db.session.rollback()
            return
        try:
            self._write([p.record for p in batch])
        except SQLAlchemyError:
            db.session.rollback()
            for pending in batch:  # isolate the record the database refused
                try:
                    begin_writing(db.session())
                    self._write([pending.record])
                except SQLAlchemyError as exc:
                    db.session.rollback()
                    self.reject(pending.item, _db_reason(exc))

    def _count(self, merged: MappedRecord) -> None:
        counts, new_seen = writing.count_changes(merged, self.seen)
        self.report.counts.update(counts)
        for table, ids in new_seen.items():
            self.seen[table] |= ids

    def _write(self, records: list[MappedRecord]) -> None:
        from carenet.directory.hsds.search_batch import refresh_search

        merged = writing.merge(records)
        self.checkpoints.defer(db.session.connection())
        existing = writing.write(merged)
        counts, new_seen = writing.count_changes(merged, self.seen, existing)
        refresh_search(merged, existing)
        db.session.commit()
        self.report.counts.update(counts)
        for table, ids in new_seen.items():
            self.seen[table] |= ids


def import_path(
    path: str | Path,
    *,
    dry_run: bool = False,
    batch_size: int | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import every record at ``path``; returns the report (rejections included).

    ``workers``: processes that map records while this one writes (``mapping_pool``);
    by default ``CARENET_IMPORT_WORKERS``, else automatic (``_workers``)."""
    from carenet.directory.service import ensure_taxonomy

    started = time.perf_counter()
    report = ImportReport(dry_run=dry_run)
    config = current_app.config
    size = batch_size or int(config.get("IMPORT_BATCH_SIZE") or 500)
    defaults = Defaults(timezone=config.get("DEFAULT_TIMEZONE") or "America/New_York")
    if not dry_run:
        ensure_taxonomy()
        db.session.commit()
    importer = _Importer(report, max(1, size), defaults)
    source = open_source(path)
    shown = 0
    pool = report.workers = _workers(config, _input_bytes(path)) if workers is None else workers
    # What lives before the import (the gazetteer's million objects, the app) is left out of
    # the garbage collector's full passes while it runs: they cost ~10 % of an import. And
    # the collector runs once every GC_BATCHES batches, not on its own: with so little left
    # in its oldest generation, each batch's pending records (promoted there) set off full
    # passes over every young object several times a batch (another ~8 %).
    collecting = gc.isenabled()
    gc.disable()  # from here: warm_up builds the gazetteer's objects (no full pass among them)
    try:
        warm_up()
        gc.freeze()
        for item, outcome in mapped(source.items, defaults, pool):
            importer.add(item, outcome)
            if progress and importer.batches > shown:  # once per batch written
                shown = importer.batches
                progress(item.done, source.total)
        importer.flush()
    finally:
        if collecting:
            gc.enable()
        gc.unfreeze()
        importer.checkpoints.restore()
    if progress:
        progress(source.total, source.total)
    summary = importer.status_defaulted.notice()
    if summary is not None:
        report.warnings.append(summary)
    report.seconds = time.perf_counter() - started
    return report


AUTO_WORKER_BYTES = 4 * 2**20  # inputs from this size get a mapping worker by default


def _workers(config: Any, total_bytes: int) -> int:
    """How many mapping processes an import uses: ``CARENET_IMPORT_WORKERS`` if set, else
    automatic — one when this process may run on two CPUs or more and the files to read
    are ``AUTO_WORKER_BYTES`` or more (about 2,500 services; below that, starting a worker
    costs more than it saves), else none (docs/hsds.md, docs/performance.md)."""
    configured = str(config.get("IMPORT_WORKERS") or "").strip()
    if configured.isdigit():
        return max(0, int(configured))
    return 1 if _cpus() >= 2 and total_bytes >= AUTO_WORKER_BYTES else 0


def _input_bytes(path: str | Path) -> int:
    """The size of the files at ``path`` (a file, or every file under a folder); 0 for an
    HSDS API URL (its size is not known before it is read)."""
    from carenet.directory.hsds import remote

    if remote.is_url(path):
        return 0
    path = Path(path)
    try:
        if path.is_file():
            return path.stat().st_size
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    except OSError:  # unreadable: open_source reports it
        return 0


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def run_import_command(
    path: str,
    dry_run: bool = False,
    report_file: str | None = None,
    progress: bool | None = None,
) -> None:
    """The ``carenet import-hsds`` command: import, print the report (all of it as JSON
    lines to ``report_file`` if given), exit 1 on rejections. A progress bar goes to stderr
    when ``progress``, by default when stderr is a terminal."""
    bar: Any = None
    last = 0
    show = sys.stderr.isatty() if progress is None else progress

    def advance(done: int, total: int) -> None:
        nonlocal bar, last
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label="Importing", file=sys.stderr)
            bar.__enter__()
        done = min(done, total)
        if done > last:
            bar.update(done - last)
            last = done

    try:
        report = import_path(path, dry_run=dry_run, progress=advance if show else None)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for line in report.lines():
        click.echo(line)
    if report_file:
        try:
            report.write_json_lines(report_file)
        except OSError as exc:
            raise click.ClickException(f"cannot write {report_file}: {exc.strerror}") from None
        click.echo(f"{report.summary()} (every one in {report_file})")
    if report.rejected:
        raise click.exceptions.Exit(1)
