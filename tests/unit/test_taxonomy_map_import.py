"""Imported terms of other vocabularies give services carenet categories through the mapping
file (Open Eligibility by name, AIRS by code prefix, an admin's own vocabulary)."""

from __future__ import annotations

import json

from carenet.directory.hsds import import_path
from carenet.directory.models import Service
from carenet.extensions import db

ORG = {"id": "00000000-0000-4000-8000-00000000e001", "name": "Mapped Org"}


def _service(number: int, *terms: dict) -> dict:
    return {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "name": f"Service {number}",
        "organization": ORG,
        "attributes": [{"taxonomy_term": term} for term in terms],
    }


def _categories(number: int) -> set[str]:
    service = db.session.get(Service, f"00000000-0000-4000-8000-{number:012d}")
    return set(service.category_slugs)


def test_foreign_terms_map_to_carenet_categories_on_import(app_ctx, tmp_path, monkeypatch):
    admin = tmp_path / "map.csv"
    admin.write_text("vocabulary,code_prefix_or_term,carenet_category\nOur Terms,R1,safety\n")
    monkeypatch.setenv("CARENET_TAXONOMY_MAP", str(admin))
    services = [
        _service(1, {"id": "t1", "name": "Food Pantry", "taxonomy": "Open Eligibility"}),
        _service(2, {"id": "t2", "code": "BT-4500.6500", "taxonomy": "AIRS"}),
        _service(3, {"id": "t3", "name": "Help Pay for Utilities",
                     "taxonomy_detail": {"id": "x", "name": "Open Eligibility"}}),
        _service(4, {"id": "t4", "code": "R1", "taxonomy": "Our Terms"}),
        _service(5, {"id": "t5", "name": "Astronomy", "taxonomy": "Open Eligibility"}),
    ]  # fmt: skip
    path = tmp_path / "services.json"
    path.write_text(json.dumps(services))
    assert import_path(path).rejected == []
    assert _categories(1) == {"food-pantry"}
    assert _categories(2) == {"transportation"}
    assert _categories(3) == {"utilities"}
    assert _categories(4) == {"safety"}
    assert _categories(5) == set()
