"""`safe_next`: a sign-in link may bring the user back to a page here, never to another site."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crosspromo.accounts.pages import safe_next

OFF_SITE = [
    "https://evil.com",
    "http://evil.com/x",
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "/%5Cevil.com",
    "/%5cevil.com",
    "/%2F%2Fevil.com",
    "/%2f/evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r\n/evil.com",
    "/%09/evil.com",
    "/%0A/evil.com",
    "\t//evil.com",
    " //evil.com",
    "javascript:alert(1)",
    "evil.com",
    "/\x00/evil.com",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_targets_fall_back_to_the_default(target: str) -> None:
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize(
    "target",
    ["/", "/b/3f2a/till", "/b/x/campaigns?tab=plan#offers", "/notifications?next=%2Fb", "/a%20b"],
)
def test_own_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target


def test_empty_is_the_default() -> None:
    assert safe_next("", "/x") == "/x" and safe_next(None) == "/"


@pytest.mark.parametrize("target", ["/\\evil.com", "/\t/evil.com", "https://evil.com"])
def test_the_language_switch_never_redirects_off_site(client: TestClient, target: str) -> None:
    response = client.get("/locale/ru", params={"next": target}, follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/"
