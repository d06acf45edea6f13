"""Two people, two browsers: a proposal with three options, a counter, an agreement, a campaign;
in English on a desktop and in Russian on a 390-px phone (issue 12).

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


# What the pages say, in each language the journey runs in.
WORDS = {
    "en": {
        "propose": "Propose a partnership",
        "new_proposal": "New proposal",
        "optional": "Option {n} (optional)",
        "send": "Send the proposal",
        "notifications": "Notifications",
        "proposes": "{a} proposes: {title}",
        "open": "Open",
        "counter": "Counter with changed terms",
        "send_v2": "Send version 2",
        "new_terms": "{b} sent new terms (version 2)",
        "changed_field": "Option 2 · In one line",
        "accept": "Accept this option",
        "accepted_by": "accepted by {name}",
        "accepted": "accepted by",
        "agreed_on": "agreed on version 2",
        "agreed": "Agreed",
        "gives": "gives a word at the counter",
        "gets": "gets",
        "plan": "Plan a campaign",
        "promotions": "Joint promotions",
        "version": "{b} · version 2",
        "start": "Start planning",
        "before_launch": "Before launch, set:",
        "save_goal": "Save the goal",
        "goal": "Receipts · Increase by percent 10 %",
        "add_budget": "Add to the budget",
        "total_for": "Total for {a}",
        "done": "{n} of 2 done",
        "started": "{a} started planning the campaign {c}",
        "rehearsal": "Rehearsal: Say the coupon script twice",
        "to_agreed": "Move to: Agreed",
        "not_rehearsed": "The staff rehearsal is not finished: 0 of 1.",
        "staff_rehearsal": "staff rehearsal",
        "to_running": "Move to: Running",
        "undone": "cannot be undone",
        "running": "Running",
        "baseline": "{name} · baseline",
        "period": "Sep 17, 2026 — Sep 30, 2026",
        "moved": "Campaign {c} moved to Running",
        "add_task": "Add the task",
    },
    "ru": {
        "propose": "Предложить партнёрство",
        "new_proposal": "Новое предложение",
        "optional": "Вариант {n} (необязательно)",
        "send": "Отправить предложение",
        "notifications": "Уведомления",
        "proposes": "{a} предлагает: {title}",
        "open": "Открыто",
        "counter": "Ответить изменёнными условиями",
        "send_v2": "Отправить версию 2",
        "new_terms": "Новые условия от {b} (версия 2)",
        "changed_field": "Вариант 2 · Одной строкой",
        "accept": "Принять этот вариант",
        "accepted_by": "принято: {name}",
        "accepted": "принято:",
        "agreed_on": "согласовано в версии 2",
        "agreed": "Согласовано",
        "gives": "даёт a word at the counter",
        "gets": "получает",
        "plan": "Запланировать акцию",
        "promotions": "Совместные акции",
        "version": "{b} · версия 2",
        "start": "Начать планирование",
        "before_launch": "Перед запуском укажите:",
        "save_goal": "Сохранить цель",
        "goal": "Чеки · Увеличить в процентах на 10 %",
        "add_budget": "Добавить в бюджет",
        "total_for": "Итого — {a}",
        "done": "выполнено {n} из 2",
        "started": "{a}: начато планирование акции «{c}»",
        "rehearsal": "Репетиция: Say the coupon script twice",
        "to_agreed": "Перевести на этап: Согласовано",
        "not_rehearsed": "Репетиция с персоналом не завершена: 0 из 1.",
        "staff_rehearsal": "Репетиция с персоналом",
        "to_running": "Перевести на этап: Проведение",
        "undone": "нельзя отменить",
        "running": "Проведение",
        "baseline": "{name} · исходные показатели",
        "period": "17 сент. 2026 г. — 30 сент. 2026 г.",
        "moved": "Акция «{c}» перешла на этап «Проведение»",
        "add_task": "Добавить задачу",
    },
}
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
W = WORDS["en"]  # the language of the running journey (set by `people`)
LANG = ""  # the screenshots' prefix: "ru-phone-" for the Russian run


def people(browser: Any, lang: str, size: str) -> Iterator[tuple[Any, Any]]:
    """Two people in two browsers, both reading `lang` on a `size` screen. A module runs the
    journey once (it changes the demo city): test_partnership_flow_ru.py runs it in Russian."""
    global W, LANG
    W = WORDS[lang]
    LANG = "" if lang == "en" else f"{lang}-{size}-"
    contexts = []
    for _ in range(2):
        context = browser.new_context(
            viewport=SIZES[size], locale="ru-RU" if lang == "ru" else "en-US"
        )
        context.add_cookies([{"name": "locale", "value": lang, "url": "http://127.0.0.1"}])
        contexts.append(context)
    a, b = contexts
    yield a.new_page(), b.new_page()
    a.close()
    b.close()


@pytest.fixture
def two_people(browser: Any) -> Iterator[tuple[Any, Any]]:
    yield from people(browser, "en", "desktop")


def _sign_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(url + "/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.shell >> text=" + email)


def _text(page: Any, selector: str = "main") -> str:
    return str(page.inner_text(selector)).replace("\u202f", " ").replace("\xa0", " ")


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
    a.click("nav.sections a[href$='/partners']")
    a.wait_for_selector("article.suggestion")
    partner = a.locator(f"article.suggestion[data-partner='{B_SLUG}']")
    assert partner.count() == 1, _text(a)
    partner.locator(f"a:has-text('{W['propose']}')").click()
    a.wait_for_selector(f"h1:has-text('{W['new_proposal']}')")
    assert a.input_value("input[name=to]") == B_NAME  # the name, not an id
    a.fill("textarea[name=message]", "Our customers buy bread in the morning and want coffee.")
    a.fill("input[name='o0.title']", OPTIONS[0])
    a.fill("input[name='o0.we_give']", "a croissant per large coffee")
    a.fill("input[name='o0.they_give']", "a poster at the till")
    a.fill("input[name='o0.starts_on']", "2026-10-01")
    a.fill("input[name='o0.ends_on']", "2026-10-14")
    for i, mechanic in ((1, "staff_recommendations"), (2, "coalition_points")):
        a.click(f"summary:has-text('{W['optional'].format(n=i + 1)}')")
        a.fill(f"input[name='o{i}.title']", OPTIONS[i])
        a.select_option(f"select[name='o{i}.mechanic']", mechanic)
        a.fill(f"input[name='o{i}.we_give']", "a loaf for the staff each Friday")
        a.fill(f"input[name='o{i}.they_give']", "a word at the counter")
    shot(a, LANG + "20-a-proposal-new")
    a.click(f"button:has-text('{W['send']}')")
    a.wait_for_selector("article.version[data-version='1']")
    assert f"{A_NAME} → {B_NAME}" in _text(a, "h1")
    for title in OPTIONS:
        assert title in _text(a, "article.version[data-version='1']")

    # B: a different person sees the bell, reads the notification and opens the proposal.
    _sign_in(b, server.url, B_EMAIL, B_PASSWORD)
    assert _text(b, "header mark.badge") == "1"
    b.click(f"a[aria-label={W['notifications']}]")
    b.wait_for_selector(f"h1:has-text('{W['notifications']}')")
    assert W["proposes"].format(a=A_NAME, title=OPTIONS[0]) in _text(b)
    shot(b, LANG + "21-b-notifications")
    b.click(f"ul.notifications a:has-text('{W['proposes'].format(a=A_NAME, title='')}')")
    b.wait_for_selector("article.version[data-version='1']")
    assert W["open"] in _text(b, "hgroup")
    shot(b, LANG + "22-b-proposal-v1")

    # B counters: option 2 gets a coupon.
    b.click(f"summary:has-text('{W['counter']}')")
    assert b.input_value("input[name='o1.title']") == OPTIONS[1]
    b.fill("input[name='o1.title']", COUNTERED)
    b.fill("input[name=note]", "A coupon makes the recommendation stick.")
    b.click(f"button:has-text('{W['send_v2']}')")
    b.wait_for_selector("article.version[data-version='2']")

    # A: sees version 2 and exactly what changed, and accepts option 2.
    a.click(f"a[aria-label={W['notifications']}]")
    a.wait_for_selector(f"h1:has-text('{W['notifications']}')")
    a.click(f"ul.notifications a:has-text('{W['new_terms'].format(b=B_NAME)}')")
    v2 = a.locator("article.version[data-version='2']")
    v2.wait_for()
    changes = v2.locator("table.changes tbody tr")
    assert changes.count() == 1, _text(a, "article.version[data-version='2']")
    assert changes.first.locator("td").first.inner_text() == W["changed_field"]
    assert changes.first.locator("del").inner_text() == OPTIONS[1]
    assert changes.first.locator("ins").inner_text() == COUNTERED
    assert "A coupon makes the recommendation stick." in v2.inner_text()
    shot(a, LANG + "23-a-proposal-v2-diff")
    v2.locator("section").nth(1).locator(f"button:has-text('{W['accept']}')").click()
    # B wrote version 2, so B's side accepted it already ("whichever option the partner
    # accepts"): A's acceptance of option 2 makes the agreement; B has nothing left to click.
    a.wait_for_selector(f"hgroup:has-text('{W['agreed_on']}')")

    # B sees "agreed on version 2", both sides' acceptance on option 2, and no Accept button.
    b.reload()
    b.wait_for_selector(f"hgroup:has-text('{W['agreed_on']}')")
    assert W["agreed"] in _text(b, "hgroup")
    assert b.locator(f"button:has-text('{W['accept']}')").count() == 0
    agreed = _text(b, "article.version[data-version='2'] section >> nth=1")
    assert W["accepted_by"].format(name=A_NAME) in agreed
    assert W["accepted_by"].format(name=B_NAME) in agreed
    assert W["gives"] in agreed and W["gets"] not in agreed
    shot(b, LANG + "24-b-proposal-agreed")
    a.reload()
    assert W["agreed_on"] in _text(a, "hgroup")
    shot(a, LANG + "25-a-proposal-agreed")

    # A plans the campaign: dates, goal, a budget line, a task on each side.
    a.click(f"a:has-text('{W['plan']}')")
    a.wait_for_selector(f"h1:has-text('{W['promotions']}')")
    assert W["version"].format(b=B_NAME) in _text(a, "select[name=proposal_id]")
    a.fill("input[name=title]", CAMPAIGN)
    a.fill("form[action$='/campaigns'] input[name=starts_on]", "2026-10-01")
    a.fill("form[action$='/campaigns'] input[name=ends_on]", "2026-10-14")
    shot(a, LANG + "26-a-campaigns-list")
    a.click(f"button:has-text('{W['start']}')")
    a.wait_for_selector(f"h1:has-text('{CAMPAIGN}')")
    assert f"{A_NAME} + {B_NAME}" in _text(a, "hgroup") or f"{B_NAME} + {A_NAME}" in _text(
        a, "hgroup"
    )
    assert W["before_launch"] in _text(a, "#stage")
    a.select_option("select[name=goal_metric]", "receipts")
    a.select_option("select[name=goal_kind]", "increase_percent")
    a.fill("input[name=goal_target]", "10")
    a.fill("input[name=goal_deadline]", "2026-10-14")
    a.click(f"button:has-text('{W['save_goal']}')")
    a.wait_for_selector("#goal p strong")
    assert W["goal"] in _text(a, "#goal")
    assert a.input_value("input[name=goal_target]") == "10"
    a.select_option("#budget select[name=item]", "materials")
    a.fill("#budget input[name=description]", "Posters and table cards")
    a.fill("#budget input[name=amount]", "1500")
    a.click(f"button:has-text('{W['add_budget']}')")
    a.wait_for_selector("#budget td:has-text('Posters and table cards')")
    assert W["total_for"].format(a=A_NAME) in _text(a, "#budget")
    _add_task(a, "Print the posters", A_NAME)
    _add_task(a, "Brief the baristas on the sourdough", B_NAME)
    assert W["done"].format(n=0) in _text(a, "#plan h2")
    assert W["before_launch"] not in _text(a, "#stage")
    shot(a, LANG + "27-a-campaign-planned")

    # B opens the same campaign, sees both tasks, ticks its own and adds a rehearsal point.
    b.click(f"a[aria-label={W['notifications']}]")
    b.wait_for_selector(f"h1:has-text('{W['notifications']}')")
    shot(b, LANG + "28-b-notifications-campaign")
    b.click(f"ul.notifications a:has-text('{W['started'].format(a=A_NAME, c=CAMPAIGN)}')")
    b.wait_for_selector(f"h1:has-text('{CAMPAIGN}')")
    plan = _text(b, "#plan")
    assert "Print the posters" in plan and "Brief the baristas on the sourdough" in plan
    mine = b.locator("tr.task[data-task='Brief the baristas on the sourdough']")
    assert B_NAME in mine.inner_text()
    with b.expect_navigation():
        mine.locator("select[name=status]").select_option("done")
    assert W["done"].format(n=1) in _text(b, "#plan h2")
    _add_task(b, "Say the coupon script twice", B_NAME, rehearsal=True)
    assert W["rehearsal"] in _text(b, "#plan")
    shot(b, LANG + "29-b-campaign-planned")

    # A agrees the plan, is told the rehearsal is open; B finishes it; A launches.
    a.reload()
    with a.expect_navigation():
        a.click(f"button:has-text('{W['to_agreed']}')")
    assert f'aria-current="step">{W["agreed"]}' in a.content()
    assert W["not_rehearsed"] in _text(a, "#stage")
    b.reload()
    rehearsal = b.locator("tr.task.rehearsal")
    with b.expect_navigation():
        rehearsal.locator("select[name=status]").select_option("done")
    a.reload()
    assert W["staff_rehearsal"] not in _text(a, "#stage")
    asked: list[str] = []
    a.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with a.expect_navigation():
        a.click(f"button:has-text('{W['to_running']}')")
    assert asked and W["undone"] in asked[0]
    a.wait_for_selector("#figures")
    assert f'aria-current="step">{W["running"]}' in a.content()
    figures = a.locator("#figures tbody tr")
    assert figures.count() == 2
    rows = _text(a, "#figures")
    assert W["baseline"].format(name=A_NAME) in rows
    assert W["baseline"].format(name=B_NAME) in rows
    assert W["period"] in rows  # dates in the page's language (Babel)
    shot(a, LANG + "30-a-campaign-running")

    b.reload()
    assert f'aria-current="step">{W["running"]}' in b.content()
    assert W["baseline"].format(name=A_NAME) in _text(b, "#figures")
    shot(b, LANG + "31-b-campaign-running")
    b.click(f"a[aria-label={W['notifications']}]")
    b.wait_for_selector(f"h1:has-text('{W['notifications']}')")
    assert W["moved"].format(c=CAMPAIGN) in _text(b)
    shot(b, LANG + "32-b-notifications-after-launch")


def _add_task(page: Any, title: str, side: str, rehearsal: bool = False) -> None:
    form = page.locator("form[action$='/task']")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=business_id]").select_option(label=side)
    if rehearsal:
        form.locator("input[name=rehearsal]").check()
    with page.expect_navigation():
        form.locator(f"button:has-text('{W['add_task']}')").click()
    page.wait_for_selector(f"tr.task[data-task='{title}']")
