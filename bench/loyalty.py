"""Coalition loyalty: the ledger service vs raw SQL, clearing vs one aggregate, balance p95.

    python bench/loyalty.py --sqlite                       # a temporary SQLite file
    python bench/loyalty.py --url postgresql://postgres@127.0.0.1:55438/postgres
    python bench/loyalty.py --sqlite --url ... --ops 2000 --entries 1000000 --cards 1000000
    python bench/loyalty.py --stateful 100000              # the long invariant run (pytest)

On a fresh, migrated database (a new database on the PostgreSQL server, dropped afterwards):

1. earn and spend: `--ops` operations through `loyalty.service` (each its own unit of work,
   with the card lock, FIFO lots, entries, balances) vs raw SQL doing the same writes per
   operation (lock, transaction, lot, lot move, entries, balance updates) on the same engine,
   same run. Ratio = service ops/s / raw ops/s; goal at least 0.5x.
2. clearing: `--entries` settlement entries of a month across 20 members written in bulk,
   then `clearing.statement` vs one SQL aggregate of the same figures. Goal: at most 2x.
3. balance: `--cards` cards with a lot each; p95 of `service.find_card` + `service.balance`
   for random cards vs p95 of one raw SELECT of the card's lots.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from crosspromo.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from crosspromo.loyalty import clearing, ledger, service  # noqa: E402
from crosspromo.loyalty.models import (  # noqa: E402
    POINTS,
    AccountKind,
    Card,
    Entry,
    Lot,
    Transaction,
    TxnKind,
)
from crosspromo.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@contextmanager
def database(kind: str, pg_url: str | None) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    assert pg_url
    name = f"bench_loyalty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def coalition(engine: Engine, cards: int) -> tuple[uuid.UUID, list[uuid.UUID], list[uuid.UUID]]:
    """Three members and `cards` cards, built through the services."""
    from tests.conftest import make_owner

    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as db:
        tag = uuid.uuid4().hex[:6]
        members = [
            make_owner(db, f"{tag}{i}@bench.example", f"Shop {tag} {i}")[1] for i in range(3)
        ]
        made = service.create_coalition(
            db, founder=members[0], name=f"Bench {tag}", pending_days=0, now=NOW
        )
        for b in members[1:]:
            service.invite(db, coalition=made, by=members[0], business_id=b.id)
            service.join(db, coalition=made, business=b, now=NOW)
        ids = [
            service.enrol(
                db, coalition=made, business=members[0], consent=True, email=f"c{i}@b.example"
            )[0].id
            for i in range(cards)
        ]
        return made.id, [b.id for b in members], ids


def timed(fn: Callable[[], None], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def bench_writes(url: str, ops: int) -> list[tuple[str, float, float]]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    cid, members, cards = coalition(engine, 50)
    counter = iter(range(10**9))
    from crosspromo.businesses.models import Business

    # The service takes the card and the business as loaded objects, as a till holds them
    # once it found the card; the raw path likewise starts from their ids.
    with factory() as db:
        card_of = {c: db.get(Card, c) for c in cards}
        business_of = {b: db.get(Business, b) for b in members}

    def service_op() -> None:
        i = next(counter)
        with unit_of_work(factory) as db:
            card = card_of[cards[i % len(cards)]]
            business = business_of[members[i % 3]]
            assert card is not None and business is not None
            if i % 2 == 0:
                service.earn(
                    db,
                    business=business,
                    card=card,
                    order_minor=100_000,
                    order_ref=f"s{i}",
                    now=NOW,
                )
            else:
                with suppress(service.Refused):
                    service.spend(
                        db,
                        business=business,
                        card=card,
                        order_minor=100_000,
                        order_ref=f"s{i}",
                        points=5,
                        now=NOW + timedelta(seconds=1),
                    )

    # Accounts for the raw path exist already (the service made them on first use).
    with unit_of_work(factory) as db:
        c = service.get_coalition(db, cid)
        acc_customer = {
            card: ledger.account(
                db, coalition_id=cid, kind=AccountKind.customer, unit=POINTS, card_id=card
            )
            for card in cards
        }
        acc_issued = {m: ledger.member_account(db, cid, AccountKind.issued, m) for m in members}
        acc_pay = {
            (a, b): (
                ledger.account(
                    db,
                    coalition_id=cid,
                    kind=AccountKind.payable,
                    unit=c.currency,
                    business_id=a,
                    counterparty_id=b,
                ),
                ledger.account(
                    db,
                    coalition_id=cid,
                    kind=AccountKind.receivable,
                    unit=c.currency,
                    business_id=b,
                    counterparty_id=a,
                ),
            )
            for a in members
            for b in members
            if a != b
        }
        currency = c.currency

    def k(value: uuid.UUID) -> object:
        # text() binds no UUID type: SQLite stores the hex, psycopg adapts the UUID.
        return value.hex if engine.dialect.name == "sqlite" else value

    def raw_op() -> None:
        i = next(counter)
        card, business = cards[i % len(cards)], members[i % 3]
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE loyalty_cards SET ops = ops + 1 WHERE id = :c"), {"c": k(card)}
            )
            txn = uuid.uuid4()
            values = {
                "id": txn,
                "coalition_id": cid,
                "card_id": card,
                "business_id": business,
                "order_ref": f"r{i}",
                "order_minor": 100_000,
                "points": 5,
                "value_minor": 500,
                "rules_version": 1,
                "caller": "",
                "at": NOW,
            }
            if i % 2 == 0:
                conn.execute(
                    insert(Transaction.__table__),
                    [values | {"kind": TxnKind.earn.name, "points": 50, "value_minor": 5000}],
                )
                lot = uuid.uuid4()
                conn.execute(
                    insert(Lot.__table__),
                    [
                        {
                            "id": lot,
                            "coalition_id": cid,
                            "card_id": card,
                            "issuer_business_id": business,
                            "transaction_id": txn,
                            "points": 50,
                            "remaining": 50,
                            "available_at": NOW,
                            "expires_at": NOW + timedelta(days=365),
                            "created_at": NOW,
                        }
                    ],
                )
                conn.execute(
                    text(
                        "INSERT INTO loyalty_lot_moves (id, lot_id, transaction_id, points) "
                        "VALUES (:i, :l, :t, 50)"
                    ),
                    {"i": k(uuid.uuid4()), "l": k(lot), "t": k(txn)},
                )
                postings = [(acc_customer[card], POINTS, 50), (acc_issued[business], POINTS, -50)]
            else:
                row = conn.execute(
                    text(
                        "SELECT id, issuer_business_id, remaining FROM loyalty_lots "
                        "WHERE card_id = :c AND remaining > 0 ORDER BY created_at, id LIMIT 1"
                    ),
                    {"c": k(card)},
                ).first()
                if row is None or row[2] < 5:
                    return
                conn.execute(insert(Transaction.__table__), [values | {"kind": TxnKind.spend.name}])
                conn.execute(
                    text(
                        "UPDATE loyalty_lots SET remaining = remaining - 5 "
                        "WHERE id = :l AND remaining >= 5"
                    ),
                    {"l": row[0]},
                )
                conn.execute(
                    text(
                        "INSERT INTO loyalty_lot_moves "
                        "(id, lot_id, transaction_id, points, accepted_by) "
                        "VALUES (:i, :l, :t, -5, :b)"
                    ),
                    {"i": k(uuid.uuid4()), "l": row[0], "t": k(txn), "b": k(business)},
                )
                issuer = uuid.UUID(str(row[1]))
                postings = [(acc_customer[card], POINTS, -5), (acc_issued[issuer], POINTS, 5)]
                if issuer != business:
                    pay, rec = acc_pay[(issuer, business)]
                    postings += [(pay, currency, -500), (rec, currency, 500)]
            conn.execute(
                insert(Entry.__table__),
                [
                    {
                        "id": uuid.uuid4(),
                        "transaction_id": txn,
                        "account_id": a,
                        "unit": u,
                        "amount": x,
                        "at": NOW,
                    }
                    for a, u, x in postings
                ],
            )
            for a, _, x in sorted(postings):
                conn.execute(
                    text("UPDATE loyalty_accounts SET balance = balance + :x WHERE id = :a"),
                    {"x": x, "a": k(a)},
                )

    for _ in range(20):  # warm-up: accounts, caches, lots to spend
        service_op()
        raw_op()
    rows = []
    svc = raw = 0.0
    for _ in range(2):  # alternate, so both see the same machine load
        svc += timed(service_op, ops // 2)
        raw += timed(raw_op, ops // 2)
    with unit_of_work(factory) as db:
        report = clearing.check(db, service.get_coalition(db, cid))
    assert report.ok, report.breaches[:5]
    rows.append(("earn+spend ops/s", svc / 2, raw / 2))
    engine.dispose()
    return rows


def bench_clearing(url: str, entries: int) -> list[tuple[str, float, float]]:
    """Bulk-written settlement entries across 20 members; statement vs one aggregate (ms)."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    from tests.conftest import make_owner

    with unit_of_work(factory) as db:
        tag = uuid.uuid4().hex[:6]
        members = [make_owner(db, f"{tag}{i}@clear.example", f"C {tag} {i}")[1] for i in range(20)]
        made = service.create_coalition(db, founder=members[0], name=f"Clear {tag}", now=NOW)
        for b in members[1:]:
            service.invite(db, coalition=made, by=members[0], business_id=b.id)
            service.join(db, coalition=made, business=b, now=NOW)
        card = service.enrol(
            db, coalition=made, business=members[0], consent=True, email="x@c.example"
        )[0]
        ids = [b.id for b in members]
        pairs = {}
        for a in ids:
            for b in ids:
                if a != b:
                    pairs[(a, b)] = (
                        ledger.account(
                            db,
                            coalition_id=made.id,
                            kind=AccountKind.payable,
                            unit=made.currency,
                            business_id=a,
                            counterparty_id=b,
                        ),
                        ledger.account(
                            db,
                            coalition_id=made.id,
                            kind=AccountKind.receivable,
                            unit=made.currency,
                            business_id=b,
                            counterparty_id=a,
                        ),
                    )
        cid, card_id = made.id, card.id
    rng = random.Random(7)
    keys = list(pairs)
    batch = 20_000
    written = 0
    with engine.begin() as conn:
        while written < entries:
            txns, rows = [], []
            for _ in range(min(batch, (entries - written) // 2)):
                tid = uuid.uuid4()
                a, b = rng.choice(keys)
                at = NOW + timedelta(seconds=rng.randrange(30 * 86400))
                amount = rng.randrange(100, 10_000)
                txns.append(
                    {
                        "id": tid,
                        "coalition_id": cid,
                        "kind": TxnKind.spend.name,
                        "card_id": card_id,
                        "business_id": b,
                        "order_minor": 0,
                        "points": amount // 100,
                        "value_minor": amount,
                        "rules_version": 1,
                        "caller": "",
                        "at": at,
                    }
                )
                pay, rec = pairs[(a, b)]
                rows += [
                    {
                        "id": uuid.uuid4(),
                        "transaction_id": tid,
                        "account_id": pay,
                        "unit": "RUB",
                        "amount": -amount,
                        "at": at,
                    },
                    {
                        "id": uuid.uuid4(),
                        "transaction_id": tid,
                        "account_id": rec,
                        "unit": "RUB",
                        "amount": amount,
                        "at": at,
                    },
                ]
            conn.execute(insert(Transaction.__table__), txns)
            conn.execute(insert(Entry.__table__), rows)
            written += len(rows)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    start, end = NOW, NOW + timedelta(days=31)

    def run_statement() -> None:
        with factory() as db:
            statement = clearing.statement(db, service.get_coalition(db, cid), start, end)
            assert sum(line.net_minor for line in statement.lines) == 0

    sql = text(
        "SELECT a.business_id, a.kind, SUM(e.amount) FROM loyalty_entries e "
        "JOIN loyalty_accounts a ON a.id = e.account_id WHERE a.coalition_id = :c "
        "AND a.kind IN ('payable', 'receivable') AND e.at >= :s AND e.at < :e "
        "GROUP BY a.business_id, a.kind"
    )

    def run_sql() -> None:
        with engine.connect() as conn:
            conn.execute(
                sql,
                {
                    "c": cid if engine.dialect.name == "postgresql" else cid.hex,
                    "s": start,
                    "e": end,
                },
            ).all()

    def ms(fn: Callable[[], None]) -> float:
        fn()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    label = f"clearing of {written // 2:,} transactions ({written:,} entries), ms"
    result = [(label, ms(run_statement), ms(run_sql))]
    engine.dispose()
    return result


def bench_balance(url: str, cards: int) -> list[tuple[str, float, float]]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    cid, members, _ = coalition(engine, 1)
    rng = random.Random(3)
    numbers = []
    ids = []
    batch = 20_000
    with engine.begin() as conn:
        made = 0
        while made < cards:
            card_rows, txn_rows, lot_rows = [], [], []
            for i in range(min(batch, cards - made)):
                cid_card = uuid.uuid4()
                body = "".join(rng.choice(service.codes.ALPHABET) for _ in range(11))
                number = body + service.codes.check_char("", body)
                card_rows.append(
                    {
                        "id": cid_card,
                        "coalition_id": cid,
                        "number": number,
                        "locale": "en",
                        "consent_at": NOW,
                        "activated_at": NOW,
                        "marketing_consent": False,
                        "link_hash": uuid.uuid4().hex + uuid.uuid4().hex,
                        "ops": 0,
                        "created_at": NOW,
                    }
                )
                tid = uuid.uuid4()
                txn_rows.append(
                    {
                        "id": tid,
                        "coalition_id": cid,
                        "kind": TxnKind.earn.name,
                        "card_id": cid_card,
                        "business_id": members[i % 3],
                        "order_ref": f"b{made + i}",
                        "order_minor": 100_000,
                        "points": 50,
                        "value_minor": 5000,
                        "rules_version": 1,
                        "caller": "",
                        "at": NOW,
                    }
                )
                lot_rows.append(
                    {
                        "id": uuid.uuid4(),
                        "coalition_id": cid,
                        "card_id": cid_card,
                        "issuer_business_id": members[i % 3],
                        "transaction_id": tid,
                        "points": 50,
                        "remaining": 50,
                        "available_at": NOW,
                        "expires_at": NOW + timedelta(days=365),
                        "created_at": NOW,
                    }
                )
                if len(numbers) < 2000:
                    numbers.append(number)
                    ids.append(cid_card)
            conn.execute(insert(Card.__table__), card_rows)
            conn.execute(insert(Transaction.__table__), txn_rows)
            conn.execute(insert(Lot.__table__), lot_rows)
            made += len(card_rows)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))

    def p95(fn: Callable[[int], None], n: int = 500) -> float:
        times = []
        for i in range(n):
            t = time.perf_counter()
            fn(i)
            times.append((time.perf_counter() - t) * 1000)
        return statistics.quantiles(times, n=20)[18]

    def via_service(i: int) -> None:
        with factory() as db:
            card = service.find_card(db, numbers[i % len(numbers)])
            assert service.balance(db, card, now=NOW + timedelta(days=1)).available == 50

    sql = text(
        "SELECT l.remaining FROM loyalty_lots l JOIN loyalty_cards c ON c.id = l.card_id "
        "WHERE c.number = :n AND l.remaining > 0"
    )

    def raw(i: int) -> None:
        with engine.connect() as conn:
            conn.execute(sql, {"n": numbers[i % len(numbers)]}).all()

    p95(via_service, 50)
    p95(raw, 50)
    result = [(f"balance p95 of {made:,} cards, ms", p95(via_service), p95(raw))]
    engine.dispose()
    return result


