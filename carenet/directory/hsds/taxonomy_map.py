"""carenet categories for terms of other taxonomies, from a mapping file.

``categories_for_term(vocabulary, code, name)`` answers from
``seed_data/taxonomy_map.csv`` plus, when ``CARENET_TAXONOMY_MAP`` names one, an
admin's file in the same form (columns ``vocabulary, code_prefix_or_term,
carenet_category, note``). The admin's rows extend the table; a row whose
vocabulary and key are already in the shipped table replaces those rows (an
empty ``carenet_category`` maps the key to nothing). Lines starting with ``#``
are comments.

How a key matches depends on the vocabulary:

- ``airs`` (AIRS/211 codes): ``code_prefix_or_term`` is a code prefix; the
  longest prefix that the code equals or continues with ``.`` or ``-`` wins.
  carenet keeps codes only: the AIRS taxonomy's term names are proprietary.
- every other vocabulary (``open-eligibility``, or any an admin adds): the
  term's name or its code, compared without case and punctuation.

The vocabulary of a term is recognised by name ("Open Eligibility", "AIRS",
"211 LA County", ... — see ``VOCABULARY_ALIASES``); a term whose vocabulary is
missing or unknown is tried as an AIRS code, then under every vocabulary by name.
"""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from carenet.directory.taxonomy import BY_SLUG

SEED_MAP = Path(__file__).resolve().parents[3] / "seed_data" / "taxonomy_map.csv"
COLUMNS = ("vocabulary", "code_prefix_or_term", "carenet_category", "note")
AIRS = "airs"
OPEN_ELIGIBILITY = "open-eligibility"
# normalised vocabulary name -> the vocabulary of the mapping file
VOCABULARY_ALIASES: dict[str, str] = {
    "airs": AIRS, "211": AIRS, "airs211": AIRS, "211airs": AIRS, "airs211la": AIRS,
    "211la": AIRS, "211lacounty": AIRS, "airs211taxonomy": AIRS, "211taxonomy": AIRS,
    "211hsis": AIRS, "airstaxonomy": AIRS, "211lacountytaxonomy": AIRS,
    "openeligibility": OPEN_ELIGIBILITY, "oe": OPEN_ELIGIBILITY,
    "openeligibilitytaxonomy": OPEN_ELIGIBILITY, "openeligibilityproject": OPEN_ELIGIBILITY,
    "servicecategory": OPEN_ELIGIBILITY,  # ORServices' name for its Open Eligibility terms
}  # fmt: skip
_AIRS_CODE = re.compile(r"^[A-Z]{1,2}(?:-\d{4}(?:\.\d{4}(?:-\d{3}(?:\.\d{2,3})?)?)?)?$")


class TaxonomyMapError(ValueError):
    """A mapping file that cannot be used: the message names the file and line."""


@dataclass(frozen=True)
class _Table:
    prefixes: dict[str, tuple[str, ...]]  # AIRS prefix -> categories
    prefixes_longest_first: tuple[str, ...]
    terms: dict[str, dict[str, tuple[str, ...]]]  # vocabulary -> term key -> categories


def _norm(value: str) -> str:
    """Compared without case, spaces or punctuation: "Open Eligibility" -> "openeligibility"."""
    return re.sub(r"[\W_]+", "", value.casefold())


def vocabulary_of(name: str | None) -> str | None:
    """The mapping file's vocabulary for a taxonomy's name or id, or its normalised form."""
    if not name or not name.strip():
        return None
    key = _norm(name)
    return VOCABULARY_ALIASES.get(key, key or None)


