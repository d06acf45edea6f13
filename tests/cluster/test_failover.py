"""Failover under load, short form: the local topology loses an app server and a worker mid-run.

Mixed traffic (till validate and redeem with Idempotency-Keys and client retries, suggestions,
KPIs, proposal and redemption lists) runs through nginx while app server 1 and worker 1 are
killed with SIGKILL and restarted, and while the workers send a broadcast of e-mails. Then:
every redemption a client saw acknowledged exists exactly once, no code or customer was
redeemed twice, the shared code's limit held, nothing answered 500, and every e-mail arrived
(at most the one in flight when its worker died arrives twice). The long form is
bench/failover.py.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crosspromo.settings import Settings
from tests.campaigns.conftest import agreed, key  # noqa: F401  (fixtures)
from tests.cluster import failover
from tests.offers.conftest import make_offer, running  # noqa: F401  (fixtures)

# bench/failover.py runs the long form through these.
SECONDS = int(os.environ.get("FAILOVER_SECONDS", "75"))
USERS = int(os.environ.get("FAILOVER_USERS", "16"))
UNIQUE_CODES = 400
SHARED_LIMIT = 150

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
        reason="nginx, pgbouncer and redis-server come with `make test` (apt-get)",
    ),
]


@pytest.fixture(scope="module")
def mailbox() -> Iterator[failover.Mailbox]:
    box = failover.Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture(scope="module")
def topology(mailbox: failover.Mailbox) -> Iterator[failover.Cluster]:
    with failover.cluster(mailbox.port) as c:
        yield c


@pytest.fixture
def engine_name() -> str:
    return "postgresql"


@pytest.fixture
def database_url(topology: failover.Cluster) -> str:
    return topology.primary_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", secret_key=failover.SECRET)


def test_no_acknowledged_effect_is_lost_or_doubled_when_nodes_die(
    topology: failover.Cluster,
    mailbox: failover.Mailbox,
    client: TestClient,
    running: dict[str, Any],  # noqa: F811
    db: Any,
) -> None:
    p = running
    from crosspromo.accounts.models import Role

    manager = p["bakery_manager"]
    unique = make_offer(client, p, p["campaign_id"])
    made = client.post(
        f"/api/v1/offers/{unique['id']}/codes",
        headers=manager,
        json={"kind": "unique", "count": UNIQUE_CODES},
    )
    assert made.status_code == 201, made.text
    codes: list[str] = []
    cursor = None
    while True:
        page = client.get(
            f"/api/v1/offers/{unique['id']}/codes",
            headers=manager,
            params={"limit": 500, **({"cursor": cursor} if cursor else {})},
        ).json()
        codes += [c["code"] for c in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    shared = make_offer(client, p, p["campaign_id"], total_limit=SHARED_LIMIT)
    client.post(
        f"/api/v1/offers/{shared['id']}/codes",
        headers=manager,
        json={"kind": "shared", "text": "BREAD"},
    )
    plan = {
        "cafe": str(p["cafe"].id),
        "bakery": str(p["bakery"].id),
        "cashier": key(db, p["cafe"], Role.cashier),
        "owner": p["bakery_owner"],
        "unique_codes": codes,
        "unique_offer": unique["id"],
        "shared_code": "BREAD",
        "shared_offer": shared["id"],
        "shared_limit": SHARED_LIMIT,
    }

    run = failover.drive(topology, plan, seconds=SECONDS, users=USERS)
    left = failover.wait_drained(topology.primary_url)
    report = failover.check(topology, run, plan, mailbox)
    print("failover report:", json.dumps(report, indent=2))

    assert left == 0, "the outbox did not drain after the worker came back"
    assert report["acknowledged_redemptions"] > 100, report
    assert report["acknowledged_missing"] == 0, report
    assert report["codes_redeemed_twice"] == 0, report
    assert report["customers_redeemed_twice"] == 0, report
    assert report["shared_uses"] <= SHARED_LIMIT, report
    assert report["server_errors"] == 0, report
    assert report["mail_lost"] == 0, report
    assert report["mail_twice"] <= 1, report  # the one in flight when its worker died
    assert report["kill_window_error_rate"] < 1.0, report
