"""Named places -> ZIP codes, offline: counties, cities, states and ZIP lists.

``resolve_area("San Mateo County")`` gives the ZIP codes of a service area named
in words — the way real HSDS directories write them ("San Mateo County, CA",
"City of Miami", "Miami, FL", "Miami-Dade", "Statewide: FL", "Florida",
"ZIP 33130, 33131", "33130 33125", "Miami-Dade and Broward Counties") — so
"serves my address" search works for them. The ZIP data is the ``zipcodes``
package's (county and primary city per ZIP); state names are the table below.
The index is read once, on first use, from ``data/gazetteer.json.gz`` (made from
that data by ``python -m carenet.geo.gazetteer``; built from the package instead
when its version differs); answers are cached per (name, hint). It also gives
each ZIP code's centroid and time zone (``zip_facts``) without loading the
package, which takes 2 s.

A name that matches places in several states (``Orange County``, ``Miami``)
needs a state — in the name or as ``state_hint`` — otherwise it is unresolved
(None), like a name that matches nothing: the caller keeps the name and
reports it. Nationwide areas are not expanded (None).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming", "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands",
    "AS": "American Samoa", "MP": "Northern Mariana Islands",
}  # fmt: skip
MAX_NAME = 1000  # longer text is not a place name
_COUNTY_WORDS = ("county", "counties", "parish", "parishes", "borough", "boroughs",
                 "census area", "municipio", "municipality")  # fmt: skip
_CITY_PREFIXES = ("city of ", "town of ", "village of ", "township of ", "borough of ")
_STATEWIDE = re.compile(r"^(?:statewide|state ?wide|entire state|all of|state of)\b[\s:,-]*", re.I)
_STATEWIDE_TAIL = re.compile(r"[\s,:-]*\b(?:statewide|state ?wide|\(statewide\))$", re.I)
_ZIP_WORDS = re.compile(r"^(?:zip ?codes?|zips?|postal codes?|postcodes?)\b[\s:]*", re.I)
_ZIP_TOKEN = re.compile(r"^\d{5}(?:-\d{4})?$")
_SEPARATORS = re.compile(r"\s*(?:;|\n|/|\|| and | & |,)\s*", re.I)
_TRAILING_STATE = re.compile(r"^(.*?)[\s,]+\(?([A-Za-z .]+?)\)?\.?$")
_NATIONWIDE = {"nationwide", "national", "united states", "usa", "us", "all states"}


@dataclass(frozen=True)
class _Index:
    # ZIP lists sorted (tuples when built, lists when read: answers are made tuples)
    by_state: dict[str, Sequence[str]]
    counties: dict[str, dict[str, Sequence[str]]]  # county key -> state -> ZIPs
    cities: dict[str, dict[str, Sequence[str]]]  # city key -> state -> ZIPs
    state_names: dict[str, str]  # lower-case name or code -> code
    facts: dict[str, Sequence[Any]]  # ZIP -> (latitude, longitude, zone)


def _key(name: str) -> str:
    """A place name compared loosely: lower case, "Saint" as "st", no punctuation."""
    name = name.lower().replace("saint ", "st ").replace("ste. ", "ste ")
    name = re.sub(r"[.'\u2019]", "", name)
    return " ".join(re.sub(r"[-_]", " ", name).split())


def _county_key(name: str) -> str:
    key = _key(name)
    for word in sorted(_COUNTY_WORDS, key=len, reverse=True):
        if key.endswith(" " + word):
            return key[: -len(word) - 1].strip()
    return key


INDEX_FILE = Path(__file__).parent / "data" / "gazetteer.json.gz"


@lru_cache(maxsize=1)
def _index() -> _Index:
    """The index: from the file shipped with carenet (``INDEX_FILE``, read in about 0.1 s)
    when it was made from the installed ``zipcodes`` data, else built from that data (about
    2.5 s: the package takes 2 s to load its rows)."""
    try:
        stored = json.loads(gzip.decompress(INDEX_FILE.read_bytes()))
    except (OSError, ValueError):
        stored = None
    if not isinstance(stored, dict) or stored.get("zipcodes") != _zipcodes_version():
        return _build_index()
    keys = ("by_state", "counties", "cities", "state_names", "facts")
    return _Index(**{key: stored[key] for key in keys})


def _zipcodes_version() -> str:
    return metadata.version("zipcodes")


def _build_index() -> _Index:
    """Built from the ``zipcodes`` rows."""
    import zipcodes

    by_state: dict[str, set[str]] = defaultdict(set)
    counties: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    cities: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    facts: dict[str, Sequence[Any]] = {}
    for row in zipcodes.list_all():
        _add_facts(facts, row)
        code, state = row.get("zip_code") or "", (row.get("state") or "").upper()
        if not state or not code:
            continue
        by_state[state].add(code)
        if row.get("county"):
            counties[_county_key(row["county"])][state].add(code)
        if row.get("city"):
            cities[_key(row["city"])][state].add(code)
    state_names = {name.lower(): code for code, name in STATES.items()}
    state_names.update({code.lower(): code for code in STATES})
    state_names["us virgin islands"] = "VI"
    state_names["washington dc"] = state_names["washington d c"] = "DC"

    def frozen(table: dict[str, dict[str, set[str]]]) -> dict[str, dict[str, Sequence[str]]]:
        return {k: {s: tuple(sorted(z)) for s, z in v.items()} for k, v in table.items()}

    return _Index(
        by_state={s: tuple(sorted(z)) for s, z in by_state.items()},
        counties=frozen(counties),
        cities=frozen(cities),
        state_names=state_names,
        facts=facts,
    )


def _add_facts(facts: dict[str, Sequence[Any]], row: dict[str, Any]) -> None:
    """A ZIP code's centroid and time zone, as ``carenet.geo.postcodes`` reads them (rows
    without usable coordinates left out; a later row of the same code wins)."""
    try:
        latitude, longitude = float(row["lat"]), float(row["long"])
    except (TypeError, ValueError):
        return
    facts[row["zip_code"]] = (latitude, longitude, row.get("timezone") or None)


def write_index(path: Path = INDEX_FILE) -> None:
    """Write the index built from the installed ``zipcodes`` data to ``path`` (run
    ``python -m carenet.geo.gazetteer`` after upgrading ``zipcodes``)."""
    index = _build_index()
    data = {
        "zipcodes": _zipcodes_version(),
        "by_state": index.by_state,
        "counties": index.counties,
        "cities": index.cities,
        "state_names": index.state_names,
        "facts": index.facts,
    }
    text = json.dumps(data, separators=(",", ":"), sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def zip_facts(postcode: str) -> tuple[float | None, float | None, str | None]:
    """(latitude, longitude, IANA zone) of a ZIP code (ZIP+4 accepted), from the same data
    as ``carenet.geo.zip_centroid`` and ``timezone_for_postcode``; Nones when unknown."""
    latitude, longitude, zone = _index().facts.get(postcode.strip()[:5], (None, None, None))
    return latitude, longitude, zone


def state_code(name: str | None) -> str | None:
    """The two-letter code of a state or territory given by code or name, or None."""
    if not name:
        return None
    return _index().state_names.get(" ".join(name.replace(".", " ").lower().split()))


def _pick(table: dict[str, Sequence[str]] | None, state: str | None) -> tuple[str, ...] | None:
    """The ZIPs of the one state in ``table`` (the given one, or the only one)."""
    if not table:
        return None
    found = table.get(state) if state else next(iter(table.values())) if len(table) == 1 else None
    return tuple(found) if found is not None else None


def _of_state(code: str) -> tuple[str, ...] | None:
    found = _index().by_state.get(code)
    return tuple(found) if found is not None else None


def county_postcodes(county: str, state: str) -> tuple[str, ...]:
    """ZIP codes of a county ("Miami-Dade County", "FL"); empty when unknown."""
    return _pick(_index().counties.get(_county_key(county)), state.strip().upper()) or ()


def _zip_list(text: str) -> tuple[str, ...] | None:
    """ "ZIP 33130, 33131" / "33130 33125": the 5-digit codes, when that is all the text is."""
    tokens = [t for t in re.split(r"[\s,;/|]+|\band\b", _ZIP_WORDS.sub("", text)) if t]
    if not tokens or not all(_ZIP_TOKEN.match(t) for t in tokens):
        return None
    return tuple(sorted({t[:5] for t in tokens}))


def _split_state(text: str) -> tuple[str, str | None]:
    """("Miami", "FL") from "Miami, FL", "Miami FL", "Miami, Florida", "Miami (FL)";
    else (text, None)."""
    paren = re.match(r"^(.*?)\s*\(([^()]*)\)$", text)
    if paren and paren[1].strip() and state_code(paren[2]):
        return paren[1].strip(" ,"), state_code(paren[2])
    if "," in text:
        head, _, tail = text.rpartition(",")
        if head.strip(" ,") and state_code(tail):
            return head.strip(" ,"), state_code(tail)
    words = text.split()
    for size in (3, 2, 1):
        tail = " ".join(words[-size:])
        # A bare two-letter tail counts only in capitals ("Miami FL", not "Dade co").
        if len(words) > size and state_code(tail) and (len(tail) > 2 or tail.isupper()):
            return " ".join(words[:-size]), state_code(tail)
    return text, None


def _statewide(text: str, state: str | None) -> tuple[str, ...] | None:
    """ "Statewide: FL", "Florida statewide", "State of Florida"; a bare "Statewide" needs
    the hint."""
    body = _STATEWIDE_TAIL.sub("", _STATEWIDE.sub("", text)).strip(" ,:-()")
    code = state_code(body) if body else state
    return _of_state(code) if code else None


def _place(text: str, state: str | None) -> tuple[str, ...] | None:
    """One county or city name (the state already split off)."""
    index = _index()
    lowered = _key(text)
    for prefix in _CITY_PREFIXES:
        if lowered.startswith(prefix):
            return _pick(index.cities.get(_key(text)[len(prefix) :]), state)
    if lowered.startswith("county of "):
        return _pick(index.counties.get(_county_key(lowered[len("county of ") :])), state)
    if any(lowered.endswith(" " + word) for word in _COUNTY_WORDS):
        return _pick(index.counties.get(_county_key(text)), state)
    # A bare name: the city if there is one ("Miami, FL"), else the county ("Miami-Dade").
    # A bare word is a city only with a state: "Peninsula" alone is no place (Peninsula, OH).
    city = _pick(index.cities.get(lowered), state) if state else None
    return city or _pick(index.counties.get(lowered), state)


def _one(text: str, state_hint: str | None) -> tuple[str, ...] | None:
    """One place: a ZIP list, a state, a statewide area, a county or a city."""
    text = text.strip(" \t.,:;-")
    if not text:
        return None
    zips = _zip_list(text)
    if zips:
        return zips
    if _key(text) in _NATIONWIDE:
        return None
    whole_state = state_code(text)
    if whole_state:
        return _of_state(whole_state)
    if _STATEWIDE.search(text) or _STATEWIDE_TAIL.search(text):
        return _statewide(text, state_hint)
    body, state = _split_state(text)
    return _place(body, state or state_hint) if body else None


def _plural_county(parts: list[str]) -> list[str]:
    """ "Miami-Dade and Broward Counties": the last part's plural applies to every part."""
    last = _key(parts[-1])
    for word in ("counties", "parishes", "boroughs"):
        if last.endswith(" " + word):
            singular = {"counties": "County", "parishes": "Parish", "boroughs": "Borough"}[word]
            return [f"{_county_key(p)} {singular}" for p in parts]
    return parts


@lru_cache(maxsize=8192)
def resolve_area(name: str, state_hint: str | None = None) -> tuple[str, ...] | None:
    """The sorted ZIP codes of a place named in words, or None when it cannot be resolved.

    Never raises: any text (or a hint that is not a state) just fails to resolve.
    """
    if not isinstance(name, str) or len(name) > MAX_NAME:
        return None
    hint = state_code(state_hint) if isinstance(state_hint, str) else None
    text = " ".join(name.split())
    found = _one(text, hint)
    if found:
        return found
    parts = [p for p in _SEPARATORS.split(text) if p.strip(" .,:;-")]
    if len(parts) > 1 and state_code(parts[-1]):  # "Miami-Dade, Broward, FL"
        hint = state_code(parts.pop())
    if len(parts) < 2:
        return None
    # "Miami, FL" is one place with a state; "Miami-Dade, Broward" two places.
    merged: set[str] = set()
    for part in _plural_county(parts):
        codes = _one(part, hint)
        if not codes:
            return None
        merged.update(codes)
    return tuple(sorted(merged))


if __name__ == "__main__":
    write_index()
    print(f"wrote {INDEX_FILE}")
