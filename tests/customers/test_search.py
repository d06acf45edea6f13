"""Customer search finds people by name in any case and script, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.customers import service as customers
from tests.imports.test_import_service import load_city


@pytest.mark.parametrize(
    ("query", "expected"),
    [("Анна", {"C1"}), ("анна", {"C1"}), ("АННА", {"C1"}), ("boris", {"C2"}), ("EXAMPLE", {"C1"})],
)
def test_search_by_name_ignores_case_in_cyrillic_and_latin(
    db: Session, tmp_path: Path, query: str, expected: set[str]
) -> None:
    load_city(db, tmp_path)
    bakery = businesses.get_by_slug(db, "bakery-1")
    assert bakery is not None
    found = customers.page(db, business_id=bakery.id, query=query)
    assert {c.external_id for c in found} == expected
