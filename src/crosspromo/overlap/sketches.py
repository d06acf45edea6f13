"""Approximate shared audiences from Apache DataSketches Theta sketches.

A sketch keeps a few thousand of a business's hashed person keys (all of them while the audience
is below 2^lg_k), so the overlap of any two businesses can be estimated with error bounds without
touching the customer table again. A sketch is a sample of keyed hashes, not an anonymised
summary: it stays on the platform and is never shown or sent to a business.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from datasketches import compact_theta_sketch, theta_intersection, update_theta_sketch
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.customers.models import Customer
from crosspromo.errors import Invalid

STD_DEVS = 2  # bounds at about 95%
BATCH = 10_000
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Estimate:
    """An estimated shared-audience size with its lower and upper bounds (2 standard deviations)."""

    estimate: float
    lower: float
    upper: float


def build(session: Session, *, business_id: uuid.UUID, lg_k: int = 12) -> bytes:
    """A compact serialized Theta sketch of the business's person keys, streamed from the table."""
    if not 4 <= lg_k <= 26:
        raise Invalid("lg_k must be between 4 and 26.", field="lg_k")
    sketch = update_theta_sketch(lg_k)
    # One key per customer: the e-mail hash when there is one, else the phone hash. A person
    # known by e-mail at one business and only by phone at another is missed here; the exact
    # count in service.exact_shared matches on either.
    query = (
        select(func.coalesce(Customer.email_hash, Customer.phone_hash))
        .where(Customer.business_id == business_id)
        .execution_options(yield_per=BATCH)
    )
    update = sketch.update
    for key in session.scalars(query):
        if key is not None:
            update(key)
    return bytes(sketch.compact().serialize())


def load(data: bytes) -> compact_theta_sketch:
    """A sketch from the bytes `build` returned; Invalid when they are not one."""
    try:
        return compact_theta_sketch.deserialize(bytes(data))
    except (IndexError, RuntimeError, ValueError, TypeError) as exc:
        raise Invalid(f"Not a theta sketch: {exc}.", field="sketch") from None


def intersect(a: compact_theta_sketch, b: compact_theta_sketch) -> Estimate:
    """The estimated intersection of two loaded sketches."""
    intersection = theta_intersection()
    try:
        intersection.update(a)
        intersection.update(b)
    except RuntimeError as exc:  # sketches made with another hash seed
        raise Invalid(f"Sketches cannot be compared: {exc}.", field="sketch") from None
    result = intersection.get_result(False)
    return Estimate(
        result.get_estimate(),
        result.get_lower_bound(STD_DEVS),
        result.get_upper_bound(STD_DEVS),
    )


def estimate(sketch_a: bytes, sketch_b: bytes) -> Estimate:
    """The estimated number of people in both sketches, with 2-standard-deviation bounds."""
    return intersect(load(sketch_a), load(sketch_b))


def estimate_all(
    sketches: dict[K, bytes], pairs: Iterable[tuple[K, K]]
) -> dict[tuple[K, K], Estimate]:
    """Estimates for many pairs, each sketch deserialized once."""
    loaded: dict[K, compact_theta_sketch] = {}

    def get(key: K) -> compact_theta_sketch:
        sketch = loaded.get(key)
        if sketch is None:
            if key not in sketches:
                raise Invalid(f"No sketch for {key}.", field="sketches")
            sketch = loaded[key] = load(sketches[key])
        return sketch

    return {(a, b): intersect(get(a), get(b)) for a, b in pairs}
