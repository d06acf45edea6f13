"""Defect 5: a well-formed unknown code is unknown, not a typo (both engines)."""

from __future__ import annotations

import random
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.offers import codes
from tests.campaigns.conftest import key
from tests.offers.conftest import make_offer


def _validate(client: TestClient, headers: dict[str, str], business: Any, code: str) -> str:
    answer = client.post(
        "/api/v1/redemptions/validate",
        headers=headers,
        json={"business_id": str(business.id), "code": code, "order_minor": 1000},
    )
    assert answer.status_code == 422, answer.text
    return str(answer.json()["type"])


def test_well_formed_unknown_code_is_unknown(
    client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    make_offer(client, p, p["campaign_id"], code_prefix="BREAD")
    cashier = key(db, p["cafe"], Role.cashier)
    rng = random.Random(11)
    for _ in range(20):
        body = "".join(rng.choice(codes.ALPHABET) for _ in range(11))
        well_formed = "BREAD" + body + codes.check_char("BREAD", body)
        assert _validate(client, cashier, p["cafe"], well_formed) == "/problems/unknown-code"
        wrong = codes.ALPHABET[(codes.ALPHABET.index(well_formed[-1]) + 1) % len(codes.ALPHABET)]
        typo = well_formed[:-1] + wrong
        assert _validate(client, cashier, p["cafe"], typo) == "/problems/mistyped-code"
        # the cashier skipped the printed prefix: still read against it
        bare = body + codes.check_char("BREAD", body)
        assert _validate(client, cashier, p["cafe"], bare) == "/problems/unknown-code"
