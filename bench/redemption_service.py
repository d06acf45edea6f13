"""Redemption through the service layer vs a raw SQL transaction doing the same writes.

    python bench/redemption_service.py --url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/redemption_service.py --sqlite          # (the default without --url)

Both sides run in this process on the same fresh, migrated database: a running campaign, an
offer (10 % off) under an agreement that pays the issuer 5 % per sale, and 2N unique codes.

- **service**: N calls of `offers.service.redeem`, each in its own unit of work (all the till's
  checks: tenancy, campaign stage, dates, hours, limits, stacking; then the conditional UPDATEs,
  the redemption, its accrual, the webhook look-up), as a cashier's API key would;
- **raw**: N transactions of hand-written statements doing the same writes: find the code,
  conditional `UPDATE offer_codes`, conditional `UPDATE offers`, `INSERT redemptions`,
  `INSERT accruals`. They are SQLAlchemy Core statements on the tables (compiled once and
  cached, so no ORM and no checks), which keeps UUIDs and times right on both engines.

The two alternate in blocks so that both see the same machine. Goal: service >= 0.5x raw.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.app import create_app
from crosspromo.businesses import service as businesses
from crosspromo.businesses.schemas import BusinessCreate
from crosspromo.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from crosspromo.migrate import upgrade
from crosspromo.offers import service
from crosspromo.offers.models import Accrual, Code, Offer, Redemption
from crosspromo.offers.schemas import Till
from crosspromo.settings import Settings

SECRET = "bench-secret"
ORDER_MINOR = 50_000
OPTION: dict[str, Any] = {
    "mechanic": "joint_promotion",
    "title": "10% off coffee for bakery customers",
    "proposer": {"gives": "customers", "gets": "customers"},
    "partner": {"gives": "a discount", "gets": "new customers"},
    "payment_model": "per_sale_percent",
    "payment_percent": "5",
}


@contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """A new migrated database on the server of `url` (dropped after), or a temp SQLite file."""
    if not url:
        with tempfile.TemporaryDirectory() as directory:
            target = f"sqlite:///{Path(directory) / 'bench.db'}"
            upgrade(target)
            yield target
        return
    server = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"cp_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(target)
        yield target
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Setup:
    """What both sides need: the businesses, a cashier's key, the offer, codes to redeem."""

    cafe_id: uuid.UUID
    bakery_id: uuid.UUID
    cashier_key: str
    offer_id: uuid.UUID
    proposal_id: uuid.UUID
    codes: list[str]


