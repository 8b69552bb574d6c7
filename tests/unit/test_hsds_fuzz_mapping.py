"""Fuzz: whatever JSON a client or a file gives, mapping a record either succeeds (with
warnings) or rejects it with a reason — never another exception (no 500, no traceback)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carenet.directory.hsds.conventions import RecordRejected
from carenet.directory.hsds.extras import LOCAL
from carenet.directory.hsds.mapping import Defaults, map_record

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "100", "-80.19", "10:00", "2024-02-30", "MO,XX", "http://x.org", "x"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "id", "name", "status", "organization", "organization_id", "phones", "schedules",
    "languages", "service_areas", "service_at_locations", "attributes", "location",
    "latitude", "longitude", "addresses", "contacts", "minimum_age", "maximum_age",
    "url", "email", "assured_date", "byday", "opens_at", "extent", "extent_type", "code",
]  # fmt: skip
records = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=10)
nested = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=8), "name": st.text(min_size=1, max_size=8)},
    optional={
        "status": st.sampled_from(["active", "open", ""]),
        "organization": st.fixed_dictionaries(
            {"id": st.text(max_size=5), "name": st.text(max_size=5)},
            optional={"phones": json_values, "website": json_values},
        ),
        "service_at_locations": st.lists(
            st.fixed_dictionaries(
                {"location": st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6)}
            ),
            max_size=2,
        ),
        "schedules": st.lists(st.dictionaries(st.sampled_from(KEYS), json_values), max_size=2),
        "languages": st.lists(st.dictionaries(st.sampled_from(KEYS), json_values), max_size=2),
        "attributes": json_values,
    },
)


def _map(obj: Any) -> None:
    try:
        record = map_record(obj, Defaults())
    except RecordRejected as exc:
        assert str(exc)
        return
    for rows in record.rows.values():
        for row in rows.values():
            extra = row.get("hsds_extra") or {}
            assert isinstance(extra, dict) and isinstance(extra.get(LOCAL, {}), dict)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_any_object_maps_or_is_rejected_with_a_reason(obj: dict[str, Any]) -> None:
    _map(obj)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested)
def test_services_with_nested_junk_map_or_are_rejected_with_a_reason(obj: dict[str, Any]) -> None:
    _map(obj)


@given(json_values)
def test_any_json_value_at_the_top(obj: Any) -> None:
    _map(obj)
