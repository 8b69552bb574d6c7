"""``attribute_links.links_of``: the term ids a service's kept attributes carry (no DB)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from carenet.directory.hsds.attribute_links import MAX_ID, links_of
from carenet.directory.hsds.conventions import term_uuid

SERVICE = "5a000000-0000-4000-8000-000000000001"
TERM = "5a000000-0000-4000-8000-0000000000aa"
TAXONOMY = "5a000000-0000-4000-8000-0000000000bb"


def _attribute(**fields: Any) -> dict[str, Any]:
    return {"id": "a", "link_id": SERVICE, "link_type": "service", **fields}


def test_each_term_id_once_with_its_taxonomy() -> None:
    extra = {
        "attributes": [
            _attribute(taxonomy_term_id=TERM, taxonomy_term={"id": TERM, "name": "x"}),
            _attribute(
                taxonomy_term_id=TERM,
                taxonomy_term={"id": TERM, "taxonomy_detail": {"id": TAXONOMY, "name": "T"}},
            ),
            _attribute(taxonomy_term_id="other", taxonomy_term={"id": "nested", "taxonomy_id": 7}),
            _attribute(taxonomy_term_id=f"  {TERM}  "),
        ]
    }
    assert links_of(SERVICE, extra) == [
        {"service_id": SERVICE, "taxonomy_term_id": TERM, "taxonomy_id": TAXONOMY},
        {"service_id": SERVICE, "taxonomy_term_id": "nested", "taxonomy_id": "7"},
        {"service_id": SERVICE, "taxonomy_term_id": "other", "taxonomy_id": "7"},
    ]


def test_carenet_terms_and_unusable_ids_are_not_links() -> None:
    extra = {
        "attributes": [
            _attribute(taxonomy_term_id="carenet-categories:housing"),
            _attribute(taxonomy_term_id=term_uuid("carenet-properties:free")),
            _attribute(taxonomy_term_id="x" * (MAX_ID + 1)),
            _attribute(taxonomy_term_id="a\x00b"),
            _attribute(taxonomy_term_id=True),
            _attribute(taxonomy_term_id=["list"]),
            "not an attribute",
        ]
    }
    assert links_of(SERVICE, extra) == []
    assert links_of(SERVICE, None) == links_of(SERVICE, {"attributes": "no"}) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner),
    max_leaves=20,
)
ATTRIBUTE = st.fixed_dictionaries(
    {},
    optional={
        "taxonomy_term_id": JSON,
        "taxonomy_term": st.fixed_dictionaries(
            {},
            optional={
                "id": JSON,
                "taxonomy_id": JSON,
                "taxonomy_detail": JSON | st.fixed_dictionaries({"id": JSON}),
            },
        )
        | JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ATTRIBUTE | JSON, max_size=6) | JSON)
def test_any_attributes_give_storable_links_and_never_raise(attributes: Any) -> None:
    links = links_of(SERVICE, {"attributes": attributes})
    terms = [link["taxonomy_term_id"] for link in links]
    assert len(terms) == len(set(terms))
    for link in links:
        for key in ("taxonomy_term_id", "taxonomy_id"):
            value = link[key]
            assert value is None or (
                isinstance(value, str) and 0 < len(value) <= MAX_ID and "\x00" not in value
            )
        assert not link["taxonomy_term_id"].startswith("carenet-")
