"""The curated relations file: valid, broad, and pinned to the seeds' examples."""

from __future__ import annotations

import graphlib
import json
import re
from collections import Counter
from importlib.resources import files

import pytest

from crosspromo.businesses import categories
from crosspromo.matching import relations
from crosspromo.matching.explain import COMPLEMENTS, COMPLEMENTS_PLAIN, Category, Note, Reason
from crosspromo.matching.relations import between, competes, complements_of, direction


def _rows() -> list[dict[str, object]]:
    text = (files("crosspromo.matching") / "relations.json").read_text(encoding="utf-8")
    rows = json.loads(text)["relations"]
    assert isinstance(rows, list)
    return rows


def test_file_is_broad_and_versioned() -> None:
    rels = relations.all_relations()
    assert len(rels) >= 150
    kinds = Counter(r.kind for r in rels)
    assert kinds["complements"] >= 150
    assert kinds["competes"] > 0 and kinds["substitutes"] > 0
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", relations.version())
    found = [categories.get(code) for r in rels for code in (r.a, r.b)]
    groups = {category.group for category in found if category is not None}
    assert {"shop", "amenity", "craft", "office", "leisure", "tourism", "education"} <= groups


def test_every_code_exists() -> None:
    missing = {
        code
        for r in relations.all_relations()
        for code in (r.a, r.b)
        if not categories.exists(code)
    }
    assert not missing
    assert all(categories.exists(code) for code in relations.stand_ins())


def test_no_self_duplicate_or_contradiction() -> None:
    seen: dict[frozenset[str], str] = {}
    for r in relations.all_relations():
        assert r.a != r.b, r
        key = frozenset((r.a, r.b))
        # one entry per pair, in either direction: a pair can't both compete and complement
        assert key not in seen, (r, seen.get(key))
        seen[key] = r.kind


def test_kinds_orders_strengths_sources_notes() -> None:
    known_sources = relations.sources()
    for row in _rows():
        assert set(row) <= {"a", "b", "kind", "order", "strength", "source", "note", "note_ru"}
        # a Russian page never glues the English note into a Russian sentence
        assert re.fullmatch(r"[^A-Za-z]+", row["note_ru"]), row
        assert row["kind"] in relations.KINDS, row
        assert row["source"] in known_sources, row
        assert isinstance(row["note"], str) and row["note"].strip(), row
        if row["kind"] == "complements":
            assert row["order"] in relations.ORDERS, row
            strength = row["strength"]
            assert isinstance(strength, int | float) and 0 < strength <= 1, row
        else:
            assert "order" not in row or row["order"] is None, row
            assert "strength" not in row, row


def test_journey_order_has_no_cycles() -> None:
    """ "before" relations form a deal cycle, never a loop (a before b before ... before a)."""
    graph: dict[str, set[str]] = {}
    for r in relations.all_relations():
        if r.kind == "complements" and r.order == "before":
            graph.setdefault(r.b, set()).add(r.a)
    graphlib.TopologicalSorter(graph).prepare()


def test_car_dealer_before_insurer() -> None:
    assert direction("office=insurance", "shop=car") == "before"
    assert direction("shop=car", "office=insurance") == "after"


def test_cafe_and_bakery_together() -> None:
    assert direction("amenity=cafe", "shop=bakery") == "together"
    assert direction("shop=bakery", "amenity=cafe") == "together"
    assert not competes("amenity=cafe", "shop=bakery")


