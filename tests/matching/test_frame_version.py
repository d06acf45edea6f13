"""The cached candidate frame follows every write that tells, without polling counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from crosspromo import events
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.imports import service as imports
from crosspromo.matching import service as matching

SECRET = "test-secret"
CITY = (
    "id,name,category,price_tier,city,lat,lon\n"
    "bakery-b,Bakery B,shop=bakery,2,Москва,55.751,37.612\n"
    "florist-f,Florist F,shop=florist,2,Москва,55.755,37.615\n"
    "cafe-c,Cafe C,amenity=cafe,2,Москва,55.752,37.611\n"
)


def _import(db: Session, tmp_path: Path, kind: str, text: str) -> None:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    summary = imports.run(db, kind=kind, path=path, secret_key=SECRET)
    assert summary.ok, summary
    db.commit()


@pytest.fixture
def other(db: Session) -> Iterator[Session]:
    """Another process's session on the same database."""
    with Session(db.get_bind()) as session:
        yield session


def _tier(frame: Any, db: Session, slug: str) -> int:
    found = businesses.get_by_slug(db, slug)
    assert found is not None
    return int(frame.tier[frame.index[found.id]])


def test_a_write_elsewhere_is_seen_at_the_next_request(
    db: Session, other: Session, tmp_path: Path
) -> None:
    _import(db, tmp_path, "businesses", CITY)
    before = matching.cached_frame(db)
    assert matching.cached_frame(db) is before  # nothing changed: the same arrays
    _import(
        other, tmp_path, "businesses", CITY.replace("Florist F,shop=florist,2", "F,shop=florist,4")
    )
    after = matching.cached_frame(db)
    assert after is not before and _tier(after, db, "florist-f") == 4
    customers = (
        "business,customer,email,phone,name,marketing_consent,first_seen\n"
        "bakery-b,C1,one@example.org,,One,no,2026-01-01\n"
        "bakery-b,C2,two@example.org,,Two,no,2026-01-02\n"
    )
    _import(other, tmp_path, "customers", customers)
    frame = matching.cached_frame(db)
    bakery = businesses.get_by_slug(db, "bakery-b")
    assert bakery is not None and frame.customers[frame.index[bakery.id]] == 2


def test_the_stamp_decides_even_when_the_newest_update_time_does_not_move(
    db: Session, other: Session, tmp_path: Path
) -> None:
    """A writer that committed late, with an older `updated_at` than the newest, still counts."""
    _import(db, tmp_path, "businesses", CITY)
    matching.cached_frame(db)
    florist = businesses.get_by_slug(other, "florist-f")
    assert florist is not None
    other.execute(
        update(Business)
        .where(Business.id == florist.id)
        .values(price_tier=1, updated_at=florist.created_at)
    )
    events.emit(other, events.BUSINESSES_CHANGED, florist)
    other.commit()
    assert _tier(matching.cached_frame(db), db, "florist-f") == 1


def test_one_stamp_per_transaction(db: Session, tmp_path: Path) -> None:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "frame_version" in statement and statement.lstrip().upper().startswith("UPDATE"):
            statements.append(statement)

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        _import(db, tmp_path, "businesses", CITY)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1


def test_requests_arriving_during_a_rebuild_share_it(
    db: Session, other: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests after a change: one reads every business, the other waits and shares."""
    _import(db, tmp_path, "businesses", CITY)
    matching.cached_frame(db)
    _import(db, tmp_path, "businesses", CITY.replace("Cafe C,amenity=cafe,2", "C,amenity=cafe,3"))
    built, started = [], threading.Event()
    original = matching._frame

    def slow_frame(session: Session) -> Any:
        built.append(session)
        started.set()
        time.sleep(0.5)  # long enough for the second request to arrive meanwhile
        return original(session)

    monkeypatch.setattr(matching, "_frame", slow_frame)
    frames: list[Any] = []
    first = threading.Thread(target=lambda: frames.append(matching.cached_frame(db)))
    first.start()
    assert started.wait(10)
    frames.append(matching.cached_frame(other))  # arrives while the first one builds
    first.join()
    assert len(built) == 1 and frames[0] is frames[1]
