"""The curated relations file: valid, broad, and pinned to the seeds' examples."""

from __future__ import annotations

from crosspromo.businesses import categories
from crosspromo.matching import relations
from crosspromo.matching.relations import competes, complements_of, direction


def test_file_is_valid_and_broad() -> None:
    rels = relations.all_relations()
    assert len(rels) >= 150
    seen: set[frozenset[str]] = set()
    for r in rels:
        assert categories.exists(r.a) and categories.exists(r.b), r
        assert r.a != r.b
        key = frozenset((r.a, r.b))
        assert key not in seen, r
        seen.add(key)
        assert r.kind in relations.KINDS
        assert r.source in relations.sources()
        if r.kind == "complements":
            assert r.order in relations.ORDERS and 0 < r.strength <= 1, r
        else:
            assert r.order is None
    assert relations.version()


def test_seed_examples() -> None:
    assert direction("office=insurance", "shop=car") == "before"
    assert direction("shop=car", "office=insurance") == "after"
    assert direction("amenity=cafe", "shop=bakery") == "together"
    chain = [
        "office=estate_agent",
        "craft=plasterer",
        "craft=window_construction",
        "shop=furniture",
    ]
    for first, then in zip(chain, chain[1:], strict=False):
        assert direction(then, first) == "before", (first, then)
    # ceilings before kitchens: the kitchen maker's customers already did their ceilings
    assert direction("shop=kitchen", "craft=plasterer") == "before"
    assert competes("leisure=fitness_centre", "leisure=sports_centre")
    assert competes("shop=bakery", "shop=bakery")
    assert not competes("amenity=cafe", "shop=bakery")
    assert direction("shop=bakery", "office=lawyer") == "unknown"
    assert complements_of("leisure=fitness_centre")[0][0] == "shop=nutrition_supplements"
