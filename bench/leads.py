"""Lead exchange: routing many leads through the service vs SQL-only assignment, and the public
form's submit latency under 16 concurrent clients.

    python bench/leads.py [--leads 10000 --specialists 500 --url postgresql://...]

1. **Routing**: an estate agent with `--specialists` specialists spread over 50 partner
   businesses (per-lead agreements) and 10 categories. `--leads` waiting leads are routed one
   by one, each in its own transaction:
   - **service**: `leads.routing.route` (candidates by category and area, load today, past
     acceptance and response, the weighted round-robin choice with its explanation, the
     deadline in working hours, the offer, the lead's status and its log, a notification);
   - **SQL only** (baseline, same run, fresh copy of the same database): one statement picks
     the least-loaded specialist of the category, then the same writes (the offer, the lead's
     status, the log row), no explanation, no deadline rules, no notification.
   Goal: the service at least 0.5x the SQL-only rate.
2. **Form submit p95**: the real app under uvicorn (2 workers), 16 client threads posting
   requests to the public form (`POST /api/v1/lead-forms/<id>/requests`), each a new customer;
   baseline: `GET /healthz` at the same concurrency in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crosspromo.accounts import service as accounts  # noqa: E402
from crosspromo.businesses import service as businesses  # noqa: E402
from crosspromo.businesses.schemas import BusinessCreate  # noqa: E402
from crosspromo.cli_support import operator  # noqa: E402
from crosspromo.db import make_engine, make_sessionmaker  # noqa: E402
from crosspromo.leads import routing, service  # noqa: E402
from crosspromo.leads.models import Lead, LeadForm, Status  # noqa: E402
from crosspromo.leads.schemas import FormCreate, SpecialistCreate  # noqa: E402
from crosspromo.migrate import upgrade  # noqa: E402
from crosspromo.partnerships import service as partnerships  # noqa: E402
from crosspromo.partnerships.schemas import Accept, Option, ProposalCreate  # noqa: E402

CATEGORIES = [
    "craft=plasterer",
    "craft=window_construction",
    "craft=carpenter",
    "craft=electrician",
    "craft=plumber",
    "craft=painter",
    "craft=tiler",
    "craft=roofer",
    "shop=furniture",
    "shop=kitchen",
]
PARTNERS = 50
PLACE = {"country": "RU", "timezone": "Asia/Yekaterinburg", "currency": "RUB", "city": "Perm"}
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Monday 11:00 in Perm


def _owner(session: Session, name: str, category: str, lat: float, lon: float) -> Any:
    user = accounts.create_user(
        session, email=f"{uuid.uuid4().hex[:10]}@example.com", password="x" * 12
    )
    workspace = accounts.create_workspace(session, name=name, owner=user)
    data = BusinessCreate(name=name, category=category, lat=lat, lon=lon, **PLACE)
    return businesses.create(session, workspace_id=workspace.id, data=data)


def build(url: str, leads: int, specialists: int) -> uuid.UUID:
    """The agent, partners with per-lead agreements, specialists, a form, waiting leads."""
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        agent = _owner(session, "Agent", "office=estate_agent", 58.01, 56.25)
        option = Option.model_validate(
            {
                "mechanic": "staff_recommendations",
                "title": "Leads",
                "proposer": {"gives": "leads", "gets": "fees"},
                "partner": {"gives": "fees", "gets": "leads"},
                "payment_model": "per_lead",
                "payment_minor": 50_000,
                "currency": "RUB",
            }
        )
        partners = []
        for i in range(PARTNERS):
            partner = _owner(session, f"Partner {i}", CATEGORIES[i % 10], 58.0 + i / 500, 56.2)
            proposal = partnerships.propose(
                session,
                operator(agent),
                from_business_id=agent.id,
                data=ProposalCreate(to_business=partner.slug, options=[option]),
            )
            partnerships.accept(session, operator(partner), proposal.id, Accept(version=1))
            partners.append(partner)
        for i in range(specialists):
            partner = partners[i % PARTNERS]
            service.create_specialist(
                session,
                operator(partner),
                partner.id,
                SpecialistCreate(
                    name=f"S{i}",
                    categories=[partner.category],
                    lat=58.0 + (i % 37) / 300,
                    lon=56.2 + (i % 23) / 300,
                    radius_km=60,
                    capacity_per_day=10**3,
                    days=[0, 1, 2, 3, 4, 5, 6],
                    hour_from=0,
                    hour_until=24,
                ),
            )
        form = service.create_form(
            session,
            operator(agent),
            agent.id,
            FormCreate(title="Bench", categories=CATEGORIES, response_minutes=120),
        )
        consent = [str(p.id) for p in partners]
        rows = [
            {
                "id": uuid.uuid4(),
                "form_id": form.id,
                "business_id": agent.id,
                "category": CATEGORIES[i % 10],
                "later_steps": [],
                "lat": 58.0 + (i % 41) / 400,
                "lon": 56.2 + (i % 29) / 400,
                "phone_hash": f"{i:064d}",
                "consent_business_ids": consent,
                "status": Status.new,
                "created_at": NOW,
                "logged": 0,
            }
            for i in range(leads)
        ]
        session.execute(Lead.__table__.insert(), rows)
        session.commit()
        form_id = form.id
    engine.dispose()
    return form_id


def route_service(url: str, form_id: uuid.UUID) -> tuple[float, int]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        ids = list(session.scalars(select(Lead.id).where(Lead.status == Status.new)))
        form = session.get(LeadForm, form_id)
        assert form is not None
        allowed = {b.id for b in service.members(session, form)}
    started = time.perf_counter()
    for lead_id in ids:
        with factory() as session:
            lead = session.get(Lead, lead_id)
            form = session.get(LeadForm, form_id)
            assert lead is not None and form is not None
            routing.route(session, lead, form, allowed, now=NOW)
            session.commit()
    elapsed = time.perf_counter() - started
    with factory() as session:
        offered = session.scalar(
            select(func.count()).select_from(Lead).where(Lead.status == Status.offered)
        )
    engine.dispose()
    return elapsed, int(offered or 0)


PICK = text(
    """
    SELECT s.id, s.business_id FROM lead_specialists s
    JOIN lead_specialist_categories c ON c.specialist_id = s.id AND c.category = :category
    LEFT JOIN lead_offers o ON o.specialist_id = s.id AND o.offered_at >= :since
    WHERE s.active
    GROUP BY s.id, s.business_id
    ORDER BY count(o.id), s.id
    LIMIT 1
    """
)


def route_sql(url: str) -> tuple[float, int]:
    """The baseline: pick by least load in SQL, then the same three writes."""
    engine = make_engine(url)
    with engine.connect() as conn:
        leads = conn.execute(text("SELECT id, category FROM leads WHERE status = 'new'")).all()
    uuid_of = engine.dialect.name == "sqlite"

    def key(value: uuid.UUID) -> Any:
        return value.hex if uuid_of else value

    since = NOW.replace(hour=0)
    started = time.perf_counter()
    for lead_id, category in leads:
        with engine.begin() as conn:
            found = conn.execute(PICK, {"since": since, "category": category}).first()
            if found is None:
                continue
            offer_id = uuid.uuid4()
            specialist_id, business_id = found
            conn.execute(
                text(
                    "INSERT INTO lead_offers (id, lead_id, specialist_id, business_id, rank, why,"
                    " offered_at, deadline_at, outcome) VALUES (:id, :lead, :s, :b, 1, '{}',"
                    " :now, :now, 'pending')"
                ),
                {
                    "id": key(offer_id),
                    "lead": lead_id,
                    "s": specialist_id,
                    "b": business_id,
                    "now": NOW,
                },
            )
            conn.execute(
                text(
                    "UPDATE leads SET status = 'offered', offer_id = :o, specialist_id = :s,"
                    " deadline_at = :now, logged = logged + 1 WHERE id = :id"
                ),
                {"o": key(offer_id), "s": specialist_id, "now": NOW, "id": lead_id},
            )
            conn.execute(
                text(
                    "INSERT INTO lead_events (id, lead_id, seq, status, note, at)"
                    " VALUES (:id, :lead, 1, 'offered', '', :now)"
                ),
                {"id": key(uuid.uuid4()), "lead": lead_id, "now": NOW},
            )
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        offered = conn.execute(text("SELECT count(*) FROM leads WHERE status = 'offered'")).scalar()
    engine.dispose()
    return elapsed, int(offered or 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def hammer(clients: int, per_client: int, call: Any) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def run(worker: int) -> None:
        with httpx.Client(timeout=60) as client:
            for i in range(per_client):
                started = time.perf_counter()
                response = call(client, worker, i)
                took = time.perf_counter() - started
                assert response.status_code in (200, 201), response.text
                with lock:
                    latencies.append(took)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def submit_p95(url: str, form_id: uuid.UUID, clients: int, per_client: int) -> tuple[float, float]:
    port = free_port()
    env = os.environ | {
        "CROSSPROMO_DATABASE_URL": url,
        "CROSSPROMO_SECRET_KEY": "bench",
        "CROSSPROMO_LEAD_FORM_RATE_LIMIT_PER_ADDRESS": "1000000 per hour",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "crosspromo.app:create_app", "--factory"]
        + ["--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            form = session.get(LeadForm, form_id)
            assert form is not None
            consent = [str(b.id) for b in service.members(session, form)][1:3]
        engine.dispose()

        def post(client: httpx.Client, worker: int, i: int) -> httpx.Response:
            body = {
                "categories": ["craft=plasterer"],
                "need": "bench",
                "email": f"c{worker}-{i}-{uuid.uuid4().hex[:6]}@example.org",
                "consent": consent,
            }
            return client.post(f"{base}/api/v1/lead-forms/{form_id}/requests", json=body)

        def health(client: httpx.Client, worker: int, i: int) -> httpx.Response:
            return client.get(f"{base}/healthz")

        hammer(clients, 3, health)  # warm both workers
        baseline = hammer(clients, per_client, health)
        submits = hammer(clients, per_client, post)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return p95(submits), p95(baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--specialists", type=int, default=500)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=25)
    parser.add_argument("--url", default="", help="PostgreSQL URL (default: SQLite files)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-leads-"))
    try:
        if args.url:
            from sqlalchemy.engine import make_url

            admin = make_engine(args.url)
            names = [f"bench_leads_{uuid.uuid4().hex[:8]}" for _ in range(2)]
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for name in names:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls = [
                make_url(args.url).set(database=n).render_as_string(hide_password=False)
                for n in names
            ]
            form_id = build(urls[0], args.leads, args.specialists)
            build(urls[1], args.leads, args.specialists)
        else:
            urls = [f"sqlite:///{workdir / 'a.db'}", f"sqlite:///{workdir / 'b.db'}"]
            form_id = build(urls[0], args.leads, args.specialists)
            shutil.copy(workdir / "a.db", workdir / "b.db")
        ours, ours_done = route_service(urls[0], form_id)
        sql, sql_done = route_sql(urls[1])
        assert ours_done == sql_done == args.leads, (ours_done, sql_done)
        submit, health = submit_p95(urls[0], form_id, args.clients, args.per_client)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    engine = "PostgreSQL" if args.url else "SQLite"
    rate, base_rate = args.leads / ours, args.leads / sql
    print(f"| operation ({engine}) | figure | baseline | ratio |")
    print("|---|---:|---:|---:|")
    print(
        f"| route {args.leads} leads among {args.specialists} specialists, leads/s "
        f"| {rate:.0f} ({ours:.1f} s) | SQL only {base_rate:.0f} ({sql:.1f} s) "
        f"| {rate / base_rate:.2f} |"
    )
    print(
        f"| form submit p95, {args.clients} clients x {args.per_client} "
        f"| {submit * 1000:.0f} ms | GET /healthz p95 {health * 1000:.0f} ms "
        f"| {submit / health:.1f} |"
    )


if __name__ == "__main__":
    main()
