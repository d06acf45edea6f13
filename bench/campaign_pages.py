"""The pipeline dashboard and a big campaign's page vs raw SQL for the same figures.

    python bench/campaign_pages.py --url postgresql://postgres@127.0.0.1:55436/postgres
    python bench/campaign_pages.py --sqlite [--partnerships 10000 --tasks 100000 --runs 30]
    python bench/campaign_pages.py    # CROSSPROMO_BENCH_PG_URL, or a throwaway cluster

Builds a fresh, migrated database (a new database on the given PostgreSQL server, dropped
afterwards unless --keep; or a temporary SQLite file) with bulk inserts (COPY on PostgreSQL,
Core executemany on SQLite): one hub business with `--partnerships` partner businesses and as
many proposals (open, agreed with acceptances, declined; some countered, some with messages),
`--campaigns` small campaigns under agreements, and one big campaign with `--tasks` tasks (both
sides, mixed statuses and due dates, rehearsal items), budget lines and baseline snapshots.

Then times, with the real app signed in as the hub's owner (an API key for the API), the
server time of (a) the list page (`--list-path`, the proposals list until the pipeline lands),
(b) the big campaign's page and (c) `GET /api/v1/campaigns/{id}`; each against a baseline of
raw SQL on the same engine computing the figures that page shows. Median and p95 over `--runs`
requests after warm-up; ratio = page median / raw median. Goal: within 2x.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    TextClause,
    Uuid,
    bindparam,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
HUB_PASSWORD = "correct horse battery"


def fill(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Every column of the row, Python-side defaults included (COPY knows no defaults)."""
    out = {}
    for column in table.columns:
        if column.name in row:
            out[column.name] = row[column.name]
        elif column.default is not None and getattr(column.default, "is_callable", False):
            out[column.name] = column.default.arg(None)  # type: ignore[attr-defined]
        elif column.default is not None:
            out[column.name] = column.default.arg  # type: ignore[attr-defined]
        else:
            out[column.name] = None
    return out


def bulk(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """COPY on PostgreSQL, Core executemany elsewhere; returns the row count."""
    full = [fill(table, r) for r in rows]
    if not full:
        return 0
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), full)
        return len(full)
    from psycopg.types.json import Json

    names = [c.name for c in table.columns]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    columns = ", ".join(f'"{n}"' for n in names)
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for r in full:
            copy.write_row(
                [
                    Json(v) if isinstance(v, dict | list) else getattr(v, "value", v)
                    for v in (r[n] for n in names)
                ]
            )
    return len(full)


