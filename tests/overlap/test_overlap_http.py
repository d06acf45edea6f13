"""Overlap through the API: the visible count, the tenancy wall, PSI between two 'installs'."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.imports import service as imports
from crosspromo.overlap import psi
from tests.conftest import make_owner, sign_in


def _load(db: Session, tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text(
        "id,name,category\nshop-a,A,shop=bakery\nshop-b,B,amenity=cafe\n"
    )
    rows = ["business,customer,email"]
    rows += [f"shop-a,A{i},p{i}@example.com" for i in range(40)]
    rows += [f"shop-b,B{i},P{i}@Example.com" for i in range(25, 60)]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n")
    imports.run(db, kind="businesses", path=tmp_path / "b.csv", secret_key="test-secret")
    imports.run(db, kind="customers", path=tmp_path / "c.csv", secret_key="test-secret")
    db.commit()


def test_visible_count_needs_both_and_is_rounded(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    _load(db, tmp_path)
    a = businesses.get_by_slug(db, "shop-a")
    assert a is not None
    token, _ = accounts.create_api_key(db, business_id=a.id, role=Role.manager)
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    params = {"business_id": str(a.id), "other": "shop-b"}
    hidden = client.get("/api/v1/overlap", headers=auth, params=params).json()
    assert hidden["suppressed"] and hidden["shown"] is None
    businesses.allow_overlap_discovery(db, slugs=["shop-a", "shop-b"])
    db.commit()
    shown = client.get("/api/v1/overlap", headers=auth, params=params).json()
    assert shown == {
        "other": "shop-b",
        "shown": 15,
        "suppressed": False,
        "k": 10,
        "rounding": 5,
        "reason": shown["reason"],
    }


def test_psi_endpoint_answers_with_the_intersection_size_only(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    _load(db, tmp_path)
    b = businesses.get_by_slug(db, "shop-b")
    assert b is not None
    token, _ = accounts.create_api_key(db, business_id=b.id, role=Role.manager)
    db.commit()
    mine = [f"email:p{i}@example.com" for i in range(40)]  # the other install's customers
    state, request = psi.start(mine)
    answer = client.post(
        "/api/v1/overlap/psi",
        params={"business_id": str(b.id)},
        content=request,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 200, answer.text
    assert psi.finish(state, answer.content) == 15
    bad = client.post(
        "/api/v1/overlap/psi",
        params={"business_id": str(b.id)},
        content=b"junk",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 422


def test_overlap_refuses_other_tenants(client: TestClient, db: Session) -> None:
    _, mine = make_owner(db, "a@example.com", "Mine")
    _, theirs = make_owner(db, "b@example.com", "Theirs", category="amenity=cafe")
    sign_in(client, "a@example.com")
    got = client.get("/api/v1/overlap", params={"business_id": str(theirs.id), "other": mine.slug})
    assert got.status_code == 404
