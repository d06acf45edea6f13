"""Audience overlap on SQLite and PostgreSQL: exact counts, what owners see, sketches, PSI."""

from __future__ import annotations

import random
import uuid
from itertools import permutations
from pathlib import Path

import private_set_intersection.python as openmined
import pytest
from datasketches import update_theta_sketch
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.businesses.schemas import BusinessUpdate
from crosspromo.errors import Invalid
from crosspromo.identifiers import identifier_hash
from crosspromo.imports import service as imports
from crosspromo.overlap import psi, service, sketches
from crosspromo.overlap.service import Overlap

SECRET = "test-secret"
HEADER = "business,customer,email,phone\n"


def load(db: Session, tmp_path: Path, slugs: list[str], customers: str) -> dict[str, Business]:
    """Import the businesses (bakeries and cafes) and the customers; returns them by slug."""
    rows = "".join(
        f"{slug},{slug.title()},{'shop=bakery' if slug.startswith('bakery') else 'amenity=cafe'}\n"
        for slug in slugs
    )
    (tmp_path / "businesses.csv").write_text("id,name,category\n" + rows)
    (tmp_path / "customers.csv").write_text(HEADER + customers)
    imports.run(db, kind="businesses", path=tmp_path / "businesses.csv", secret_key=SECRET)
    imports.run(db, kind="customers", path=tmp_path / "customers.csv", secret_key=SECRET)
    db.commit()
    return {b.slug: b for b in db.scalars(select(Business))}


def allow(db: Session, *found: Business) -> None:
    for business in found:
        businesses.apply_profile(business, BusinessUpdate(allow_overlap_discovery=True))
    db.flush()


# --- exact counts

MIXED = (
    "bakery,C1,anna@example.com,\n"  # e-mail only, matched by a differently cased e-mail
    "bakery,C2,,+7 916 123-45-67\n"  # phone only, matched by the same number written locally
    "bakery,C3,carl@example.com,+79160000003\n"  # matched by phone, e-mails differ
    "bakery,C4,dora@example.com,\n"  # nobody at the cafe
    "bakery,C5,Eve@Example.COM,\n"
    "bakery,C6,frank@example.com,+79160000006\n"  # matched twice: by e-mail and by phone
    "bakery,C7,,+79160000007\n"  # no e-mail on either side must not match on "no e-mail"
    "cafe,K1,ANNA@example.com,\n"
    "cafe,K2,,8 916 123-45-67\n"
    "cafe,K3,carl.other@example.com,+79160000003\n"
    "cafe,K5,eve@example.com,\n"
    "cafe,K6,frank@example.com,\n"
    "cafe,K7,,+79160000006\n"
    "cafe,K9,,+79160000009\n"
    "cafe,K10,zoe@example.com,+79160000010\n"
)


def test_exact_shared_matches_by_email_phone_or_either_once(db: Session, tmp_path: Path) -> None:
    found = load(db, tmp_path, ["bakery", "cafe"], MIXED)
    bakery, cafe = found["bakery"].id, found["cafe"].id
    # C1 (e-mail, case), C2 (phone), C3 (phone), C5 (e-mail, case), C6 (both, counted once)
    assert service.exact_shared(db, a=bakery, b=cafe) == 5
    # Seen from the cafe, K6 and K7 are two customers who both match Frank.
    assert service.exact_shared(db, a=cafe, b=bakery) == 6
    assert service.exact_shared(db, a=bakery, b=uuid.uuid4()) == 0


