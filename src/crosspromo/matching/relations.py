"""Curated relations between categories (relations.json): competes, substitutes, complements.

For `complements`, `order` says when customers buy: `before` means at `a` before `b` (the
estate agent before the plasterer), `together` in the same visit or period.
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


@cache
def _document() -> dict[str, object]:
    text = (files("crosspromo.matching") / "relations.json").read_text(encoding="utf-8")
    data: dict[str, object] = json.loads(text)
    return data


@cache
def all_relations() -> tuple[Relation, ...]:
    """Every curated relation, as stored."""
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
        )
        for r in rows
    )


def version() -> str:
    return str(_document()["version"])


def sources() -> dict[str, str]:
    found = _document()["sources"]
    assert isinstance(found, dict)
    return {str(k): str(v) for k, v in found.items()}


@cache
def _index() -> dict[frozenset[str], Relation]:
    return {frozenset((r.a, r.b)): r for r in all_relations()}


def between(x: str, y: str) -> Relation | None:
    """The relation of two categories in either direction, if curated."""
    return _index().get(frozenset((x, y)))


def direction(x: str, y: str) -> str:
    """Where `y` stands in the customer's journey relative to `x`.

    "before": customers buy at y BEFORE x, so y's customers arrive at x later: y sends x
    customers (the car dealer is before the insurer). "after": y comes after x; x sends y
    customers and gets few back (the kitchen maker after the ceiling installer). "together":
    bought in the same visit or period. "unknown": no curated order.
    """
    rel = between(x, y)
    if rel is None or rel.kind != "complements" or rel.order is None:
        return "unknown"
    if rel.order == "together":
        return "together"
    y_first = rel.a == y
    return "before" if y_first else "after"


def complements_of(code: str) -> list[tuple[str, Relation]]:
    """Categories that complement `code`, strongest first."""
    found = [
        (r.b if r.a == code else r.a, r)
        for r in all_relations()
        if r.kind == "complements" and code in (r.a, r.b)
    ]
    return sorted(found, key=lambda item: (-item[1].strength, item[0]))


def competes(x: str, y: str) -> bool:
    """Same category, or a curated competitor or substitute."""
    if x == y:
        return True
    rel = between(x, y)
    return rel is not None and rel.kind in ("competes", "substitutes")
