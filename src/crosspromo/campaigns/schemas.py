"""Shapes of campaigns: the goal, budget lines, tasks, stage moves, the analysis."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crosspromo.campaigns.models import GoalKind, Metric, Stage, TaskStatus
from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Day, Input, Int, wrong

Long = Annotated[str, Field(max_length=5000), PLAIN_TEXT]

Item = Literal["materials", "discounts", "bonus_products", "staff_hours", "advertising", "other"]


class CampaignCreate(Input):
    model_config = ConfigDict(extra="forbid")
    proposal_id: uuid.UUID
    title: Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
    currency: Annotated[str, Field(min_length=3, max_length=3), ONE_LINE] | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None

    @model_validator(mode="after")
    def _order(self) -> CampaignCreate:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise wrong("ends_on", "is before the start date")
        return self


class CampaignUpdate(Input):
    """Only the fields given change; goal and dates are frozen once the campaign runs."""

    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Field(min_length=1, max_length=200), ONE_LINE] | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    goal_business_id: uuid.UUID | None = None
    goal_metric: Metric | None = None
    goal_kind: GoalKind | None = None
    goal_target: (
        Annotated[
            Decimal,
            Field(
                gt=0,
                le=10**11,
                decimal_places=2,
                description="money in major units (600000), percent (25) or a count",
            ),
        ]
        | None
    ) = None
    goal_deadline: Day | None = None


class MemberIn(Input):
    model_config = ConfigDict(extra="forbid")
    business: Annotated[str, Field(max_length=64, description="the partner's id (slug)"), ONE_LINE]


class BudgetIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    item: Item
    description: Annotated[str, Field(max_length=300), PLAIN_TEXT] = ""
    amount_minor: Annotated[Int, Field(ge=0, le=10**12)] | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3), ONE_LINE]
    hours: Annotated[Int, Field(gt=0, le=100_000)] | None = None
    hourly_cost_minor: Annotated[Int, Field(ge=0, le=10**9)] | None = None

    @model_validator(mode="after")
    def _amount(self) -> BudgetIn:
        if self.item == "staff_hours":
            if self.hours is None or self.hourly_cost_minor is None:
                raise wrong("hourly_cost_minor", "staff hours need the hours and an hourly cost")
        elif self.amount_minor is None:
            raise wrong("amount_minor", "fill this in")
        return self


class TaskIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    title: Annotated[str, Field(min_length=1, max_length=300), ONE_LINE]
    assignee_user_id: uuid.UUID | None = None
    due_on: Day | None = None
    rehearsal: bool = False


class TaskUpdate(Input):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Field(min_length=1, max_length=300), ONE_LINE] | None = None
    status: TaskStatus | None = None
    assignee_user_id: uuid.UUID | None = None
    due_on: Day | None = None


class StageMove(Input):
    model_config = ConfigDict(extra="forbid")
    to: Stage
    expected: Stage | None = Field(
        default=None, description="the stage you saw; refused if someone moved it meanwhile"
    )


class Analysis(Input):
    model_config = ConfigDict(extra="forbid")
    why: Annotated[str, Field(min_length=1, max_length=5000), PLAIN_TEXT]
    keep: Long = ""
    cut: Long = ""
    next_action: Long = ""


# --- answers (the API's response models) -------------------------------------------------


class GoalOut(BaseModel):
    business_id: uuid.UUID | None
    metric: Metric | None
    kind: GoalKind | None
    target: int | None
    deadline: date | None
    met: bool | None


class AnalysisOut(BaseModel):
    why: str
    keep: str
    cut: str
    next_action: str


class BudgetLineOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    item: str
    description: str
    amount_minor: int
    currency: str
    hours: int | None
    hourly_cost_minor: int | None


class TaskCounts(BaseModel):
    total: int
    done: int
    overdue: int
    rehearsal_total: int
    rehearsal_done: int


class SnapshotOut(BaseModel):
    business_id: uuid.UUID
    moment: str
    period_start: date
    period_end: date
    figures: dict[str, Any]


class OutcomeOut(BaseModel):
    baseline: int | None
    final: int | None
    change: int | None
    change_bp: int | None
    met: bool | None


class CampaignSummary(BaseModel):
    """A campaign in a list."""

    id: uuid.UUID
    proposal_id: uuid.UUID
    title: str
    stage: Stage
    currency: str
    starts_on: date | None
    ends_on: date | None
    goal: GoalOut
    analysis: AnalysisOut
    members: list[uuid.UUID]
    created_at: datetime


class CampaignOut(CampaignSummary):
    """A campaign with what a launch still needs, its budget, plan counts and outcome."""

    missing: list[str]
    budget: list[BudgetLineOut]
    budget_by_side: dict[uuid.UUID, int]
    tasks: TaskCounts
    snapshots: list[SnapshotOut]
    outcome: OutcomeOut | None


class TaskOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    title: str
    rehearsal: bool
    assignee_user_id: uuid.UUID | None
    due_on: date | None
    status: TaskStatus
