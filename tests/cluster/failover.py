"""The failover run, shared by tests/cluster/test_failover.py (short) and bench/failover.py (long).

Starts the local topology (scripts/cluster.sh: nginx, two app servers behind it, pgbouncer,
a PostgreSQL primary with a streaming replica, Redis, two workers), drives mixed traffic with
locust through nginx, SIGKILLs one app server and one worker mid-run, restarts them, and then
checks the database against what clients saw acknowledged.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(ROOT / "scripts" / "cluster.sh")
LOCUST = str(ROOT / ".venv" / "bin" / "locust")
SECRET = "cluster-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_block(size: int = 16) -> int:
    """A base port whose next `size` ports are free now."""
    for _ in range(200):
        base = free_port()
        if base + size >= 65000:
            continue
        try:
            for p in range(base, base + size):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
    raise RuntimeError("no block of free ports")


class Mailbox:
    """A local SMTP server counting arrivals by Message-ID."""

    def __init__(self) -> None:
        self.arrivals: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.content.decode("utf-8", "replace")
        for line in content.splitlines():
            if line.lower().startswith("message-id:"):
                with self.lock:
                    self.arrivals[line.split(":", 1)[1].strip()] += 1
                break
        return "250 OK"


@dataclass
class Cluster:
    dir: str
    port: int
    base: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def primary_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.base + 10}/postgres"

    def sh(self, *args: str) -> None:
        subprocess.run([SCRIPT, *args, self.dir], env=self.env, check=True, cwd=ROOT)


@contextmanager
def cluster(smtp_port: int, **settings: str) -> Iterator[Cluster]:
    """The topology under a fresh directory; stopped and deleted afterwards."""
    where = tempfile.mkdtemp(prefix="crosspromo-cluster-")
    base = free_block()
    port = free_port()
    env = {
        **os.environ,
        "CLUSTER_PORT": str(port),
        "CLUSTER_BASE": str(base),
        "CLUSTER_WORKER_INTERVAL": "0.5",
        "CROSSPROMO_SECRET_KEY": SECRET,
        "CROSSPROMO_SMTP_HOST": "127.0.0.1",
        "CROSSPROMO_SMTP_PORT": str(smtp_port),
        "CROSSPROMO_OUTBOX_LEASE_SECONDS": "10",
        "CROSSPROMO_TILL_RATE_LIMIT": "100000/minute",
        "CROSSPROMO_TILL_RATE_LIMIT_PER_ADDRESS": "100000/minute",
        **{f"CROSSPROMO_{k.upper()}": v for k, v in settings.items()},
    }
    env.pop("CROSSPROMO_DATABASE_URL", None)
    made = Cluster(dir=where, port=port, base=base, env=env)
    try:
        made.sh("start")
        yield made
    finally:
        keep = ROOT / "tests" / "artifacts" / "cluster"
        keep.mkdir(parents=True, exist_ok=True)
        for log in Path(where).glob("*.log"):
            shutil.copy(log, keep / log.name)
        subprocess.run([SCRIPT, "stop", where], env=env, cwd=ROOT, check=False)


def enqueue_broadcast(primary_url: str, count: int) -> list[str]:
    """`count` e-mails into the outbox, as a campaign's broadcast would; their Message-IDs."""
    from crosspromo.db import make_engine, make_sessionmaker, unit_of_work
    from crosspromo.outbox import service

    engine = make_engine(primary_url)
    ids = []
    with unit_of_work(make_sessionmaker(engine)) as session:
        for i in range(count):
            service.enqueue(
                session,
                kind="email",
                key=f"failover-{uuid.uuid4()}",
                payload={"to": f"reader{i}@example.org", "subject": "News", "text": "Hello"},
            )
        rows = session.execute(text("SELECT id FROM outbox WHERE key LIKE 'failover-%'")).scalars()
        ids = [f"<{r}@crosspromo>" for r in rows]
    engine.dispose()
    return ids