def test_shared_pairs_equal_exact_shared_for_every_pair(db: Session, tmp_path: Path) -> None:
    rng = random.Random(7)
    slugs = ["bakery-a", "bakery-b", "cafe-a", "cafe-b"]
    lines = []
    for person in range(300):
        email = f"p{person}@example.com" if rng.random() < 0.7 else ""
        phone = f"+7916{person:07d}" if not email or rng.random() < 0.4 else ""
        for slug in slugs:
            if rng.random() < 0.35:
                # Some people gave a business only one of their two identifiers.
                e, p = email, phone
                if e and p and rng.random() < 0.5:
                    e, p = (e, "") if rng.random() < 0.5 else ("", p)
                lines.append(f"{slug},{slug}-{person},{e},{p}\n")
    found = load(db, tmp_path, slugs, "".join(lines))
    ids = [found[s].id for s in slugs]
    pairs = service.shared_pairs(db, business_ids=ids)
    assert pairs, "the random city should share customers"
    for a, b in permutations(ids, 2):
        assert pairs.get((a, b), 0) == service.exact_shared(db, a=a, b=b)
    assert all(count > 0 for count in pairs.values())
    # Only the businesses asked about.
    two = service.shared_pairs(db, business_ids=ids[:2])
    assert set(two) <= {(ids[0], ids[1]), (ids[1], ids[0])}
    assert two == {pair: pairs[pair] for pair in two}
    assert service.shared_pairs(db, business_ids=ids[:1]) == {}


# --- what an owner sees


def shared_csv(counts: dict[str, int]) -> str:
    """The bakery's 40 customers; each cafe shares the first `n` of them (plus strangers)."""
    lines = [f"bakery,B{i},person{i}@example.com,\n" for i in range(40)]
    for slug, n in counts.items():
        lines += [f"{slug},{slug}-{i},PERSON{i}@example.com,\n" for i in range(n)]
        lines += [f"{slug},{slug}-x{i},{slug}-stranger{i}@example.com,\n" for i in range(5)]
    return "".join(lines)


def test_visible_overlap_suppresses_below_k_and_rounds(db: Session, tmp_path: Path) -> None:
    counts = {"cafe-0": 0, "cafe-9": 9, "cafe-10": 10, "cafe-12": 12, "cafe-13": 13, "cafe-23": 23}
    found = load(db, tmp_path, ["bakery", *counts], shared_csv(counts))
    allow(db, *found.values())
    bakery = found["bakery"]
    shown = {slug: service.visible_overlap(db, a=bakery, b=found[slug]).shown for slug in counts}
    assert shown == {
        "cafe-0": None,
        "cafe-9": None,
        "cafe-10": 10,
        "cafe-12": 10,
        "cafe-13": 15,
        "cafe-23": 25,
    }
    hidden = service.visible_overlap(db, a=bakery, b=found["cafe-9"])
    assert hidden == Overlap(None, True, 10, 5, service.TOO_FEW)
    # A lower threshold shows 9, still rounded and never 0.
    assert service.visible_overlap(db, a=bakery, b=found["cafe-9"], k=3).shown == 10
    assert service.visible_overlap(db, a=bakery, b=found["cafe-12"], k=7, rounding=10).shown == 10
    # Never a list: the answer is a handful of numbers.
    assert set(Overlap.__dataclass_fields__) == {"shown", "suppressed", "k", "rounding", "reason"}


def test_visible_overlap_needs_both_businesses_to_allow_it(db: Session, tmp_path: Path) -> None:
    found = load(db, tmp_path, ["bakery", "cafe-20"], shared_csv({"cafe-20": 20}))
    bakery, cafe = found["bakery"], found["cafe-20"]
    not_allowed = Overlap(None, True, 10, 5, service.NOT_ALLOWED)
    assert service.visible_overlap(db, a=bakery, b=cafe) == not_allowed
    allow(db, bakery)
    assert service.visible_overlap(db, a=bakery, b=cafe) == not_allowed
    assert service.visible_overlap(db, a=cafe, b=bakery) == not_allowed
    allow(db, cafe)
    assert service.visible_overlap(db, a=bakery, b=cafe) == Overlap(20, False, 10, 5, "rounded")
    with pytest.raises(Invalid):
        service.visible_overlap(db, a=bakery, b=bakery)
    with pytest.raises(Invalid):
        service.visible_overlap(db, a=bakery, b=cafe, k=0)
    with pytest.raises(Invalid):
        service.visible_overlap(db, a=bakery, b=cafe, rounding=0)


