"""HSDS 3.0 import and export: ``carenet import-hsds``, ``carenet export-hsds``, ``carenet seed``.

The public surface is ``import_path`` (returns an ``ImportReport``) and
``export_directory``. The modules, in the order data flows on import
(see docs/hsds.md):

- ``reading``: ``open_source(path)``, the JSON readers (files, folders, API pages);
- ``tabular``: CSV data packages (HSDS 3.0 and 211 HSDS 1.x) -> compiled service objects;
- ``sources``: ``Source`` / ``SourceItem``, what every reader yields;
- ``legacy``: cleaning rules for 211 data (HSDS 1.x) and the AIRS code table;
- ``mapping``: validation, one HSDS object -> rows per table (``fields``: single-field readers;
  ``conventions``: carenet's attributes and service-area extents);
- ``writing``: batched upsert of mapped records;
- ``importer``: orchestration, batches, the report;
- ``exporter``: the directory as ``organizations.json`` and ``services.json``;
- ``schema/``: the official compiled JSON schemas the export is tested against.
"""

from carenet.directory.hsds.exporter import export_directory
from carenet.directory.hsds.importer import ImportReport, import_path

__all__ = ["ImportReport", "export_directory", "import_path"]