@pytest.mark.parametrize(
    ("first", "then"),
    [
        # renovation: estate agent -> plasterer -> window fitter -> furniture
        ("office=estate_agent", "craft=plasterer"),
        ("craft=plasterer", "craft=window_construction"),
        ("craft=window_construction", "shop=furniture"),
        ("office=estate_agent", "shop=interior_decoration"),
        # ceilings before kitchens
        ("craft=plasterer", "shop=kitchen"),
        # house building: land realtor, architect, surveyor before the builder; then the rest
        ("office=estate_agent", "craft=roofer"),
        ("office=architect", "craft=roofer"),
        ("office=surveyor", "craft=roofer"),
        ("craft=roofer", "craft=gardener"),
        ("craft=roofer", "craft=metal_construction"),
        ("craft=roofer", "shop=furniture"),
        # fitness -> sports nutrition and gear
        ("leisure=fitness_centre", "shop=nutrition_supplements"),
        ("leisure=fitness_centre", "shop=sports"),
        ("leisure=swimming_pool", "shop=sports"),
        # the trip before the hotel
        ("shop=travel_agency", "tourism=hotel"),
    ],
)
def test_journey_order(first: str, then: str) -> None:
    assert direction(then, first) == "before"
    assert direction(first, then) == "after"


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("amenity=restaurant", "shop=florist"),
        ("leisure=fitness_centre", "shop=beauty"),
        ("leisure=swimming_pool", "shop=beauty"),
        ("shop=houseware", "shop=chemist"),
        ("shop=kitchen", "shop=chemist"),
        ("craft=plasterer", "craft=carpenter"),
        ("craft=window_construction", "shop=doors"),
        ("craft=carpenter", "craft=window_construction"),
        ("shop=pet", "amenity=veterinary"),
    ],
)
def test_bought_together(x: str, y: str) -> None:
    assert direction(x, y) == "together"
    assert direction(y, x) == "together"


def test_ceiling_installer_gets_nothing_from_the_kitchen_maker() -> None:
    # the kitchen maker's customers already did their ceilings: the ceiling installer is before
    assert direction("shop=kitchen", "craft=plasterer") == "before"
    assert direction("craft=plasterer", "shop=kitchen") == "after"


def test_competition() -> None:
    # a fitness club and a yoga school compete for the same need
    assert competes("leisure=fitness_centre", "leisure=sports_centre")
    assert competes("leisure=sports_centre", "leisure=fitness_centre")
    assert direction("leisure=fitness_centre", "leisure=sports_centre") == "unknown"
    assert competes("amenity=restaurant", "amenity=fast_food")  # substitutes
    assert competes("shop=bakery", "shop=confectionery")
    assert competes("shop=bakery", "shop=bakery")
    assert direction("shop=bakery", "shop=bakery") == "unknown"
    assert not competes("shop=car", "office=insurance")


def test_unknown_pair() -> None:
    assert between("shop=bakery", "office=lawyer") is None
    assert direction("shop=bakery", "office=lawyer") == "unknown"
    assert not competes("shop=bakery", "office=lawyer")
    assert direction("shop=no_such_thing", "shop=bakery") == "unknown"


def test_between_either_way() -> None:
    rel = between("office=insurance", "shop=car")
    assert rel is not None and rel is between("shop=car", "office=insurance")
    assert (rel.a, rel.b, rel.kind, rel.order) == (
        "shop=car",
        "office=insurance",
        "complements",
        "before",
    )


def test_complements_of_strongest_first() -> None:
    found = complements_of("leisure=fitness_centre")
    partners = [code for code, _ in found]
    assert partners[0] == "shop=nutrition_supplements"
    assert {"shop=sports", "shop=beauty"} <= set(partners)
    assert "leisure=sports_centre" not in partners
    strengths = [rel.strength for _, rel in found]
    assert strengths == sorted(strengths, reverse=True)
    assert all(rel.kind == "complements" for _, rel in found)
    assert complements_of("shop=no_such_thing") == []


def test_explanation_in_russian_has_no_english_note() -> None:
    params = {
        "partner": Category("amenity=cafe"),
        "mine": Category("shop=bakery"),
        "note": Note({"en": "coffee with pastries", "ru": "кофе с выпечкой"}),
    }
    said = Reason(COMPLEMENTS, params, plain=COMPLEMENTS_PLAIN)
    assert said.render("en") == "Cafe complements Bakery (coffee with pastries)."
    assert "(кофе с выпечкой)" in said.render("ru")
    untranslated = Reason(
        COMPLEMENTS, params | {"note": Note({"en": "coffee"})}, plain=COMPLEMENTS_PLAIN
    )
    assert "coffee" not in untranslated.render("ru")
