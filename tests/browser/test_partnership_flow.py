"""Two people, two browsers: a proposal with three options, a counter, an agreement, a campaign.

Business A is the demo owner's Blue Door Bakery; business B is Hillside Cafe, a complementary
partner the demo owner does not own, run by a second person created through the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import Server, shot

pytestmark = pytest.mark.browser

A_NAME, B_NAME, B_SLUG = "Blue Door Bakery", "Hillside Cafe", "cafe-hillside-1"
B_EMAIL, B_PASSWORD = "hillside@demo.example", "hillside-cafe-2026"
OPTIONS = (
    "A free croissant with every large coffee at Hillside",
    "Hillside baristas recommend our sourdough",
    "Shared loyalty stamps for a month",
)
COUNTERED = "Hillside baristas recommend our sourdough, with a 10% coupon"
CAMPAIGN = "Sourdough and coffee fortnight"


def _context(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")


@pytest.fixture
def two_people(browser: Any) -> Iterator[tuple[Any, Any]]:
    a, b = _context(browser), _context(browser)
    yield a.new_page(), b.new_page()
    a.close()
    b.close()


def _sign_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(url + "/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.shell >> text=" + email)


def _text(page: Any, selector: str = "main") -> str:
    return str(page.inner_text(selector))


def test_two_owners_agree_and_launch_a_campaign(
    server: Server, two_people: tuple[Any, Any]
) -> None:
    server.cli("demo", "setup", "--seed", "42", "--size", "small")
    server.cli(
        "user", "create", "--email", B_EMAIL, "--password", B_PASSWORD,
        "--name", "Hillside owner", "--business", B_SLUG,
    )  # fmt: skip
    a, b = two_people

    # A: the demo owner switches to Blue Door Bakery and proposes to Hillside Cafe.
    _sign_in(a, server.url, "owner@demo.example", "demo-city-2026")
    a.select_option("#business-switch", label=A_NAME)
    a.wait_for_selector(f"h1:has-text('{A_NAME}')")
    a.click("a:has-text('Find partners')")
    a.wait_for_selector("article.suggestion")
    partner = a.locator(f"article.suggestion[data-partner='{B_SLUG}']")
    assert partner.count() == 1, _text(a)
    partner.locator("a:has-text('Propose a partnership')").click()
    a.wait_for_selector("h1:has-text('New proposal')")
    assert a.input_value("input[name=to]") == B_SLUG
    a.fill("textarea[name=message]", "Our customers buy bread in the morning and want coffee.")
    a.fill("input[name='o0.title']", OPTIONS[0])
    a.fill("input[name='o0.we_give']", "a croissant per large coffee")
    a.fill("input[name='o0.they_give']", "a poster at the till")
    a.fill("input[name='o0.starts_on']", "2026-10-01")
    a.fill("input[name='o0.ends_on']", "2026-10-14")
    for i, mechanic in ((1, "staff_recommendations"), (2, "coalition_points")):
        a.click(f"summary:has-text('Option {i + 1} (optional)')")
        a.fill(f"input[name='o{i}.title']", OPTIONS[i])
        a.select_option(f"select[name='o{i}.mechanic']", mechanic)
        a.fill(f"input[name='o{i}.we_give']", "a loaf for the staff each Friday")
        a.fill(f"input[name='o{i}.they_give']", "a word at the counter")
    shot(a, "20-a-proposal-new")
    a.click("button:has-text('Send the proposal')")
    a.wait_for_selector("article.version[data-version='1']")
    assert f"{A_NAME} → {B_NAME}" in _text(a, "h1")
    for title in OPTIONS:
        assert title in _text(a, "article.version[data-version='1']")

    # B: a different person sees the bell, reads the notification and opens the proposal.
    _sign_in(b, server.url, B_EMAIL, B_PASSWORD)
    assert _text(b, "header mark.badge") == "1"
    b.click("a[aria-label=Notifications]")
    b.wait_for_selector("h1:has-text('Notifications')")
    assert f"{A_NAME} proposes: {OPTIONS[0]}" in _text(b)
    shot(b, "21-b-notifications")
    b.click(f"ul.notifications a:has-text('{A_NAME} proposes')")
    b.wait_for_selector("article.version[data-version='1']")
    assert "Open" in _text(b, "hgroup")
    shot(b, "22-b-proposal-v1")

    # B counters: option 2 gets a coupon.
    b.click("summary:has-text('Counter with changed terms')")
    assert b.input_value("input[name='o1.title']") == OPTIONS[1]
    b.fill("input[name='o1.title']", COUNTERED)
    b.fill("input[name=note]", "A coupon makes the recommendation stick.")
    b.click("button:has-text('Send version 2')")
    b.wait_for_selector("article.version[data-version='2']")

    # A: sees version 2 and exactly what changed, and accepts option 2.
    a.click("a[aria-label=Notifications]")
    a.wait_for_selector("h1:has-text('Notifications')")
    a.click(f"ul.notifications a:has-text('{B_NAME} sent new terms (version 2)')")
    v2 = a.locator("article.version[data-version='2']")
    v2.wait_for()
    changes = v2.locator("table.changes tbody tr")
    assert changes.count() == 1, _text(a, "article.version[data-version='2']")
    assert changes.first.locator("td").first.inner_text() == "Option 2 · In one line"
    assert changes.first.locator("del").inner_text() == OPTIONS[1]
    assert changes.first.locator("ins").inner_text() == COUNTERED
    assert "A coupon makes the recommendation stick." in v2.inner_text()
    shot(a, "23-a-proposal-v2-diff")
    v2.locator("section").nth(1).locator("button:has-text('Accept this option')").click()
    a.wait_for_selector(f"article.version[data-version='2'] mark:has-text('accepted by {A_NAME}')")

    # B accepts the same option: both pages say "agreed on version 2".
    b.reload()
    chosen = b.locator("article.version[data-version='2'] section").nth(1)
    assert f"accepted by {A_NAME}" in chosen.inner_text()
    assert "accepted by" not in _text(b, "article.version[data-version='2'] section >> nth=0")
    chosen.locator("button:has-text('Accept this option')").click()
    b.wait_for_selector("hgroup:has-text('agreed on version 2')")
    assert "Agreed" in _text(b, "hgroup")
    agreed = _text(b, "article.version[data-version='2'] section >> nth=1")
    assert f"accepted by {A_NAME}" in agreed and f"accepted by {B_NAME}" in agreed
    assert "gives a word at the counter" in agreed and "gets" not in agreed
    shot(b, "24-b-proposal-agreed")
    a.reload()
    assert "agreed on version 2" in _text(a, "hgroup")
    shot(a, "25-a-proposal-agreed")

    # A plans the campaign: dates, goal, a budget line, a task on each side.
    a.click("a:has-text('Plan a campaign')")
    a.wait_for_selector("h1:has-text('Joint promotions')")
    assert f"{B_NAME} · version 2" in _text(a, "select[name=proposal_id]")
    a.fill("input[name=title]", CAMPAIGN)
    a.fill("form[action$='/campaigns'] input[name=starts_on]", "2026-10-01")
    a.fill("form[action$='/campaigns'] input[name=ends_on]", "2026-10-14")
    shot(a, "26-a-campaigns-list")
    a.click("button:has-text('Start planning')")
    a.wait_for_selector(f"h1:has-text('{CAMPAIGN}')")
    assert f"{A_NAME} + {B_NAME}" in _text(a, "hgroup") or f"{B_NAME} + {A_NAME}" in _text(
        a, "hgroup"
    )
    assert "Before launch, set:" in _text(a, "#stage")
    a.select_option("select[name=goal_metric]", "receipts")
    a.select_option("select[name=goal_kind]", "increase_percent")
    a.fill("input[name=goal_target]", "10")
    a.fill("input[name=goal_deadline]", "2026-10-14")
    a.click("button:has-text('Save the goal')")
    a.wait_for_selector("#goal p strong")
    assert "Receipts · Increase by percent 10 %" in _text(a, "#goal")
    assert a.input_value("input[name=goal_target]") == "10"
    a.select_option("#budget select[name=item]", "materials")
    a.fill("#budget input[name=description]", "Posters and table cards")
    a.fill("#budget input[name=amount]", "1500")
    a.click("button:has-text('Add to the budget')")
    a.wait_for_selector("#budget td:has-text('Posters and table cards')")
    assert f"Total for {A_NAME}" in _text(a, "#budget")
    _add_task(a, "Print the posters", A_NAME)
    _add_task(a, "Brief the baristas on the sourdough", B_NAME)
    assert "0 of 2 done" in _text(a, "#plan h2")
    assert "Before launch, set:" not in _text(a, "#stage")
    shot(a, "27-a-campaign-planned")

    # B opens the same campaign, sees both tasks, ticks its own and adds a rehearsal point.
    b.click("a[aria-label=Notifications]")
    b.wait_for_selector("h1:has-text('Notifications')")
    shot(b, "28-b-notifications-campaign")
    b.click(f"ul.notifications a:has-text('{A_NAME} started planning the campaign {CAMPAIGN}')")
    b.wait_for_selector(f"h1:has-text('{CAMPAIGN}')")
    plan = _text(b, "#plan")
    assert "Print the posters" in plan and "Brief the baristas on the sourdough" in plan
    mine = b.locator("tr.task[data-task='Brief the baristas on the sourdough']")
    assert B_NAME in mine.inner_text()
    with b.expect_navigation():
        mine.locator("select[name=status]").select_option("done")
    assert "1 of 2 done" in _text(b, "#plan h2")
    _add_task(b, "Say the coupon script twice", B_NAME, rehearsal=True)
    assert "Rehearsal: Say the coupon script twice" in _text(b, "#plan")
    shot(b, "29-b-campaign-planned")

    # A agrees the plan, is told the rehearsal is open; B finishes it; A launches.
    a.reload()
    with a.expect_navigation():
        a.click("button:has-text('Move to: Agreed')")
    assert 'aria-current="step">Agreed' in a.content()
    assert "The staff rehearsal is not finished: 0 of 1." in _text(a, "#stage")
    b.reload()
    rehearsal = b.locator("tr.task.rehearsal")
    with b.expect_navigation():
        rehearsal.locator("select[name=status]").select_option("done")
    a.reload()
    assert "staff rehearsal" not in _text(a, "#stage")
    asked: list[str] = []
    a.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with a.expect_navigation():
        a.click("button:has-text('Move to: Running')")
    assert asked and "cannot be undone" in asked[0]
    a.wait_for_selector("#figures")
    assert 'aria-current="step">Running' in a.content()
    figures = a.locator("#figures tbody tr")
    assert figures.count() == 2
    rows = _text(a, "#figures")
    assert f"{A_NAME} · baseline" in rows and f"{B_NAME} · baseline" in rows
    assert "Sep 17, 2026 — Sep 30, 2026" in rows  # dates in the page's language (Babel)
    shot(a, "30-a-campaign-running")

    b.reload()
    assert 'aria-current="step">Running' in b.content()
    assert f"{A_NAME} · baseline" in _text(b, "#figures")
    shot(b, "31-b-campaign-running")
    b.click("a[aria-label=Notifications]")
    b.wait_for_selector("h1:has-text('Notifications')")
    assert f"Campaign {CAMPAIGN} moved to Running" in _text(b)
    shot(b, "32-b-notifications-after-launch")


def _add_task(page: Any, title: str, side: str, rehearsal: bool = False) -> None:
    form = page.locator("form[action$='/task']")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=business_id]").select_option(label=side)
    if rehearsal:
        form.locator("input[name=rehearsal]").check()
    with page.expect_navigation():
        form.locator("button:has-text('Add the task')").click()
    page.wait_for_selector(f"tr.task[data-task='{title}']")