def stateful(target: int, url: str | None, sqlite: bool) -> int:
    """Run the invariant test (tests/loyalty/test_stateful.py) until `target` operations ran.

    Hypothesis ends an example when its choice buffer is full, after about 700 steps on
    average (fewer than the 2,000 allowed), so the run is repeated until the operations it
    reports checked reach the target. Each step is checked incrementally, the whole ledger
    every 1,000 steps and at the end of each example.
    """
    env = os.environ | {
        "LOYALTY_STATEFUL_STEPS": "2000",
        "LOYALTY_STATEFUL_FULL_EVERY": "1000",
        "PYTHONPATH": str(ROOT / "src"),
    }
    if url:
        env["CROSSPROMO_TEST_PG_URL"] = url
    # --sqlite alone: SQLite; --url alone: PostgreSQL; both: one after the other.
    chosen = "sqlite" if not url else "postgresql" if not sqlite else "sqlite or postgresql"
    done = 0
    while done < target:
        examples = max(1, -(-(target - done) // 600))
        run = subprocess.Popen(
            [
                *(sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider"),
                *("-q", "-s", "-k", chosen, str(ROOT / "tests/loyalty/test_stateful.py")),
            ],
            env=env | {"LOYALTY_STATEFUL_EXAMPLES": str(examples)},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert run.stdout is not None
        checked = 0
        for line in run.stdout:
            print(line, end="", flush=True)
            if line.startswith("stateful loyalty run:"):
                checked = int(line.split()[3])
        if run.wait() != 0:
            return 1
        done += checked
        print(f"total: {done} operations checked", flush=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("CROSSPROMO_BENCH_PG_URL"))
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--stateful", type=int, default=0, help="run N random operations")
    parser.add_argument("--only", choices=["writes", "clearing", "balance"], default=None)
    args = parser.parse_args()
    if args.stateful:
        sys.exit(stateful(args.stateful, args.url, args.sqlite))
    engines = (["sqlite"] if args.sqlite or not args.url else []) + (
        ["postgresql"] if args.url else []
    )
    print("| engine | operation | crosspromo | baseline (raw SQL) | ratio |")
    print("|---|---|---:|---:|---:|")
    for kind in engines:
        steps = {
            "writes": lambda u: bench_writes(u, args.ops),
            "clearing": lambda u: bench_clearing(u, args.entries),
            "balance": lambda u: bench_balance(u, args.cards),
        }
        for name, step in steps.items():
            if args.only and name != args.only:
                continue
            with database(kind, args.url) as url:
                for name, ours, base in step(url):
                    print(
                        f"| {kind} | {name} | {ours:,.1f} | {base:,.1f} | {ours / base:.2f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