@given(count=st.integers(0, 10_000), k=st.integers(1, 50), rounding=st.integers(1, 100))
def test_rounded_counts_never_fall_below_k_or_zero(count: int, k: int, rounding: int) -> None:
    count = max(count, k)
    shown = service.rounded(count, k=k, rounding=rounding)
    assert shown % rounding == 0 and shown >= k and shown > 0
    if count >= -(-k // rounding) * rounding:
        assert abs(shown - count) * 2 <= rounding


# --- sketches


def keys(start: int, stop: int) -> list[str]:
    return [identifier_hash("email", f"p{i}@example.com", SECRET) for i in range(start, stop)]


def test_sketches_estimate_a_large_overlap_within_bounds(db: Session, tmp_path: Path) -> None:
    # 20,000 and 15,000 customers, 5,000 shared: both sketches are past 2^12 keys, so estimates.
    lines = [f"bakery,A{i},p{i}@example.com,\n" for i in range(20_000)]
    # The e-mail is the key when there is one; phone-only customers are keyed by their phone.
    lines += [f"cafe,B{i},p{i}@example.com,+7916{i:07d}\n" for i in range(15_000, 15_100)]
    lines += [f"cafe,B{i},p{i}@example.com,\n" for i in range(15_100, 30_000)]
    lines += [f"cafe,P{i},,+7926{i:07d}\n" for i in range(100)]
    found = load(db, tmp_path, ["bakery", "cafe", "cafe-empty"], "".join(lines))
    a = sketches.build(db, business_id=found["bakery"].id)
    b = sketches.build(db, business_id=found["cafe"].id)
    truth = service.exact_shared(db, a=found["bakery"].id, b=found["cafe"].id)
    assert truth == 5_000
    result = sketches.estimate(a, b)
    assert result.lower <= truth <= result.upper
    assert result.lower <= result.estimate <= result.upper
    assert abs(result.estimate - truth) / truth < 0.05
    # The streamed sketch is the library's sketch of the same keys.
    direct = update_theta_sketch(12)
    for key in keys(0, 20_000):
        direct.update(key)
    assert sketches.estimate(a, bytes(direct.compact().serialize())).estimate == pytest.approx(
        20_000, rel=0.05
    )
    empty = sketches.build(db, business_id=found["cafe-empty"].id)
    assert sketches.estimate(a, empty) == sketches.Estimate(0.0, 0.0, 0.0)


def test_estimate_all_deserializes_each_sketch_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def sketch(start: int, stop: int) -> bytes:
        s = update_theta_sketch(12)
        for key in keys(start, stop):
            s.update(key)
        return bytes(s.compact().serialize())

    ids = [uuid.uuid4() for _ in range(3)]
    data = {ids[0]: sketch(0, 1000), ids[1]: sketch(500, 1500), ids[2]: sketch(900, 2000)}
    loads: list[bytes] = []
    real = sketches.load

    def counting(raw: bytes) -> object:
        loads.append(raw)
        return real(raw)

    monkeypatch.setattr(sketches, "load", counting)
    pairs = [(ids[0], ids[1]), (ids[0], ids[2]), (ids[1], ids[2]), (ids[1], ids[0])]
    result = sketches.estimate_all(data, pairs)
    assert len(loads) == 3
    # Below 2^lg_k keys a sketch holds every key: the counts are exact.
    assert [result[p].estimate for p in pairs] == [500, 100, 600, 500]
    with pytest.raises(Invalid):
        sketches.estimate_all(data, [(ids[0], uuid.uuid4())])


@pytest.mark.parametrize("raw", [b"", b"not a sketch", b"\x03\x03\x03" * 20])
def test_malformed_sketch_is_invalid(raw: bytes) -> None:
    good = update_theta_sketch(12)
    good.update("x")
    with pytest.raises(Invalid):
        sketches.estimate(bytes(good.compact().serialize()), raw)


def test_sketches_with_another_seed_are_refused() -> None:
    mine, theirs = update_theta_sketch(12), update_theta_sketch(12, 1.0, 1234)
    mine.update("x")
    theirs.update("x")
    with pytest.raises(Invalid):
        sketches.estimate(bytes(mine.compact().serialize()), bytes(theirs.compact().serialize()))


# --- private set intersection cardinality


def test_psi_counts_the_intersection_exactly() -> None:
    client_items = keys(0, 1000)
    server_items = keys(700, 1500)
    state, request = psi.start(client_items)
    payload = psi.respond(server_items, request)
    assert psi.finish(state, payload) == len(set(client_items) & set(server_items)) == 300


def test_psi_state_round_trips_through_bytes() -> None:
    state, request = psi.start(keys(0, 50) + keys(0, 10))  # duplicates count once
    assert state.size == 50
    saved = state.to_bytes()
    again = psi.ClientState.from_bytes(saved)
    assert again == state
    assert state.key.hex() not in repr(state)
    payload = psi.respond(keys(40, 80) + keys(40, 45), request)
    assert psi.finish(again, payload) == 10


def test_psi_refuses_malformed_messages() -> None:
    state, request = psi.start(keys(0, 20))
    payload = psi.respond(keys(10, 30), request)
    for bad in [b"", b"junk", payload[:-1], payload + b"\x00", request, b"CPR\x01\xff\xff\xff\xff"]:
        with pytest.raises(Invalid):
            psi.finish(state, bad)
    for bad in [b"", payload, b"CPQ\x01\x00\x00\x00\x03abc", request[:10]]:
        with pytest.raises(Invalid):
            psi.respond(keys(0, 5), bad)
    for bad in [b"", b"CPS\x01", state.to_bytes()[:-1], payload]:
        with pytest.raises(Invalid):
            psi.ClientState.from_bytes(bad)
    with pytest.raises(Invalid):  # a key outside the curve's range
        psi.finish(psi.ClientState(b"\xff" * 32, state.request_digest, state.size), payload)
    # A damaged point inside a well-framed answer.
    digest, setup, response = psi._unpack(psi.RESPONSE_MAGIC, payload, 3, "payload")
    parsed = openmined.Response()
    parsed.ParseFromString(response)
    parsed.encrypted_elements[0] = b"\x02" + b"\xff" * 32
    damaged = psi._pack(psi.RESPONSE_MAGIC, [digest, setup, parsed.SerializeToString()])
    with pytest.raises(Invalid):
        psi.finish(state, damaged)
    # An answer to someone else's request.
    other, other_request = psi.start(keys(0, 20))
    with pytest.raises(Invalid):
        psi.finish(state, psi.respond(keys(10, 30), other_request))
    with pytest.raises(Invalid):
        psi.start([])
    with pytest.raises(Invalid):
        psi.start([b"bytes are not items"])  # type: ignore[list-item]


def test_psi_server_refuses_a_request_for_the_items_themselves() -> None:
    client = openmined.client.CreateWithNewKey(True)
    raw = client.CreateRequest(keys(0, 5)).SerializeToString()
    with pytest.raises(Invalid):
        psi.respond(keys(0, 5), psi._pack(psi.REQUEST_MAGIC, [raw]))


@settings(max_examples=10, deadline=None)
@given(
    a=st.sets(st.text(max_size=8), min_size=1, max_size=40),
    b=st.sets(st.text(max_size=8), max_size=40),
)
def test_psi_cardinality_is_the_set_intersection_size(a: set[str], b: set[str]) -> None:
    state, request = psi.start(sorted(a))
    payload = psi.respond(sorted(b), request)
    assert psi.finish(psi.ClientState.from_bytes(state.to_bytes()), payload) == len(a & b)
