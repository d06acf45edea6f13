"""Personalised e-mail through the whole pipeline vs a bare smtplib loop; the weekly cap check.

    python bench/messaging.py [--emails 100000] [--dkim-emails 1000] [--known 1000000]
                              [--checks 5000] [--url postgresql://postgres@127.0.0.1:55447/postgres]

Without --url (or CROSSPROMO_BENCH_PG_URL) it uses a temporary SQLite file. An SMTP sink
(aiosmtpd, in its own process, counting messages) listens on a free port.

* pipeline: `flows.send` queues one delivery per consenting contact, then `worker.tick`
  claims them from the outbox 200 at a time, re-checks consent and suppressions, charges the
  weekly caps, renders the contact's language (Jinja, CSS inlined) and hands them to the sink
  over one SMTP connection; the baseline is one `smtplib` connection sending the same
  messages pre-rendered. Messages per second, the ratio, and the peak memory (RSS) of this
  process.
* the same with DKIM (a 2048-bit RSA key, dkimpy) on `--dkim-emails`, against the bare loop
  signing each message before sending it; and dkimpy's signing alone, ms per message.
* cap check: `caps.charge` (INSERT ... ON CONFLICT DO NOTHING + conditional UPDATE per key,
  one transaction) for random people among `--known` with a counter this week, against a
  primary-key SELECT of the same row; p95 per message. And `caps.charge_many` as the worker
  charges a batch of 200 messages: p95 of the batch's time divided by 200.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import secrets
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crosspromo.db import make_engine, make_sessionmaker, unit_of_work, utcnow  # noqa: E402
from crosspromo.messaging import caps, channels, delivery, flows, render, service  # noqa: E402
from crosspromo.messaging.models import Channel, Contact, WeeklyCount  # noqa: E402
from crosspromo.migrate import upgrade  # noqa: E402
from crosspromo.outbox import worker  # noqa: E402
from crosspromo.settings import Settings  # noqa: E402

HTML = (
    "<style>p{color:#333;font-family:sans-serif} .offer{font-weight:bold}</style>"
    "<p>Hello {{ name }},</p><p class='offer'>{{ business }} has something new for you.</p>"
    "<p><a href='{{ preferences_url }}'>Preferences</a></p>"
)
CONTENT = {
    "en": {"subject": "News from {{ business }}", "text": "Hello {{ name }}!", "html": HTML},
    "ru": {"subject": "Новости {{ business }}", "text": "Здравствуйте, {{ name }}!", "html": HTML},
}


def _sink(port: int, counter: Any, ready: Any) -> None:
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(counter: Any, target: int) -> None:
    while counter.value < target:
        time.sleep(0.01)


def _setup(url: str, emails: int, tag: str) -> tuple[uuid.UUID, Any]:
    from crosspromo.accounts import service as accounts
    from crosspromo.businesses import service as businesses
    from crosspromo.businesses.schemas import BusinessCreate

    factory = make_sessionmaker(make_engine(url))
    with unit_of_work(factory) as db:
        user = accounts.create_user(db, email=f"{tag}@example.com", password="bench password 1")
        space = accounts.create_workspace(db, name="Bench", owner=user)
        business = businesses.create(
            db, workspace_id=space.id, data=BusinessCreate(name="Cafe", category="amenity=cafe")
        )
        business_id = business.id
    rows = [
        {
            "id": uuid.uuid4(),
            "business_id": business_id,
            "name": f"Guest {i}",
            "locale": "ru" if i % 2 else "en",
            "email": f"{tag}{i}@example.com",
            "phone": "",
            "email_hash": secrets.token_hex(32),
            "email_consent": True,
            "sms_consent": False,
            "telegram_consent": False,
            "token": secrets.token_urlsafe(32),
            "created_at": utcnow(),
        }
        for i in range(emails)
    ]
    with unit_of_work(factory) as db:
        for start in range(0, len(rows), 5000):
            db.execute(insert(Contact), rows[start : start + 5000])
    return business_id, factory


def _key(tmp: str) -> Path:
    pem = Path(tmp) / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(pem), "2048"],
        check=True,
        capture_output=True,
    )
    return pem


def pipeline(
    url: str, emails: int, port: int, counter: Any, *, dkim_key: Path | None = None
) -> tuple[float, float, float]:
    """Messages per second through the pipeline and through a bare smtplib loop (both signing
    with DKIM when `dkim_key` is given), and ms per message of signing alone."""
    tag = "signed" if dkim_key else "guest"
    business_id, factory = _setup(url, emails, tag)
    dkim = {"dkim_selector": "mail", "dkim_domain": "promo.example", "dkim_key_file": dkim_key}
    settings = Settings(
        database_url=url,
        secret_key="bench",
        smtp_host="127.0.0.1",
        smtp_port=port,
        message_rate_email="1000000/second",
        messages_weekly_cap=5,
        # No quiet hours: the bench sends now, whatever the hour in the business's zone.
        messages_quiet_from=0,
        messages_quiet_until=0,
        **(dkim if dkim_key else {}),
    )
    delivery.register()
    start = time.perf_counter()
    with unit_of_work(factory) as db:
        made = service.create(
            db, business_id=business_id, sender_name="Cafe", channel=Channel.email, content=CONTENT
        )
        flows.send(db, settings, business_id=business_id, broadcast_id=made.id)
    before = counter.value
    worker.tick(factory, settings)
    channels.close()
    _wait(counter, before + emails)
    ours = emails / (time.perf_counter() - start)

    # The same messages, rendered beforehand (not timed), one connection, one loop.
    with factory() as db:
        people = list(db.scalars(select(Contact).where(Contact.business_id == business_id)))
    raws = []
    for person in people:
        values = {
            "name": person.name,
            "business": "Cafe",
            "unsubscribe_url": "u",
            "preferences_url": "p",
        }
        parts = render.fill(render.pick(CONTENT, person.locale), values)
        mail = render.Email(
            "Cafe <noreply@localhost>", person.email, parts["subject"], parts["text"], parts["html"]
        )
        raws.append((person.email, render.email_bytes(mail, message_id=str(person.id))))
    key = dkim_key.read_bytes() if dkim_key else b""
    before = counter.value
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for to, raw in raws:
            if key:
                raw = render.sign(raw, selector="mail", domain="promo.example", private_key=key)
            smtp.sendmail("noreply@localhost", [to], raw)
    _wait(counter, before + emails)
    bare = emails / (time.perf_counter() - start)
    signing = 0.0
    if key:
        start = time.perf_counter()
        for _, raw in raws:
            render.sign(raw, selector="mail", domain="promo.example", private_key=key)
        signing = (time.perf_counter() - start) / len(raws) * 1000
    return ours, bare, signing


def cap_check(url: str, known: int, checks: int) -> tuple[float, float, float]:
    """p95 milliseconds of a cap charge and of a primary-key read, among `known` counters."""
    factory = make_sessionmaker(make_engine(url))
    week = caps.week_of(utcnow())
    keys = [f"p:{i:064x}" for i in range(known)]
    with unit_of_work(factory) as db:
        for start in range(0, known, 20000):
            db.execute(
                insert(WeeklyCount),
                [{"key": k, "week": week, "count": 1} for k in keys[start : start + 20000]],
            )
    rng = random.Random(1)
    charge, read = [], []
    for _ in range(checks):
        key = rng.choice(keys)
        t0 = time.perf_counter()
        with unit_of_work(factory) as db:
            caps.charge(db, {key: 1000, f"b:cafe:{key}": 1000}, now=utcnow())
        charge.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with unit_of_work(factory) as db:
            db.get(WeeklyCount, (key, week))
        read.append(time.perf_counter() - t0)

    batched = []
    for _ in range(max(checks // 200, 5)):
        batch = [rng.choice(keys) for _ in range(200)]
        t0 = time.perf_counter()
        with unit_of_work(factory) as db:
            caps.charge_many(
                db, [{key: 1000, f"b:cafe:{key}": 1000} for key in batch], now=utcnow()
            )
        batched.append((time.perf_counter() - t0) / 200)

    def p95(values: list[float]) -> float:
        return sorted(values)[int(len(values) * 0.95)] * 1000

    return p95(charge), p95(read), p95(batched)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--dkim-emails", type=int, default=1_000)
    parser.add_argument("--known", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=5_000)
    parser.add_argument("--url", default=os.environ.get("CROSSPROMO_BENCH_PG_URL", ""))
    args = parser.parse_args()
    port = _free_port()
    context = mp.get_context("spawn")
    counter, ready = context.Value("q", 0), context.Event()
    sink = context.Process(target=_sink, args=(port, counter, ready), daemon=True)
    sink.start()
    ready.wait(30)
    name = f"cp_bench_msg_{uuid.uuid4().hex[:8]}"
    admin = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            server = make_url(args.url).set(drivername="postgresql+psycopg")
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = server.set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            upgrade(url)
            ours, bare, _ = pipeline(url, args.emails, port, counter)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            signed, signed_bare, signing = pipeline(
                url, args.dkim_emails, port, counter, dkim_key=_key(tmp)
            )
            charge, read, batched = cap_check(url, args.known, args.checks)
        finally:
            sink.terminate()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine = "postgresql" if args.url else "sqlite"
    print(
        f"engine: {engine}; {args.emails:,} e-mails ({args.dkim_emails:,} signed); "
        f"{args.known:,} known people"
    )
    rows = [
        ("e-mails/s: pipeline vs bare smtplib loop", f"{ours:,.0f}", f"{bare:,.0f}", ours / bare),
        ("peak RSS of the sending process, MB", f"{peak_mb:,.0f}", "", None),
        (
            "signed e-mails/s: pipeline vs bare loop + DKIM",
            f"{signed:,.0f}",
            f"{signed_bare:,.0f}",
            signed / signed_bare,
        ),
        ("dkimpy signing alone, ms per message", f"{signing:.2f}", "", None),
        ("cap check p95 ms: charge vs PK read", f"{charge:.2f}", f"{read:.2f}", charge / read),
        (
            "cap p95 ms per message, batch of 200 vs PK read",
            f"{batched:.3f}",
            f"{read:.2f}",
            batched / read,
        ),
    ]
    print(f"{'operation':<48} {'figure':>12} {'baseline':>12} {'ratio':>7}")
    for label, figure, baseline, ratio in rows:
        shown = f"{ratio:.2f}" if ratio is not None else ""
        print(f"{label:<48} {figure:>12} {baseline:>12} {shown:>7}")


if __name__ == "__main__":
    main()