def _read(path: Path) -> list[tuple[str, str, str, int]]:
    """(vocabulary, key, category or "", line) per row; ``TaxonomyMapError`` if unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyMapError(f"taxonomy map {path}: cannot be read ({exc})") from None
    numbered = [
        (number, line)
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    parsed = list(csv.reader([line for _n, line in numbered]))
    header = [h.strip() for h in parsed[0]] if parsed else []
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        raise TaxonomyMapError(f"taxonomy map {path}: missing columns {', '.join(missing)}")
    rows = []
    for (line, _text), values in zip(numbered[1:], parsed[1:], strict=False):
        row = dict(zip(header, values, strict=False))
        vocabulary = vocabulary_of(row.get("vocabulary") or "")
        key = (row.get("code_prefix_or_term") or "").strip()
        category = (row.get("carenet_category") or "").strip()
        if not vocabulary and not key and not category:
            continue  # a blank or comment line
        if not vocabulary or not key:
            raise TaxonomyMapError(f"taxonomy map {path} line {line}: vocabulary and key needed")
        if category and category not in BY_SLUG:
            raise TaxonomyMapError(
                f"taxonomy map {path} line {line}: unknown carenet category '{category}'"
                f" (expected one of {', '.join(BY_SLUG)})"
            )
        rows.append((vocabulary, key, category, line))
    return rows


def _table(rows: list[tuple[str, str, str, int]]) -> _Table:
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for vocabulary, key, category, _line in rows:
        match_key = key.strip().upper() if vocabulary == AIRS else _norm(key)
        entry = grouped[(vocabulary, match_key)]
        if category and category not in entry:
            entry.append(category)
    prefixes = {k: tuple(v) for (voc, k), v in grouped.items() if voc == AIRS}
    terms: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for (vocabulary, key), categories in grouped.items():
        if vocabulary != AIRS:
            terms[vocabulary][key] = tuple(categories)
    longest_first = tuple(sorted(prefixes, key=len, reverse=True))
    return _Table(prefixes, longest_first, dict(terms))


def _merge(seed: list[tuple[str, str, str, int]], admin: list[tuple[str, str, str, int]]):
    """The admin's rows replace the shipped rows with the same vocabulary and key."""
    replaced = {(v, k.strip().upper() if v == AIRS else _norm(k)) for v, k, _c, _l in admin}
    kept = [r for r in seed if (r[0], r[1].strip().upper() if r[0] == AIRS else _norm(r[1]))
            not in replaced]  # fmt: skip
    return kept + admin


@lru_cache(maxsize=4)
def _load(seed: str, admin: str | None, admin_mtime: int) -> _Table:
    rows = _read(Path(seed))
    if admin:
        rows = _merge(rows, _read(Path(admin)))
    return _table(rows)


def admin_map_path() -> str | None:
    """The admin's mapping file: ``CARENET_TAXONOMY_MAP`` (the app's config, else the
    environment); None when unset."""
    from flask import current_app, has_app_context

    value = current_app.config.get("TAXONOMY_MAP") if has_app_context() else None
    return value or os.environ.get("CARENET_TAXONOMY_MAP") or None


def current_table() -> _Table:
    """The table in force (reloaded when the admin's file changes)."""
    admin = admin_map_path()
    mtime = 0
    if admin:
        try:
            mtime = os.stat(admin).st_mtime_ns
        except OSError:
            raise TaxonomyMapError(f"taxonomy map {admin}: no such file") from None
    return _load(str(SEED_MAP), admin, mtime)


def _airs(table: _Table, code: str) -> tuple[str, ...] | None:
    code = code.strip().upper()
    for prefix in table.prefixes_longest_first:
        if code == prefix or code.startswith((prefix + ".", prefix + "-")):
            return table.prefixes[prefix]
    return None


def _by_name(table: _Table, vocabulary: str, code: str, name: str) -> tuple[str, ...] | None:
    terms = table.terms.get(vocabulary) or {}
    for value in (name, code):
        found = terms.get(_norm(value)) if value else None
        if found is not None:
            return found
    return None


def categories_for_term(
    vocabulary: str | None, code: str | None, name: str | None
) -> tuple[str, ...]:
    """carenet category slugs for one term of another taxonomy (empty: maps to none)."""
    table = current_table()
    known = vocabulary_of(vocabulary)
    code, name = (code or "").strip(), (name or "").strip()
    if known == AIRS:
        return (_airs(table, code) or ()) if code else ()
    if known in table.terms:
        return _by_name(table, known, code, name) or ()
    if code and _AIRS_CODE.match(code.upper()):
        found = _airs(table, code)
        if found is not None:
            return found
    for other in table.terms:
        found = _by_name(table, other, code, name)
        if found is not None:
            return found
    return ()
