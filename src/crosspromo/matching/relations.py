"""Curated relations between categories (relations.json): competes, substitutes, complements.

Each relation joins two OpenStreetMap preset codes `a` and `b` (see categories.json):

- `competes`: the same need; the same customers choose one (a fitness club and a yoga studio).
- `substitutes`: one can replace the other for some purchases (restaurant and fast food).
- `complements`: one continues the other. `order` is `before` when customers buy at `a` BEFORE
  `b` in the deal cycle (the car dealer before the insurer), `together` when they buy in the same
  visit or period with no order (cafe and bakery); `strength` is in (0, 1].

`competes` and `substitutes` carry no order. A pair is stored once, in one direction; the
functions below look it up in either direction and flip `order` when needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

KINDS = ("complements", "competes", "substitutes")
ORDERS = ("before", "together")


@dataclass(frozen=True)
class Relation:
    a: str
    b: str
    kind: str
    order: str | None
    strength: float
    source: str
    note: str
    note_ru: str = ""  # the note in Russian; without it a Russian page leaves the note out


@cache
def _document() -> dict[str, object]:
    text = (files("crosspromo.matching") / "relations.json").read_text(encoding="utf-8")
    data: dict[str, object] = json.loads(text)
    return data


@cache
def all_relations() -> tuple[Relation, ...]:
    """Every curated relation, as stored (each pair once, in its stored direction)."""
    rows = _document()["relations"]
    assert isinstance(rows, list)
    return tuple(
        Relation(
            r["a"],
            r["b"],
            r["kind"],
            r.get("order"),
            float(r.get("strength", 1.0)),
            r["source"],
            r.get("note", ""),
            r.get("note_ru", ""),
        )
        for r in rows
    )


def version() -> str:
    """The version of the curated file, e.g. "2026.11.1"."""
    return str(_document()["version"])


def sources() -> dict[str, str]:
    """Source keys used by the relations, with what each stands for."""
    found = _document()["sources"]
    assert isinstance(found, dict)
    return {str(k): str(v) for k, v in found.items()}


def stand_ins() -> dict[str, str]:
    """Preset codes that stand in for a trade the presets lack (craft=roofer for the builder)."""
    found = _document().get("stand_ins", {})
    assert isinstance(found, dict)
    return {str(k): str(v) for k, v in found.items()}


@cache
def _index() -> dict[frozenset[str], Relation]:
    return {frozenset((r.a, r.b)): r for r in all_relations()}


def between(x: str, y: str) -> Relation | None:
    """The curated relation of two categories, stored as (x, y) or as (y, x); None if none."""
    return _index().get(frozenset((x, y)))


def direction(x: str, y: str) -> str:
    """Where partner `y` stands in the customer's deal cycle relative to `x` (you).

    - "before": customers buy at `y` BEFORE they buy at `x`. `y`'s customers are on their way
      to `x`, so `y` is the partner that sends `x` customers:
      ``direction("office=insurance", "shop=car") == "before"`` (the car dealer comes before
      the insurer and sends it buyers of new cars).
    - "after": customers buy at `y` AFTER `x`. `x` sends `y` customers and gets few back:
      ``direction("shop=car", "office=insurance") == "after"``;
      ``direction("craft=plasterer", "shop=kitchen") == "after"`` (kitchens are ordered after
      ceilings, so the kitchen maker's customers already did their ceilings).
    - "together": bought in the same visit or period, no order (cafe and bakery).
    - "unknown": no curated complement for the pair (competitors, substitutes, or nothing).

    The stored relation (a, b, order="before") means a before b; when the pair is stored as
    (x, y) the answer is "after", when stored as (y, x) it is "before".
    """
    rel = between(x, y)
    if rel is None or rel.kind != "complements" or rel.order is None or x == y:
        return "unknown"
    if rel.order == "together":
        return "together"
    return "before" if rel.a == y else "after"


def complements_of(code: str) -> list[tuple[str, Relation]]:
    """Partner categories that complement `code`, with their relations, strongest first."""
    found = [
        (r.b if r.a == code else r.a, r)
        for r in all_relations()
        if r.kind == "complements" and code in (r.a, r.b)
    ]
    return sorted(found, key=lambda item: (-item[1].strength, item[0]))


def competes(x: str, y: str) -> bool:
    """True for the same category, or a curated competitor or substitute."""
    if x == y:
        return True
    rel = between(x, y)
    return rel is not None and rel.kind in ("competes", "substitutes")