def outbox_pending(primary_url: str) -> int:
    engine = create_engine(primary_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar_one()
    engine.dispose()
    return int(n)


@dataclass
class Run:
    results: list[dict[str, Any]]
    kill_window: tuple[float, float]
    broadcast: list[str]


def drive(
    c: Cluster, plan: dict[str, Any], *, seconds: int, users: int = 16, kill_after: float = 0.3
) -> Run:
    """Locust for `seconds`; at `kill_after` of the run app 1 and worker 1 die and come back."""
    work = Path(c.dir)
    (work / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    out = work / "results.jsonl"
    env = {**c.env, "FAILOVER_PLAN": str(work / "plan.json"), "FAILOVER_OUT": str(out)}
    locust = subprocess.Popen(
        [
            LOCUST,
            "-f",
            str(ROOT / "tests" / "cluster" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "-H",
            c.url,
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--stop-timeout",
            "30",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "locust.log", "w"),  # noqa: SIM115
    )
    time.sleep(seconds * kill_after)
    broadcast = enqueue_broadcast(c.primary_url, 400)
    time.sleep(0.5)
    killed_at = time.time()
    c.sh("kill-app", "1")
    c.sh("kill-worker", "1")
    time.sleep(min(10.0, seconds * 0.1))
    c.sh("start-worker", "1")
    c.sh("start-app", "1")
    back_at = time.time()
    locust.wait(timeout=seconds + 120)
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return Run(results=results, kill_window=(killed_at, back_at), broadcast=broadcast)


def wait_drained(primary_url: str, seconds: float = 120.0) -> int:
    deadline = time.monotonic() + seconds
    while (left := outbox_pending(primary_url)) and time.monotonic() < deadline:
        time.sleep(1.0)
    return left


def check(c: Cluster, run: Run, plan: dict[str, Any], mail: Mailbox) -> dict[str, Any]:
    """What the database and the mailbox say against what the clients saw; a report."""
    engine = create_engine(c.primary_url.replace("postgresql://", "postgresql+psycopg://"))
    acked = {r["id"] for r in run.results if r["kind"].startswith("ack-")}
    with engine.connect() as conn:
        existing = {
            str(r)
            for r in conn.execute(
                text("SELECT id FROM redemptions WHERE reverses_id IS NULL")
            ).scalars()
        }
        doubled_codes = conn.execute(
            text(
                "SELECT code_id FROM redemptions WHERE offer_id = :offer AND reverses_id IS NULL"
                " GROUP BY code_id HAVING count(*) > 1"
            ),
            {"offer": plan["unique_offer"]},
        ).all()
        doubled_customers = conn.execute(
            text(
                "SELECT customer_hash FROM redemptions WHERE offer_id = :offer"
                " AND reverses_id IS NULL GROUP BY customer_hash HAVING count(*) > 1"
            ),
            {"offer": plan["shared_offer"]},
        ).all()
        shared_used = conn.execute(
            text("SELECT count(*) FROM redemptions WHERE offer_id = :o AND reverses_id IS NULL"),
            {"o": plan["shared_offer"]},
        ).scalar_one()
    engine.dispose()
    start, end = run.kill_window
    in_window = [r for r in run.results if start <= r["at"] <= end + 5]
    failed = [r for r in in_window if r["status"] in (0, 502, 503, 504)]
    statuses = Counter(r["status"] for r in run.results)
    lost_mail = [m for m in run.broadcast if mail.arrivals[m] == 0]
    twice_mail = [m for m in run.broadcast if mail.arrivals[m] > 1]
    return {
        "requests": len(run.results),
        "acknowledged_redemptions": len(acked),
        "acknowledged_missing": len(acked - existing),
        "codes_redeemed_twice": len(doubled_codes),
        "customers_redeemed_twice": len(doubled_customers),
        "shared_uses": int(shared_used),
        "shared_limit": plan["shared_limit"],
        "server_errors": statuses.get(500, 0),
        "kill_window_requests": len(in_window),
        "kill_window_error_rate": round(len(failed) / len(in_window), 3) if in_window else 0.0,
        "gave_up": sum(1 for r in run.results if r["kind"].startswith("gave-up")),
        "broadcast": len(run.broadcast),
        "mail_lost": len(lost_mail),
        "mail_twice": len(twice_mail),
        "statuses": dict(sorted(statuses.items())),
    }
