"""Business category taxonomy (OSM iD presets): data integrity, lookup and search."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from crosspromo.businesses.categories import (
    Category,
    all_categories,
    exists,
    get,
    search,
)

GROUPS = {"shop", "amenity", "craft", "office", "leisure", "tourism", "healthcare", "education"}
REQUIRED = [
    "shop=bakery",
    "amenity=cafe",
    "craft=window_construction",
    "amenity=fast_food",
    "shop=furniture",
    "office=estate_agent",
    "office=insurance",
    "shop=car",
    "leisure=fitness_centre",
    "shop=florist",
    "craft=plasterer",
]


def codes(results: list[Category]) -> list[str]:
    return [c.code for c in results]


def test_source_and_size() -> None:
    raw = files("crosspromo.businesses").joinpath("categories.json").read_text("utf-8")
    data = json.loads(raw)
    assert data["source"].startswith("@openstreetmap/id-tagging-schema@")
    assert data["licence"] == "ISC"
    assert len(all_categories()) == len(data["categories"]) >= 300


@pytest.mark.parametrize("code", REQUIRED)
def test_required_codes_exist_with_names(code: str) -> None:
    assert exists(code)
    category = get(code)
    assert category is not None
    assert category.code == code
    assert category.name_en.strip()
    assert category.name_ru.strip()
    assert category.name("en") == category.name_en
    assert category.name("ru") == category.name_ru
    assert category.name("ru-RU") == category.name_ru
    assert category.name("de") == category.name_en


def test_russian_names_are_russian_for_required() -> None:
    for code in REQUIRED:
        category = get(code)
        assert category is not None
        assert any("а" <= ch <= "я" for ch in category.name_ru.casefold()), code


def test_every_code_is_key_value_in_allowed_groups() -> None:
    for category in all_categories():
        key, sep, value = category.code.partition("=")
        assert sep == "=" and value and "=" not in value, category.code
        assert key in GROUPS, category.code
        assert category.group == key
        assert value not in {"yes", "*"}
        assert category.name_en.strip() and category.name_ru.strip()


def test_no_duplicate_codes_and_sorted() -> None:
    all_codes = [c.code for c in all_categories()]
    assert len(all_codes) == len(set(all_codes))
    assert all_codes == sorted(all_codes)


def test_all_categories_is_cached_and_immutable() -> None:
    assert all_categories() is all_categories()
    category = all_categories()[0]
    with pytest.raises(AttributeError):
        category.code = "shop=other"  # type: ignore[misc]


def test_get_unknown_returns_none() -> None:
    assert get("shop=no_such_thing") is None
    assert get("") is None
    assert not exists("bakery")
    assert not exists("shop=no_such_thing")


@pytest.mark.parametrize(
    ("query", "locale", "expected"),
    [
        ("пекарня", "ru", "shop=bakery"),
        ("пекарня", "en", "shop=bakery"),
        ("bakery", "en", "shop=bakery"),
        ("bakery", "ru", "shop=bakery"),
        ("Bakery", "en", "shop=bakery"),
        ("кафе", "ru", "amenity=cafe"),
        ("КАФЕ", "en", "amenity=cafe"),
        ("cafe", "en", "amenity=cafe"),
        ("cafe", "ru", "amenity=cafe"),
        ("окна", "ru", "craft=window_construction"),
        ("окно", "ru", "craft=window_construction"),
        ("window construction", "en", "craft=window_construction"),
        ("craft=window_construction", "en", "craft=window_construction"),
        ("shop=bakery", "ru", "shop=bakery"),
        # Words Russian owners type that iD's terms lack (LOCAL_TERMS).
        ("кофейня", "ru", "amenity=cafe"),
        ("натяжные потолки", "ru", "craft=plasterer"),
        ("автосалон", "ru", "shop=car"),
        ("ветклиника", "ru", "amenity=veterinary"),
        ("клининг", "ru", "craft=cleaning"),
    ],
)
def test_search_puts_expected_first(query: str, locale: str, expected: str) -> None:
    assert codes(search(query, locale))[0] == expected


def test_search_window_finds_window_construction() -> None:
    # "Window Blind Store" and "Window Construction" are both name-prefix matches;
    # ties go by name, so the blind store comes first.
    found = codes(search("window"))
    assert "craft=window_construction" in found[:2]
    assert found[0] in {"craft=window_construction", "shop=window_blind"}


def test_search_ranking_tiers() -> None:
    # Exact name beats word prefix ("Интернет-кафе") and terms.
    found = codes(search("кафе", "ru"))
    assert found.index("amenity=cafe") < found.index("amenity=internet_cafe")
    # Term match ("пекарня" is a ru term of shop=bakery, whose ru name is "Булочная").
    bakery = get("shop=bakery")
    assert bakery is not None and "пекарня" in bakery.terms_ru


def test_search_ties_sorted_by_locale_name() -> None:
    for locale in ("en", "ru"):
        found = search("window", locale)
        prefix = [c for c in found if c.name_en.casefold().startswith("window")]
        # Same tier (name prefix in English) -> ordered by name in the locale.
        names = [c.name(locale).casefold() for c in prefix]
        assert names == sorted(names)


def test_search_yo_e_equivalence() -> None:
    with_yo = codes(search("переплётчик", "ru"))
    without = codes(search("переплетчик", "ru"))
    assert with_yo and with_yo == without
    assert "craft=bookbinder" in with_yo
    assert codes(search("мёд", "ru")) == codes(search("мед", "ru"))
    assert codes(search("ПЛАТЁЖНЫЙ", "ru")) == codes(search("платежный", "ru"))


def test_search_empty_query() -> None:
    assert search("") == []
    assert search("   ") == []
    assert search("\t\n", "ru") == []


def test_search_no_match() -> None:
    assert search("qqqxyzzy") == []


def test_search_limit_respected() -> None:
    assert len(search("a", limit=5)) == 5
    assert len(search("а", "ru", limit=3)) == 3
    assert len(search("a")) == 20
    assert search("a", limit=0) == []
    big = search("e", limit=10_000)
    assert len(big) > 20
    assert len({c.code for c in big}) == len(big)


def test_search_matches_both_languages_regardless_of_locale() -> None:
    assert codes(search("мебельный", "en"))[0] == "shop=furniture"
    assert codes(search("furniture store", "ru"))[0] == "shop=furniture"
