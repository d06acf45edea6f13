"""Mixed traffic for the failover test: till validate and redeem, suggestions, KPIs, lists.

Run by tests/cluster/failover.py as `locust --headless`; the plan (keys, ids, codes) comes
from the JSON file in FAILOVER_PLAN, and every request's outcome goes to FAILOVER_OUT (JSON
lines) when the run ends. Writes carry an Idempotency-Key and are retried with the same key,
as a till client should, when the answer is lost (connection error, 502, 503, 504).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["FAILOVER_PLAN"]).read_text(encoding="utf-8"))
UNIQUE: list[str] = list(PLAN["unique_codes"])
RESULTS: list[dict[str, Any]] = []
RETRY_STATUSES = {0, 502, 503, 504}
RETRIES = 30


def record(kind: str, status: int, **extra: Any) -> None:
    RESULTS.append({"kind": kind, "status": status, "at": time.time(), **extra})


@events.test_stop.add_listener
def _write(**_: Any) -> None:
    with open(os.environ["FAILOVER_OUT"], "w", encoding="utf-8") as out:
        for row in RESULTS:
            out.write(json.dumps(row) + "\n")


class Till(HttpUser):
    """A cashier: checks a code, then redeems it, retrying a lost answer with the same key."""

    weight = 4
    wait_time = between(0.05, 0.2)

    def redeem(self, kind: str, body: dict[str, Any]) -> None:
        headers = {**PLAN["cashier"], "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(RETRIES):
            with self.client.post(
                "/api/v1/redemptions",
                json=body,
                headers=headers,
                name=f"redeem {kind}",
                catch_response=True,
            ) as response:
                status = response.status_code
                record(f"redeem-{kind}", status, attempt=attempt)
                if status in RETRY_STATUSES:
                    response.success()  # counted in our own log; the retry follows
                    time.sleep(0.2)
                    continue
                if status in (200, 201):
                    rid = response.json().get("id")
                    record(f"ack-{kind}", status, id=rid, code=body["code"], **_who(body))
                else:
                    response.success()  # a refusal (limit reached, used) is an answer
                    record(f"refused-{kind}", status, type=_type(response), code=body["code"])
                return
        record(f"gave-up-{kind}", 0, code=body["code"])

    @task(3)
    def unique_code(self) -> None:
        if not UNIQUE:
            return self.shared_code()
        code = UNIQUE.pop()
        body = {"business_id": PLAN["cafe"], "code": code, "order_minor": 1000}
        check = self.client.post(
            "/api/v1/redemptions/validate", json=body, headers=PLAN["cashier"], name="validate"
        )
        record("validate", check.status_code)
        self.redeem("unique", body)

    @task(2)
    def shared_code(self) -> None:
        customer = f"c-{uuid.uuid4().hex[:12]}@example.org"
        body = {
            "business_id": PLAN["cafe"],
            "code": PLAN["shared_code"],
            "order_minor": 1000,
            "customer": customer,
        }
        self.redeem("shared", body)


class Owner(HttpUser):
    """An owner reading: suggestions, KPIs, proposals and redemptions lists."""

    weight = 1
    wait_time = between(0.1, 0.4)

    def read(self, name: str, path: str, **params: Any) -> None:
        with self.client.get(
            path, params=params, headers=PLAN["owner"], name=name, catch_response=True
        ) as response:
            record(name, response.status_code)
            if response.status_code in RETRY_STATUSES:
                response.success()

    @task
    def suggestions(self) -> None:
        self.read("suggestions", "/api/v1/partners/suggestions", business_id=PLAN["bakery"])

    @task
    def kpis(self) -> None:
        self.read("kpis", f"/api/v1/businesses/{PLAN['bakery']}/kpis")

    @task
    def proposals(self) -> None:
        self.read("proposals", "/api/v1/partnerships", business_id=PLAN["bakery"])

    @task
    def redemptions(self) -> None:
        self.read("redemptions", "/api/v1/redemptions", business_id=PLAN["bakery"])


def _who(body: dict[str, Any]) -> dict[str, Any]:
    return {"customer": body["customer"]} if "customer" in body else {}


def _type(response: Any) -> str:
    try:
        return str(response.json().get("type", ""))
    except ValueError:
        return ""


random.seed()