def prepare(url: str, n_codes: int) -> Setup:
    """Two partners, an agreement paying 5 % per sale, a running campaign, an offer, codes."""
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    db = app.state.sessions()
    ids = {}
    for email, name, category in (
        ("bakery@bench.example", "Bakery", "shop=bakery"),
        ("cafe@bench.example", "Cafe", "amenity=cafe"),
    ):
        user = accounts.create_user(db, email=email, password="correct horse battery")
        workspace = accounts.create_workspace(db, name=name, owner=user)
        business = businesses.create(
            db, workspace_id=workspace.id, data=BusinessCreate(name=name, category=category)
        )
        ids[name] = business
    db.commit()
    bakery, cafe = ids["Bakery"], ids["Cafe"]

    def key(business: Any, role: Role) -> dict[str, str]:
        token, _ = accounts.create_api_key(db, business_id=business.id, role=role)
        db.commit()
        return {"Authorization": f"Bearer {token}"}

    manager, bakery_owner = key(bakery, Role.manager), key(bakery, Role.owner)
    cafe_owner, cashier = key(cafe, Role.owner), key(cafe, Role.cashier)
    with TestClient(app) as client:

        def ok(response: Any) -> Any:
            assert response.status_code < 300, response.text
            return response.json()

        sent = ok(
            client.post(
                "/api/v1/partnerships",
                params={"business_id": str(bakery.id)},
                headers=manager,
                json={"to_business": cafe.slug, "options": [OPTION]},
            )
        )
        proposal = f"/api/v1/partnerships/{sent['id']}"
        ok(client.post(f"{proposal}/accept", headers=bakery_owner, json={"version": 1}))
        ok(client.post(f"{proposal}/accept", headers=cafe_owner, json={"version": 1}))
        today = date.today()
        campaign = ok(
            client.post(
                "/api/v1/campaigns",
                params={"business_id": str(bakery.id)},
                headers=manager,
                json={
                    "proposal_id": sent["id"],
                    "title": "Coffee for bread",
                    "starts_on": (today - timedelta(days=1)).isoformat(),
                    "ends_on": (today + timedelta(days=30)).isoformat(),
                },
            )
        )
        url_c = f"/api/v1/campaigns/{campaign['id']}"
        ok(
            client.patch(
                url_c,
                headers=manager,
                json={"goal_metric": "receipts", "goal_kind": "increase_by", "goal_target": "10"},
            )
        )
        budget = {"business_id": str(bakery.id), "item": "materials", "amount_minor": 100}
        ok(client.post(f"{url_c}/budget", headers=manager, json=budget | {"currency": "RUB"}))
        task = {"business_id": str(bakery.id), "title": "Print"}
        ok(client.post(f"{url_c}/tasks", headers=manager, json=task))
        ok(client.post(f"{url_c}/stage", headers=manager, json={"to": "agreed"}))
        ok(client.post(f"{url_c}/stage", headers=manager, json={"to": "running"}))
        offer = ok(
            client.post(
                f"{url_c}/offers",
                headers=manager,
                json={
                    "issuer_business_id": str(bakery.id),
                    "honouring_business_id": str(cafe.id),
                    "title": OPTION["title"],
                    "benefit": "percent",
                    "percent": "10",
                },
            )
        )
        left = n_codes
        while left:
            batch = min(left, 100_000)
            body = {"kind": "unique", "count": batch}
            ok(client.post(f"/api/v1/offers/{offer['id']}/codes", headers=manager, json=body))
            left -= batch
    offer_id = uuid.UUID(offer["id"])
    codes = list(db.scalars(select(Code.code).where(Code.offer_id == offer_id).order_by(Code.id)))
    db.close()
    app.state.engine.dispose()
    return Setup(
        cafe_id=cafe.id,
        bakery_id=bakery.id,
        cashier_key=cashier["Authorization"].removeprefix("Bearer "),
        offer_id=offer_id,
        proposal_id=uuid.UUID(sent["id"]),
        codes=codes,
    )


def service_redeemer(engine: Engine, till: Setup) -> Callable[[str], None]:
    factory = make_sessionmaker(engine)
    actor = Actor(key_business_id=till.cafe_id, key_role=Role.cashier, key_id=uuid.uuid4())

    def redeem(code: str) -> None:
        with unit_of_work(factory) as session:
            service.redeem(
                session,
                actor,
                Till(business_id=till.cafe_id, code=code, order_minor=ORDER_MINOR),
                secret_key=SECRET,
            )

    return redeem


CODES, OFFERS = Code.__table__, Offer.__table__
REDEMPTIONS, ACCRUALS = Redemption.__table__, Accrual.__table__


def raw_redeem(conn: Any, till: Setup, code: str) -> uuid.UUID:
    """The writes of one redemption, by hand, in the caller's transaction; the redemption id."""
    found = conn.execute(
        select(CODES.c.id, CODES.c.offer_id, CODES.c.staff_user_id).where(
            CODES.c.honouring_business_id == till.cafe_id, CODES.c.code == code
        )
    ).one()
    granted = conn.execute(
        update(CODES)
        .where(
            CODES.c.id == found.id,
            CODES.c.max_uses.is_(None) | (CODES.c.uses < CODES.c.max_uses),
        )
        .values(uses=CODES.c.uses + 1)
    ).rowcount
    if granted != 1:
        raise RuntimeError("code used")
    conn.execute(
        update(OFFERS)
        .where(
            OFFERS.c.id == found.offer_id,
            OFFERS.c.total_limit.is_(None) | (OFFERS.c.uses < OFFERS.c.total_limit),
        )
        .values(uses=OFFERS.c.uses + 1)
    )
    now = utcnow()
    redemption_id = uuid.uuid4()
    conn.execute(
        insert(REDEMPTIONS).values(
            id=redemption_id,
            offer_id=found.offer_id,
            code_id=found.id,
            business_id=till.cafe_id,
            referrer_business_id=till.bakery_id,
            staff_user_id=found.staff_user_id,
            order_minor=ORDER_MINOR,
            discount_minor=ORDER_MINOR // 10,
            currency="RUB",
            order_ref="",
            reason="",
            at=now,
        )
    )
    conn.execute(
        insert(ACCRUALS).values(
            id=uuid.uuid4(),
            proposal_id=till.proposal_id,
            redemption_id=redemption_id,
            code_id=found.id,
            kind="sale",
            payer_business_id=till.cafe_id,
            payee_business_id=till.bakery_id,
            amount_minor=ORDER_MINOR * 5 // 100,
            currency="RUB",
            at=now,
        )
    )
    return redemption_id


