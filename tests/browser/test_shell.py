"""A shop owner on a phone: sign in, switch to Russian, pick a category by a Russian word, save."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Server, shot

pytestmark = pytest.mark.browser
PASSWORD = "browser-secret-1"


def test_owner_signs_in_switches_language_and_edits_profile(
    server: Server, phone_page: Any
) -> None:
    server.cli(
        "user",
        "create",
        "--email",
        "owner@example.com",
        "--password",
        PASSWORD,
        "--new-business",
        "Crumb & Co",
        "--category",
        "amenity=cafe",
    )
    page = phone_page
    page.goto(server.url + "/")
    assert "/signin" in page.url
    shot(page, "01-signin")
    page.fill("input[name=email]", "owner@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Crumb & Co')")
    shot(page, "02-dashboard-en")

    page.click("a[hreflang=ru]")
    page.wait_for_selector("text=Редактировать профиль")
    assert page.locator("html").get_attribute("lang") == "ru"
    shot(page, "03-dashboard-ru")

    page.click("text=Редактировать профиль")
    page.wait_for_selector("h1:has-text('Профиль бизнеса')")
    page.fill("#category-search", "пекарня")
    option = page.locator("[data-category='shop=bakery']")
    option.wait_for()
    shot(page, "04-category-picker-ru")
    option.click()
    assert page.input_value("#category-code") == "shop=bakery"
    page.fill("input[name=phone]", "8 495 123-45-67")
    page.fill("input[name=avg_check]", "450,50")
    page.fill("input[name=customers_per_month]", "1200")
    page.click("button:has-text('Сохранить профиль')")
    page.wait_for_selector("text=Сохранено.")
    assert page.input_value("input[name=phone]") == "+74951234567"
    assert page.input_value("input[name=avg_check]") == "450.50"
    assert page.inner_text("#category-chosen").strip() == "Булочная"  # a name, not a tag
    shot(page, "05-profile-saved-ru")

    page.fill("input[name=email]", "not-an-email")
    page.click("button:has-text('Сохранить профиль')")
    page.wait_for_selector(".field-error[data-field=email]")
    assert "Ничего не сохранено" in page.inner_text("main")
    assert "некорректный e-mail" in page.inner_text(".field-error[data-field=email]")
    shot(page, "06-profile-error-ru")

    page.click("a[hreflang=en]")
    page.wait_for_selector("text=Business profile")
    page.goto(server.url + "/")
    assert page.locator("text=Bakery").count() >= 1