def build(url: str, partnerships: int, tasks: int, campaigns: int) -> dict[str, Any]:
    """The data set; returns ids and tokens to measure with."""
    from crosspromo.accounts import service as accounts
    from crosspromo.accounts.models import Membership, Role, User, Workspace
    from crosspromo.businesses import service as businesses
    from crosspromo.businesses.models import Business
    from crosspromo.businesses.schemas import BusinessCreate
    from crosspromo.campaigns.models import (
        BudgetItem,
        Campaign,
        Member,
        Snapshot,
        Stage,
        Task,
        TaskStatus,
    )
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.migrate import upgrade
    from crosspromo.partnerships.models import (
        Acceptance,
        Proposal,
        ProposalMessage,
        Status,
        TermsVersion,
    )

    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        owner = accounts.create_user(db, email="hub@example.com", password=HUB_PASSWORD)
        workspace = accounts.create_workspace(db, name="Hub", owner=owner)
        hub = businesses.create(
            db,
            workspace_id=workspace.id,
            data=BusinessCreate(name="Hub Bakery", category="shop=bakery"),
        )
        cookie, _ = accounts.start_session(db, user=owner, days=1)
        api_key, _ = accounts.create_api_key(db, business_id=hub.id, role=Role.owner)
        db.commit()
        hub_id, owner_id, currency = hub.id, owner.id, hub.currency
    now = datetime.now(UTC).replace(microsecond=0)
    today = date.today()
    option = {
        "mechanic": "joint_promotion",
        "title": "A free croissant with every coffee",
        "proposer": {"gives": "croissants", "gets": "cafe customers"},
        "partner": {"gives": "a flyer at the till", "gets": "bakery customers"},
    }
    with engine.begin() as conn:
        spaces = [{"id": uuid.uuid4(), "name": f"Partner {i}"} for i in range(partnerships)]
        bulk(conn, Workspace.__table__, spaces)  # type: ignore[arg-type]
        partners = [
            {
                "id": uuid.uuid4(),
                "workspace_id": s["id"],
                "slug": f"partner-{i:05d}",
                "name": f"Partner {i:05d}",
                "category": ("amenity=cafe", "shop=florist", "shop=books")[i % 3],
                "currency": currency,
                "country": "RU",
                "timezone": "Europe/Moscow",
                "tags": [],
            }
            for i, s in enumerate(spaces)
        ]
        bulk(conn, Business.__table__, partners)  # type: ignore[arg-type]
        # People on both sides of the big campaign, to assign tasks to.
        people = [
            {"id": uuid.uuid4(), "email": f"p{i}@example.com", "name": f"Person {i}"}
            for i in range(6)
        ]
        bulk(conn, User.__table__, [{**p, "password_hash": "x"} for p in people])  # type: ignore[arg-type]
        big_partner = partners[0]
        bulk(
            conn,
            Membership.__table__,  # type: ignore[arg-type]
            [
                {
                    "id": uuid.uuid4(),
                    "user_id": p["id"],
                    "workspace_id": workspace.id if i < 3 else big_partner["workspace_id"],
                    "role": Role.manager,
                }
                for i, p in enumerate(people)
            ],
        )
        proposals, versions, acceptances, messages = [], [], [], []
        statuses = [Status.agreed] * 4 + [Status.open] * 4 + [Status.declined] * 2
        for i, partner in enumerate(partners):
            status = statuses[i % 10]
            first, second = (hub_id, partner["id"]) if i % 2 == 0 else (partner["id"], hub_id)
            current = 2 if i % 3 == 0 else 1
            created = now - timedelta(minutes=partnerships - i)
            pid = uuid.uuid4()
            proposals.append(
                {
                    "id": pid,
                    "from_business_id": first,
                    "to_business_id": second,
                    "message": "Let us work together",
                    "status": status,
                    "current_version": current,
                    "agreed_version": current if status is Status.agreed else None,
                    "decline_reason": "Not now" if status is Status.declined else "",
                    "created_at": created,
                    "updated_at": created,
                }
            )
            for number in range(1, current + 1):
                versions.append(
                    {
                        "id": uuid.uuid4(),
                        "proposal_id": pid,
                        "number": number,
                        "author_business_id": first if number == 1 else second,
                        "options": [option],
                        "created_at": created,
                    }
                )
            if status is Status.agreed:
                for later, side in enumerate((first, second)):
                    acceptances.append(
                        {
                            "id": uuid.uuid4(),
                            "proposal_id": pid,
                            "version": current,
                            "option": 0,
                            "business_id": side,
                            "at": created + timedelta(hours=later),
                        }
                    )
            if i % 5 == 0:
                messages.append(
                    {
                        "id": uuid.uuid4(),
                        "proposal_id": pid,
                        "business_id": second,
                        "text": "Sounds good, let us talk on Monday.",
                        "at": created,
                    }
                )
        bulk(conn, Proposal.__table__, proposals)  # type: ignore[arg-type]
        bulk(conn, TermsVersion.__table__, versions)  # type: ignore[arg-type]
        bulk(conn, Acceptance.__table__, acceptances)  # type: ignore[arg-type]
        bulk(conn, ProposalMessage.__table__, messages)  # type: ignore[arg-type]
        agreed = [p for p in proposals if p["status"] is Status.agreed][: campaigns + 1]
        rows, members, budget, task_rows = [], [], [], []
        for n, proposal in enumerate(agreed):
            cid = uuid.uuid4()
            big = n == 0
            rows.append(
                {
                    "id": cid,
                    "proposal_id": proposal["id"],
                    "created_by_business_id": hub_id,
                    "title": "The big campaign" if big else f"Campaign {n}",
                    "stage": Stage.running if big else (Stage.preparation, Stage.agreed)[n % 2],
                    "currency": currency,
                    "starts_on": today - timedelta(days=10),
                    "ends_on": today + timedelta(days=20),
                    "goal_business_id": hub_id,
                    "goal_metric": "revenue",
                    "goal_kind": "increase_percent",
                    "goal_target": 2500,
                    "created_at": now - timedelta(seconds=len(agreed) - n),
                    "updated_at": now,
                }
            )
            sides = (proposal["from_business_id"], proposal["to_business_id"])
            members += [{"id": uuid.uuid4(), "campaign_id": cid, "business_id": b} for b in sides]
            for k in range(20 if big else 2):
                budget.append(
                    {
                        "id": uuid.uuid4(),
                        "campaign_id": cid,
                        "business_id": sides[k % 2],
                        "item": ("materials", "discounts", "advertising", "other")[k % 4],
                        "description": f"Line {k}",
                        "amount_minor": 100_000 + 1_000 * k,
                        "currency": currency,
                    }
                )
            count = tasks if big else 5
            task_status = [TaskStatus.done] * 4 + [TaskStatus.doing] * 2 + [TaskStatus.todo] * 4
            for k in range(count):
                side = sides[k % 2]
                mine = side == hub_id
                assignee = None if k % 4 == 0 else people[(k % 3) + (0 if mine else 3)]["id"]
                task_rows.append(
                    {
                        "id": uuid.uuid4(),
                        "campaign_id": cid,
                        "business_id": side,
                        "title": f"Task {k:06d}: flyers at the till",
                        "rehearsal": k % 20 == 0,
                        "assignee_user_id": assignee if big else None,
                        "due_on": None if k % 15 == 0 else today + timedelta(days=k % 120 - 60),
                        "status": task_status[k % 10],
                        "updated_at": now,
                    }
                )
        big_id = rows[0]["id"]
        bulk(conn, Campaign.__table__, rows)  # type: ignore[arg-type]
        bulk(conn, Member.__table__, members)  # type: ignore[arg-type]
        bulk(conn, BudgetItem.__table__, budget)  # type: ignore[arg-type]
        bulk(conn, Task.__table__, task_rows)  # type: ignore[arg-type]
        figures = {"revenue": 12_000_000, "receipts": 9_000, "average_check": 1_333, "customers": 4}
        bulk(
            conn,
            Snapshot.__table__,  # type: ignore[arg-type]
            [
                {
                    "id": uuid.uuid4(),
                    "campaign_id": big_id,
                    "business_id": b,
                    "moment": "baseline",
                    "period_start": today - timedelta(days=41),
                    "period_end": today - timedelta(days=11),
                    "figures": figures,
                    "taken_at": now,
                }
                for b in (hub_id, big_partner["id"])
            ],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return {
        "hub": hub_id,
        "owner": owner_id,
        "campaign": big_id,
        "cookie": cookie,
        "api_key": api_key,
        "rows": len(proposals) + len(versions) + len(task_rows) + len(partners),
    }


def sql(statement: str) -> TextClause:
    """Raw SQL whose :c and :hub parameters are ids (SQLite stores them as hex)."""
    names = [n for n in ("c", "hub") if f":{n}" in statement]
    return text(statement).bindparams(*(bindparam(n, type_=Uuid()) for n in names))


def raw_list(conn: Connection, hub: uuid.UUID, limit: int) -> list[Any]:
    """The list page's figures: a page of the hub's proposals with both partner names."""
    return conn.execute(
        sql(
            "SELECT p.id, p.status, p.current_version, f.name, t.name FROM"
            " (SELECT * FROM proposals WHERE from_business_id = :hub OR to_business_id = :hub"
            "  ORDER BY created_at DESC LIMIT :limit) p"
            " JOIN businesses f ON f.id = p.from_business_id"
            " JOIN businesses t ON t.id = p.to_business_id"
            " ORDER BY p.created_at DESC"
        ),
        {"hub": hub, "limit": limit},
    ).all()


STAGES = ("prospect", "contacted", "meeting", "proposal", "negotiating", "active", "paused")


def raw_pipeline(conn: Connection, hub: uuid.UUID, limit: int) -> list[Any]:
    """The pipeline board's figures: the proposals out of step with their entries (the sync
    check), the count per stage, each stage's first `limit` entries and the due follow-ups."""
    found: list[Any] = [
        conn.execute(
            sql(
                "SELECT p.id FROM proposals p LEFT JOIN pipeline_entries e"
                " ON e.proposal_id = p.id AND e.business_id = :hub"
                " WHERE (p.from_business_id = :hub OR p.to_business_id = :hub)"
                " AND p.status IN ('open', 'agreed') AND (e.id IS NULL OR (e.stage <> CASE"
                " WHEN p.status = 'agreed' THEN 'active' WHEN p.current_version > 1"
                " THEN 'negotiating' ELSE 'proposal' END AND e.stage NOT IN ('paused', 'ended')))"
            ),
            {"hub": hub},
        ).all(),
        conn.execute(
            sql("SELECT stage, count(*) FROM pipeline_entries WHERE business_id = :hub GROUP BY 1"),
            {"hub": hub},
        ).all(),
    ]
    for stage in (*STAGES, "ended"):
        found.append(
            conn.execute(
                sql(
                    "SELECT * FROM pipeline_entries WHERE business_id = :hub AND stage = :s"
                    " ORDER BY created_at, id LIMIT :limit"
                ),
                {"hub": hub, "s": stage, "limit": limit},
            ).all()
        )
    found.append(
        conn.execute(
            sql(
                "SELECT * FROM pipeline_entries WHERE business_id = :hub AND next_follow_up_on"
                " <= :today ORDER BY next_follow_up_on, id LIMIT 200"
            ),
            {"hub": hub, "today": date.today()},
        ).all()
    )
    return found


def raw_campaign(conn: Connection, cid: uuid.UUID, tasks: int) -> list[Any]:
    """The campaign's figures: row, members, task counts, budget, totals by side, snapshots,
    and (for the page) the first page of tasks."""
    today = date.today()
    found = [
        conn.execute(sql("SELECT * FROM campaigns WHERE id = :c"), {"c": cid}).one(),
        conn.execute(
            sql(
                "SELECT b.id, b.name FROM campaign_members m JOIN businesses b"
                " ON b.id = m.business_id WHERE m.campaign_id = :c"
            ),
            {"c": cid},
        ).all(),
        conn.execute(
            sql(
                "SELECT count(CASE WHEN NOT rehearsal THEN 1 END),"
                " count(CASE WHEN NOT rehearsal AND status = 'done' THEN 1 END),"
                " count(CASE WHEN NOT rehearsal AND status != 'done' AND due_on < :today"
                " THEN 1 END),"
                " count(CASE WHEN rehearsal THEN 1 END),"
                " count(CASE WHEN rehearsal AND status = 'done' THEN 1 END)"
                " FROM campaign_tasks WHERE campaign_id = :c"
            ),
            {"c": cid, "today": today},
        ).one(),
        conn.execute(
            sql("SELECT * FROM campaign_budget WHERE campaign_id = :c ORDER BY business_id, item"),
            {"c": cid},
        ).all(),
        conn.execute(
            sql(
                "SELECT business_id, sum(amount_minor) FROM campaign_budget"
                " WHERE campaign_id = :c GROUP BY business_id"
            ),
            {"c": cid},
        ).all(),
        conn.execute(
            sql("SELECT * FROM campaign_snapshots WHERE campaign_id = :c"), {"c": cid}
        ).all(),
    ]
    if tasks:
        found.append(
            conn.execute(
                sql(
                    "SELECT * FROM campaign_tasks WHERE campaign_id = :c"
                    " ORDER BY rehearsal, due_on NULLS LAST, title, id LIMIT :n"
                ),
                {"c": cid, "n": tasks},
            ).all()
        )
    return found


class Timed:
    """ASGI wrapper: the server time of the last request, without the test client's share."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        began = time.perf_counter()
        await self.app(scope, receive, send)
        self.last = time.perf_counter() - began


def sample(fn: Callable[[], float], runs: int, warmup: int) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    times = sorted(fn() for _ in range(runs))
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--url",
        default=os.environ.get("CROSSPROMO_BENCH_PG_URL", ""),
        help="a PostgreSQL server URL; a new database is made on it (default: "
        "CROSSPROMO_BENCH_PG_URL, else a throwaway cluster from scripts/test-postgres.sh)",
    )
    where.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    parser.add_argument("--partnerships", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=300)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--list-path", default="/b/{business}/pipeline")
    parser.add_argument("--list-limit", type=int, default=50, help="rows the list page shows")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from crosspromo.app import create_app
    from crosspromo.campaigns.pages import PLAN_PAGE
    from crosspromo.settings import Settings

    admin: Engine | None = None
    name = ""
    started = None
    if not args.sqlite and not args.url:  # `make bench` passes nothing
        started = Path(tempfile.mkdtemp(prefix="crosspromo-bench-")) / "pg"
        started.parent.chmod(0o755)  # the server runs as `postgres`, which must reach it
        args.url = subprocess.run(
            [str(ROOT / "scripts/test-postgres.sh"), "start", str(started), "55498"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    if not args.sqlite:
        server = make_url(args.url).set(drivername="postgresql+psycopg")
        name = f"cp_bench_pages_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='crosspromo-pages-')) / 'bench.db'}"
    try:
        began = time.perf_counter()
        ids = build(url, args.partnerships, args.tasks, args.campaigns)
        built = time.perf_counter() - began
        app = create_app(
            Settings(database_url=url, secret_key="bench", var_dir=Path(tempfile.mkdtemp()))
        )
        timed = Timed(app)
        engine: Engine = app.state.engine
        hub, cid = ids["hub"], ids["campaign"]
        paths = {
            "list": args.list_path.format(business=hub, id=hub),
            "page": f"/b/{hub}/campaigns/{cid}",
            "api": f"/api/v1/campaigns/{cid}",
        }
        bearer = {"Authorization": f"Bearer {ids['api_key']}"}
        with TestClient(timed, raise_server_exceptions=True) as client:
            client.cookies.set("cp_session", ids["cookie"])

            def request(path: str, headers: dict[str, str] | None = None) -> Callable[[], float]:
                def one() -> float:
                    response = client.get(path, headers=headers, follow_redirects=False)
                    assert response.status_code == 200, (path, response.status_code)
                    return timed.last

                return one

            def raw(fn: Callable[[Connection], object]) -> Callable[[], float]:
                def one() -> float:
                    start = time.perf_counter()
                    with engine.connect() as conn:
                        fn(conn)
                    return time.perf_counter() - start

                return one

            # The figures agree: the API's counts are the raw query's counts.
            body = client.get(paths["api"], headers=bearer).json()
            with engine.connect() as conn:
                counts = raw_campaign(conn, cid, 0)[2]
            assert body["tasks"]["total"] == counts[0], (body["tasks"], counts)
            cases = [
                (
                    f"list page {args.list_path} ({args.list_limit} of {args.partnerships:,})",
                    request(paths["list"]),
                    raw(
                        (lambda c: raw_pipeline(c, hub, args.list_limit))
                        if "pipeline" in args.list_path
                        else (lambda c: raw_list(c, hub, args.list_limit))
                    ),
                ),
                (
                    f"campaign page ({args.tasks:,} tasks, {PLAN_PAGE} shown)",
                    request(paths["page"]),
                    raw(lambda c: raw_campaign(c, cid, PLAN_PAGE)),
                ),
                (
                    "GET /api/v1/campaigns/{id}",
                    request(paths["api"], bearer),
                    raw(lambda c: raw_campaign(c, cid, 0)),
                ),
            ]
            # The fixed cost of any signed-in page: session, user, roles, switcher, unread
            # count, the page shell; a floor under every page's median.
            floor, _ = sample(request("/account/password"), args.runs, args.warmup)
            results = []
            for label, page_fn, raw_fn in cases:
                page = sample(page_fn, args.runs, args.warmup)
                base = sample(raw_fn, args.runs, args.warmup)
                results.append((label, page, base))
        engine.dispose()
    finally:
        if admin is not None:
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        if started is not None:
            subprocess.run(
                [str(ROOT / "scripts/test-postgres.sh"), "stop", str(started)], check=False
            )
    engine_name = "SQLite" if args.sqlite else "PostgreSQL"
    print(
        f"{engine_name}: {args.partnerships:,} partnerships, {args.tasks:,} tasks, "
        f"{args.campaigns} campaigns ({ids['rows']:,} main rows built in {built:.1f} s); "
        f"{args.runs} runs after {args.warmup} warm-up"
    )
    ms = 1000
    head = f"{'operation':<52}{'median':>9}{'p95':>9}{'raw med':>9}{'raw p95':>9}{'ratio':>7}"
    print(head)
    for label, (med, p95), (bmed, bp95) in results:
        print(
            f"{label:<52}{med * ms:>7.1f}ms{p95 * ms:>7.1f}ms"
            f"{bmed * ms:>7.1f}ms{bp95 * ms:>7.1f}ms{med / bmed:>7.2f}"
        )
    print(f"a signed-in page with no data (/account/password): {floor * ms:.1f} ms median")
    print(json.dumps({"ratios": {r[0]: round(r[1][0] / r[2][0], 2) for r in results}}))


if __name__ == "__main__":
    main()