def raw_redeemer(engine: Engine, till: Setup) -> Callable[[str], None]:
    def redeem(code: str) -> None:
        with engine.begin() as conn:
            raw_redeem(conn, till, code)

    return redeem


def timed_blocks(
    sides: dict[str, Callable[[str], None]], codes: dict[str, list[str]], block: int
) -> dict[str, list[float]]:
    """Each side redeems its codes, alternating blocks; the seconds per redemption."""
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    n = len(next(iter(codes.values())))
    for start in range(0, n, block):
        for name, redeem in sides.items():
            for code in codes[name][start : start + block]:
                began = time.perf_counter()
                redeem(code)
                seconds[name].append(time.perf_counter() - began)
    return seconds


def check(engine: Engine, till: Setup, expected: int) -> None:
    """Both sides did the same writes: one redemption and one accrual per code."""
    with engine.connect() as conn:
        redemptions = conn.execute(text("SELECT count(*) FROM redemptions")).scalar_one()
        accruals = conn.execute(text("SELECT count(*) FROM accruals")).scalar_one()
        uses = conn.execute(select(OFFERS.c.uses).where(OFFERS.c.id == till.offer_id)).scalar_one()
    assert redemptions == accruals == uses == expected, (redemptions, accruals, uses, expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="", help="a PostgreSQL server: postgresql://...")
    parser.add_argument("--sqlite", action="store_true", help="also (or only) on SQLite")
    parser.add_argument("-n", type=int, default=2000, help="redemptions per side")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--block", type=int, default=250, help="alternate sides every so many")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the service side")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the app logs every request at INFO
    engines = ([("PostgreSQL", args.url)] if args.url else []) + (
        [("SQLite", "")] if args.sqlite or not args.url else []
    )
    rows = []
    for engine_name, url in engines:
        with fresh_database(url) as target:
            total = args.n + args.warmup
            till = prepare(target, 2 * total)
            engine = make_engine(target)
            sides = {"service": service_redeemer(engine, till), "raw": raw_redeemer(engine, till)}
            codes = {"service": till.codes[:total], "raw": till.codes[total:]}
            warm = {k: v[: args.warmup] for k, v in codes.items()}
            timed_blocks(sides, warm, args.block)
            measured = {k: v[args.warmup :] for k, v in codes.items()}
            if args.profile:
                from pyinstrument import Profiler

                profiler = Profiler()
                profiler.start()
                timed_blocks({"service": sides["service"]}, measured, args.block)
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False), file=sys.stderr)
                engine.dispose()
                continue
            seconds = timed_blocks(sides, measured, args.block)
            check(engine, till, 2 * total)
            engine.dispose()
        rate = {k: len(v) / sum(v) for k, v in seconds.items()}
        p50 = {k: statistics.median(v) * 1e3 for k, v in seconds.items()}
        rows.append((engine_name, rate, p50))
    print(f"{args.n:,} redemptions per side, each its own transaction, one process")
    print("| engine | operation | redemptions/s | p50 | raw SQL redemptions/s | raw p50 | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for engine_name, rate, p50 in rows:
        print(
            f"| {engine_name} | `offers.service.redeem` | {rate['service']:,.0f} | "
            f"{p50['service']:.2f} ms | {rate['raw']:,.0f} | {p50['raw']:.2f} ms | "
            f"{rate['service'] / rate['raw']:.2f} |"
        )


if __name__ == "__main__":
    main()
