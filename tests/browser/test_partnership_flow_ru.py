"""The partnership journey of test_partnership_flow.py in Russian on a 390-px phone: the
owner proposes, the partner counters, both accept, a campaign launches after confirmation.
Its own module, so its own server and a fresh demo city (the journey changes the city)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_partnership_flow import (  # noqa: F401  (the journey, run again here)
    people,
    test_two_owners_agree_and_launch_a_campaign,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def two_people(browser: Any) -> Iterator[tuple[Any, Any]]:
    yield from people(browser, "ru", "phone")
