"""The import's one-call schema check of a kept object gives what checking each field
does (``extras.extra_fields`` and ``extras.fields_valid``), for any input."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from carenet.directory.hsds import extras

KINDS = sorted(extras.object_schemas())

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", " ", "3", "2.5", "true", "https://example.org", "a@b.org",
                       "2025-01-31", "not a date", "3f8a2b1c-0d4e-4f6a-8b7c-9d0e1f2a3b4c"])
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def objects(draw: Any) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(KINDS))
    known = sorted(extras.object_schemas()[kind]["properties"])
    keys = draw(st.lists(st.sampled_from(known) | st.text(max_size=8), max_size=8, unique=True))
    return kind, {key: draw(values) for key in keys}


def _field_by_field(kind: str, obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """What ``extra_fields`` did before the one-call check: each field on its own."""
    warnings: list[str] = []
    out = {}
    for key, value in obj.items():
        if key.startswith("_") or key == "hsds_type":
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        checked = extras._checked(kind, key, value, "here", warnings)
        if checked is not None:
            out[key] = checked
    return out, warnings


@settings(max_examples=300, deadline=None)
@given(objects())
def test_extra_fields_in_one_call_keeps_and_warns_as_field_by_field(case):
    kind, obj = case
    warnings: list[str] = []
    assert (extras.extra_fields(kind, obj, (), "here", warnings), warnings) == _field_by_field(
        kind, obj
    )


@settings(max_examples=300, deadline=None)
@given(objects())
def test_fields_valid_is_every_text_field_passing_on_its_own(case):
    kind, obj = case
    typed = {k: v for k, v in obj.items() if k in extras.text_fields(kind) and isinstance(v, str)}
    each = all(extras.problem(kind, key, value) is None for key, value in typed.items())
    assert extras.fields_valid(kind, typed) == each


def test_text_fields_are_the_formatted_or_enumerated_strings():
    assert {"email", "url"} <= extras.text_fields("service")
    assert "name" not in extras.text_fields("service")
    assert "status" in extras.text_fields("service")  # an enumeration
