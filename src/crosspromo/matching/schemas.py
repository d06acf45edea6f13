"""Shapes of the partner suggestions, their explanations and the category relations."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class PartnerOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    category: str
    category_name: str
    price_tier: int
    city: str


class SuggestionOut(BaseModel):
    business: PartnerOut
    score: float
    criteria: dict[str, float]
    direction: str
    source: str  # which decided the relation and direction: curated, data, both or none
    overlap: int | None  # rounded shared customers, when both allow it
    reasons: list[str]
    warnings: list[str]


class WhyNotOut(BaseModel):
    blocked: bool
    reasons: list[str]
    suggestion: SuggestionOut | None


class CuratedRelation(BaseModel):
    category: str
    name: str
    kind: str
    direction: str
    strength: float
    source: str
    note: str


class LearnedRelation(BaseModel):
    """What everyone's shared customers say (at least 5 business pairs and 50 people)."""

    category: str
    city: str  # '' when learned over every city
    business_pairs: int
    shared_customers: int
    expected_by_chance: float
    lift: float
    other_first_share: float
    other_first_interval: list[float]
    switched_share: float
    small_sample: bool  # too few shared people to speak about order
    strength: float  # the posterior complement strength (curated prior + data)
    direction: str
    source: str  # curated | data | both | none


class RelationsOut(BaseModel):
    category: str
    curated: list[CuratedRelation]
    learned: list[LearnedRelation]
    relations_version: str
