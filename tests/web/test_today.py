"""The dashboard's "Today" panel says whose turn it is, only to that business."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import sign_in
from tests.partnerships.test_proposals import _propose, parties  # noqa: F401 - fixture


def test_the_partner_sees_its_turn_and_the_sender_does_not(
    client: TestClient,
    parties: dict[str, Any],  # noqa: F811
) -> None:
    _propose(client, parties)
    cafe, bakery = parties["cafe"], parties["bakery"]
    client.cookies.clear()
    sign_in(client, "b@example.com")
    dashboard = client.get(f"/b/{cafe.id}").text
    assert f'hx-get="/b/{cafe.id}/today"' in dashboard
    panel = client.get(f"/b/{cafe.id}/today").text
    assert "Your turn to answer" in panel and "Bakery sent terms (version 1)" in panel
    # Another tenant's panel is not reachable.
    assert client.get(f"/b/{bakery.id}/today").status_code in (403, 404)
    client.cookies.clear()
    sign_in(client, "a@example.com")
    mine = client.get(f"/b/{bakery.id}/today").text
    assert "Your turn to answer" not in mine


def test_the_proposal_page_says_whose_turn_it_is_and_shows_payment(
    client: TestClient,
    parties: dict[str, Any],  # noqa: F811
) -> None:
    proposal = _propose(client, parties)
    cafe, bakery = parties["cafe"], parties["bakery"]
    client.cookies.clear()
    sign_in(client, "b@example.com")
    theirs = client.get(f"/b/{cafe.id}/proposals/{proposal['id']}").text
    assert 'data-turn="yours"' in theirs and "Payment" in theirs
    client.cookies.clear()
    sign_in(client, "a@example.com")
    ours = client.get(f"/b/{bakery.id}/proposals/{proposal['id']}").text
    assert 'data-turn="waiting"' in ours and "Waiting for Cafe to answer version 1." in ours
