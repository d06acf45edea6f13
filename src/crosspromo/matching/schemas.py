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
    category: str
    shared_customers: int
    lift: float
    other_first_share: float
    other_first_interval: list[float]
    switched_share: float
    small_sample: bool


class RelationsOut(BaseModel):
    category: str
    curated: list[CuratedRelation]
    learned: list[LearnedRelation]
    relations_version: str
