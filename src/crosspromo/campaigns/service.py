"""Campaign rules: who may see and edit, checked stage moves, baseline and final figures.

A campaign lives under an agreement (an agreed proposal) and has two or more member
businesses. Managers of every member plan it together; cashiers never see it. Its goal and
dates are frozen once it runs, so nobody changes the terms at the last moment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import BindParameter, Integer, Select, bindparam, case, cast, func, select, update
from sqlalchemy.orm import Session, aliased

from crosspromo import paging
from crosspromo.accounts.models import Membership, User
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.campaigns.models import (
    BudgetItem,
    Campaign,
    GoalKind,
    Member,
    Metric,
    Snapshot,
    Stage,
    Task,
    TaskStatus,
)
from crosspromo.campaigns.schemas import (
    Analysis,
    BudgetIn,
    CampaignCreate,
    CampaignUpdate,
    MemberIn,
    StageMove,
    TaskIn,
    TaskUpdate,
)
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.notifications import service as notifications
from crosspromo.partnerships import service as partnerships
from crosspromo.roles import Actor, Role
from crosspromo.sales import service as sales

MOVES: dict[Stage, set[Stage]] = {
    Stage.preparation: {Stage.agreed},
    Stage.agreed: {Stage.preparation, Stage.running},
    Stage.running: {Stage.results},
    Stage.results: {Stage.closed},
    Stage.closed: set(),
}
FROZEN = {Stage.running, Stage.results, Stage.closed}
MONEY = {Metric.revenue, Metric.average_check}


def member_ids(session: Session, campaign_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(select(Member.business_id).where(Member.campaign_id == campaign_id))
    )


def get(
    session: Session, actor: Actor, campaign_id: uuid.UUID, need: Role = Role.manager
) -> tuple[Campaign, Business]:
    """A campaign one of the actor's businesses is a member of, and that business."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    for business in businesses.by_ids(session, set(member_ids(session, campaign.id))):
        role = businesses.role_in(actor, business)
        if role is not None and role.at_least(need):
            return campaign, business
        if role is not None:
            raise NotFound("No such campaign.")  # cashiers see no campaigns at all
    raise NotFound("No such campaign.")


def list_for(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    limit: int = 50,
    cursor: str | None = None,
) -> list[Campaign]:
    """A business's campaigns, newest first, a page at a time (`paging` cursor)."""
    business = businesses.get(session, actor, business_id, need=Role.manager)
    query = (
        select(Campaign)
        .join(Member, Member.campaign_id == Campaign.id)
        .where(Member.business_id == business.id)
    )
    query = paging.after(query, (Campaign.created_at, Campaign.id), cursor)
    return list(session.scalars(query.limit(limit)))


def _tell(
    session: Session, campaign: Campaign, by: Business, kind: str, key: str, **params: Any
) -> None:
    for business_id in member_ids(session, campaign.id):
        if business_id == by.id:
            continue
        notifications.notify(
            session,
            business_id=business_id,
            kind=kind,
            params={"partner": by.name, "title": campaign.title, **params},
            key=f"{kind}:{campaign.id}:{key}",
            link=f"/b/{business_id}/campaigns/{campaign.id}",
        )


def create(
    session: Session, actor: Actor, *, business_id: uuid.UUID, data: CampaignCreate
) -> Campaign:
    """Start planning a campaign under an agreement this business is party to."""
    mine = businesses.get(session, actor, business_id, need=Role.manager)
    proposal, side = partnerships.get(session, actor, data.proposal_id)
    if side.id != mine.id:
        raise NotFound("No such agreement.", field="proposal_id")
    if not partnerships.is_agreed(proposal):
        raise Conflict(
            "A campaign needs an agreement: both owners must accept the same terms first.",
            field="proposal_id",
            kind="no-agreement",
        )
    campaign = Campaign(
        proposal_id=proposal.id,
        created_by_business_id=mine.id,
        title=data.title,
        currency=(data.currency or mine.currency).upper(),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        goal_business_id=mine.id,
    )
    session.add(campaign)
    session.flush()
    for member in (proposal.from_business_id, proposal.to_business_id):
        session.add(Member(campaign_id=campaign.id, business_id=member))
    session.flush()
    _tell(session, campaign, mine, "campaign.created", "")
    return campaign


def _target_units(metric: Metric, kind: GoalKind, currency: str, value: Decimal) -> int:
    if kind is GoalKind.increase_percent:
        return int(value * 100)  # basis points
    if metric in MONEY:
        return int(value * 10 ** get_currency_precision(currency))
    if value != value.to_integral_value():
        raise Invalid("A count is a whole number.", field="goal_target")
    return int(value)


def update_campaign(
    session: Session, actor: Actor, campaign_id: uuid.UUID, data: CampaignUpdate
) -> Campaign:
    """Change the title, dates or goal; refused once the campaign runs."""
    campaign, _ = get(session, actor, campaign_id)
    given = data.model_fields_set
    if given - {"title"} and campaign.stage in FROZEN:
        raise Conflict(
            f"The campaign is {campaign.stage.value}: its goal and dates can no longer change.",
            kind="campaign-frozen",
        )
    starts = data.starts_on if "starts_on" in given else campaign.starts_on
    ends = data.ends_on if "ends_on" in given else campaign.ends_on
    if starts and ends and ends < starts:
        raise Invalid("is before the start date", field="ends_on")
    deadline = data.goal_deadline if "goal_deadline" in given else campaign.goal_deadline
    if deadline and starts and deadline < starts:
        raise Invalid("The goal's deadline is before the start.", field="goal_deadline")
    if "goal_business_id" in given and data.goal_business_id is not None:
        if data.goal_business_id not in member_ids(session, campaign.id):
            raise Invalid("The goal must be about a member's figures.", field="goal_business_id")
        campaign.goal_business_id = data.goal_business_id
    for name in ("title", "starts_on", "ends_on", "goal_metric", "goal_kind", "goal_deadline"):
        if name in given:
            setattr(campaign, name, getattr(data, name))
    if "goal_target" in given:
        if data.goal_target is None:
            campaign.goal_target = None
        else:
            if campaign.goal_metric is None or campaign.goal_kind is None:
                raise Invalid("Choose the goal's metric and kind first.", field="goal_metric")
            campaign.goal_target = _target_units(
                campaign.goal_metric, campaign.goal_kind, campaign.currency, data.goal_target
            )
    campaign.updated_at = utcnow()
    session.flush()
    return campaign


def add_member(session: Session, actor: Actor, campaign_id: uuid.UUID, data: MemberIn) -> Member:
    """Bring in another partner who has an agreement with one of the members."""
    campaign, _ = get(session, actor, campaign_id)
    if campaign.stage is not Stage.preparation:
        raise Conflict("Partners join while the campaign is in preparation.", kind="wrong-stage")
    partner = businesses.get_by_slug(session, data.business.strip().lower())
    if partner is None:
        raise NotFound("No business with that id.", field="business")
    current = set(member_ids(session, campaign.id))
    if partner.id in current:
        raise Conflict("This business is already a member.", field="business")
    if not partnerships.agreed_between(session, partner.id, current):
        raise Conflict(
            "This business has no agreement with any member yet.",
            field="business",
            kind="no-agreement",
        )
    member = Member(campaign_id=campaign.id, business_id=partner.id)
    session.add(member)
    session.flush()
    return member


def _member_business(session: Session, campaign: Campaign, business_id: uuid.UUID) -> Business:
    if business_id not in member_ids(session, campaign.id):
        raise Invalid("That business is not a member of this campaign.", field="business_id")
    business = session.get(Business, business_id)
    assert business is not None
    return business


def add_budget(
    session: Session, actor: Actor, campaign_id: uuid.UUID, data: BudgetIn
) -> BudgetItem:
    """A budget line paid by one side; in the campaign's currency only."""
    campaign, _ = get(session, actor, campaign_id)
    if campaign.stage is Stage.closed:
        raise Conflict("The campaign is closed.", kind="wrong-stage")
    _member_business(session, campaign, data.business_id)
    if data.currency.upper() != campaign.currency:
        raise Invalid(
            f"The campaign's budget is in {campaign.currency}, not {data.currency.upper()}.",
            field="currency",
        )
    amount = (
        data.hours * data.hourly_cost_minor
        if data.item == "staff_hours" and data.hours and data.hourly_cost_minor is not None
        else data.amount_minor or 0
    )
    item = BudgetItem(
        campaign_id=campaign.id,
        business_id=data.business_id,
        item=data.item,
        description=data.description,
        amount_minor=amount,
        currency=campaign.currency,
        hours=data.hours,
        hourly_cost_minor=data.hourly_cost_minor,
    )
    session.add(item)
    session.flush()
    return item


def remove_budget(
    session: Session, actor: Actor, campaign_id: uuid.UUID, item_id: uuid.UUID
) -> None:
    campaign, _ = get(session, actor, campaign_id)
    item = session.get(BudgetItem, item_id)
    if item is None or item.campaign_id != campaign.id:
        raise NotFound("No such budget line.")
    if campaign.stage in FROZEN:
        raise Conflict("The budget of a running campaign only grows.", kind="campaign-frozen")
    session.delete(item)
    session.flush()


def _assignee(session: Session, side: Business, user_id: uuid.UUID) -> User:
    """The person must belong to the side's own workspace (not a third business)."""
    row = session.execute(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.workspace_id == side.workspace_id)
    ).scalar_one_or_none()
    if row is None:
        raise Invalid(
            f"That person does not work for {side.name}; assign someone of that side.",
            field="assignee_user_id",
        )
    return row


def _announce_task(session: Session, campaign: Campaign, task: Task, user: User) -> None:
    notifications.notify(
        session,
        business_id=task.business_id,
        kind="task.assigned",
        params={
            "campaign": campaign.title,
            "title": task.title,
            "due": task.due_on.isoformat() if task.due_on else "—",
        },
        key=f"task.assigned:{task.id}:{user.id}",
        link=f"/b/{task.business_id}/campaigns/{campaign.id}",
        users=[user],
    )


def add_task(session: Session, actor: Actor, campaign_id: uuid.UUID, data: TaskIn) -> Task:
    """A plan item or rehearsal point for one side, optionally assigned to one of its people."""
    campaign, _ = get(session, actor, campaign_id)
    if campaign.stage is Stage.closed:
        raise Conflict("The campaign is closed.", kind="wrong-stage")
    side = _member_business(session, campaign, data.business_id)
    user = _assignee(session, side, data.assignee_user_id) if data.assignee_user_id else None
    task = Task(
        campaign_id=campaign.id,
        business_id=side.id,
        title=data.title,
        rehearsal=data.rehearsal,
        assignee_user_id=user.id if user else None,
        due_on=data.due_on,
    )
    session.add(task)
    session.flush()
    if user is not None:
        _announce_task(session, campaign, task, user)
    return task


def update_task(
    session: Session, actor: Actor, campaign_id: uuid.UUID, task_id: uuid.UUID, data: TaskUpdate
) -> Task:
    """Both partners edit the plan: status, title, due date, assignee."""
    campaign, _ = get(session, actor, campaign_id)
    task = session.get(Task, task_id)
    if task is None or task.campaign_id != campaign.id:
        raise NotFound("No such task.")
    given = data.model_fields_set
    if "assignee_user_id" in given:
        if data.assignee_user_id is None:
            task.assignee_user_id = None
        else:
            side = _member_business(session, campaign, task.business_id)
            user = _assignee(session, side, data.assignee_user_id)
            if task.assignee_user_id != user.id:
                task.assignee_user_id = user.id
                session.flush()
                _announce_task(session, campaign, task, user)
    for name in ("title", "status", "due_on"):
        if name in given and getattr(data, name) is not None:
            setattr(task, name, getattr(data, name))
    task.updated_at = utcnow()
    session.flush()
    return task


# Undated tasks sort last, as a date no plan reaches (a keyset cannot compare NULLs).
UNDATED = date(9999, 12, 31)


def task_key(task: Task) -> tuple[Any, ...]:
    """The plan order of a task, its `paging` key."""
    return (int(task.rehearsal), task.due_on or UNDATED, task.title, task.id)


def tasks(
    session: Session, campaign_id: uuid.UUID, *, limit: int = 200, cursor: str | None = None
) -> list[Task]:
    """The plan, by due date (undated last), a page at a time (`paging` cursor)."""
    order = (
        cast(Task.rehearsal, Integer),
        func.coalesce(Task.due_on, UNDATED),
        Task.title,
        Task.id,
    )
    query = paging.after(
        select(Task).where(Task.campaign_id == campaign_id), order, cursor, descending=False
    )
    return list(session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    overdue: int
    rehearsal_total: int
    rehearsal_done: int


def progress(session: Session, campaign_id: uuid.UUID, today: date | None = None) -> Progress:
    """Task counts in one aggregate query."""
    today = today or date.today()
    plan = Task.rehearsal.is_(False)
    rehearsal = Task.rehearsal.is_(True)
    done = Task.status == TaskStatus.done
    row = session.execute(
        select(
            func.count(case((plan, 1))),
            func.count(case((plan & done, 1))),
            func.count(case((plan & ~done & (Task.due_on < today), 1))),
            func.count(case((rehearsal, 1))),
            func.count(case((rehearsal & done, 1))),
        ).where(Task.campaign_id == campaign_id)
    ).one()
    return Progress(*(int(v) for v in row))


def budget(session: Session, campaign_id: uuid.UUID) -> list[BudgetItem]:
    return list(
        session.scalars(
            select(BudgetItem)
            .where(BudgetItem.campaign_id == campaign_id)
            .order_by(BudgetItem.business_id, BudgetItem.item)
        )
    )


def budget_by_side(session: Session, campaign_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(BudgetItem.business_id, func.sum(BudgetItem.amount_minor))
        .where(BudgetItem.campaign_id == campaign_id)
        .group_by(BudgetItem.business_id)
    ).all()
    return {business_id: int(total) for business_id, total in rows}


def missing(
    session: Session,
    campaign: Campaign,
    *,
    counts: Progress | None = None,
    by_side: dict[uuid.UUID, int] | None = None,
) -> list[str]:
    """What a launch still needs: goal, dates, budget and a plan (DOMAIN.md steps 1, 4, 5).

    A page that already has the task counts and budget totals passes them in: counting
    100,000 tasks twice per request was half of a big campaign's page time.
    """
    needs = []
    if campaign.goal_metric is None or campaign.goal_kind is None or not campaign.goal_target:
        needs.append("goal")
    if campaign.starts_on is None or campaign.ends_on is None:
        needs.append("dates")
    if not (by_side if by_side is not None else budget_by_side(session, campaign.id)):
        needs.append("budget")
    if (counts or progress(session, campaign.id)).total == 0:
        needs.append("plan")
    return needs


def baseline_period(campaign: Campaign) -> tuple[date, date]:
    """As many days right before the start as the campaign lasts."""
    assert campaign.starts_on is not None and campaign.ends_on is not None
    days = (campaign.ends_on - campaign.starts_on).days + 1
    return campaign.starts_on - timedelta(days=days), campaign.starts_on - timedelta(days=1)


def take_snapshot(session: Session, campaign: Campaign, moment: str) -> list[Snapshot]:
    """Each member's figures for the baseline period or the campaign period; kept once."""
    assert campaign.starts_on is not None and campaign.ends_on is not None
    start, end = (
        baseline_period(campaign)
        if moment == "baseline"
        else (campaign.starts_on, campaign.ends_on)
    )
    taken = []
    for business in businesses.by_ids(session, set(member_ids(session, campaign.id))):
        exists = session.scalar(
            select(Snapshot).where(
                Snapshot.campaign_id == campaign.id,
                Snapshot.business_id == business.id,
                Snapshot.moment == moment,
            )
        )
        if exists is not None:
            taken.append(exists)
            continue
        found = sales.figures(
            session,
            business_id=business.id,
            timezone=business.timezone,
            start=start,
            end=end,
        )
        snapshot = Snapshot(
            campaign_id=campaign.id,
            business_id=business.id,
            moment=moment,
            period_start=start,
            period_end=end,
            figures=found.as_dict(),
        )
        session.add(snapshot)
        taken.append(snapshot)
    session.flush()
    return taken


def snapshots(session: Session, campaign_id: uuid.UUID) -> list[Snapshot]:
    return list(
        session.scalars(
            select(Snapshot)
            .where(Snapshot.campaign_id == campaign_id)
            .order_by(Snapshot.business_id, Snapshot.moment)
        )
    )


@dataclass(frozen=True)
class Outcome:
    metric: Metric
    kind: GoalKind
    target: int
    baseline: int | None
    final: int | None

    @property
    def change(self) -> int | None:
        if self.baseline is None or self.final is None:
            return None
        return self.final - self.baseline

    @property
    def change_bp(self) -> int | None:
        """The change in basis points of the baseline (exact integer arithmetic)."""
        if self.change is None or not self.baseline:
            return None
        return self.change * 10_000 // self.baseline

    @property
    def met(self) -> bool | None:
        if self.final is None or self.baseline is None:
            return None
        if self.kind is GoalKind.reach:
            return self.final >= self.target
        if self.kind is GoalKind.increase_by:
            return (self.change or 0) >= self.target
        return self.change_bp is not None and self.change_bp >= self.target


def outcome(session: Session, campaign: Campaign) -> Outcome | None:
    """The goal against the goal business's baseline and final figures."""
    if campaign.goal_metric is None or campaign.goal_kind is None or campaign.goal_target is None:
        return None
    values: dict[str, int] = {}
    for snapshot in snapshots(session, campaign.id):
        if snapshot.business_id == campaign.goal_business_id:
            values[snapshot.moment] = int(snapshot.figures[campaign.goal_metric.value])
    return Outcome(
        campaign.goal_metric,
        campaign.goal_kind,
        campaign.goal_target,
        values.get("baseline"),
        values.get("final"),
    )


def move(session: Session, actor: Actor, campaign_id: uuid.UUID, data: StageMove) -> Campaign:
    """A checked stage transition; launching takes the baseline, results take the final."""
    campaign, mine = get(session, actor, campaign_id)
    current = data.expected or campaign.stage
    if data.to not in MOVES[current]:
        raise Conflict(
            f"A campaign cannot go from {current.value} to {data.to.value}.",
            field="to",
            kind="stage-transition",
        )
    if data.to in (Stage.agreed, Stage.running):
        needs = missing(session, campaign)
        if needs:
            raise Conflict(
                "Not ready: set " + ", ".join(needs) + " first.",
                field="to",
                kind="campaign-not-ready",
                missing=needs,
            )
    if data.to is Stage.closed and not campaign.why:
        raise Conflict("Write the analysis before closing.", field="why", kind="campaign-not-ready")
    # The conditional UPDATE serialises two partners pressing the button at once.
    result = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.stage == current)
        .values(stage=data.to, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(campaign)
        raise Conflict(
            f"Someone moved the campaign to {campaign.stage.value} meanwhile.",
            kind="stage-changed",
        )
    session.refresh(campaign)
    if data.to is Stage.running:
        take_snapshot(session, campaign, "baseline")
    elif data.to is Stage.results:
        take_snapshot(session, campaign, "final")
        found = outcome(session, campaign)
        campaign.goal_met = found.met if found else None
    session.flush()
    _tell(session, campaign, mine, "campaign.stage", data.to.value, stage=data.to.value)
    return campaign


def analyse(session: Session, actor: Actor, campaign_id: uuid.UUID, data: Analysis) -> Campaign:
    """The closing analysis: why, what to keep, what to cut, the next action."""
    campaign, _ = get(session, actor, campaign_id)
    if campaign.stage not in (Stage.results, Stage.closed):
        raise Conflict("The analysis comes with the results.", kind="wrong-stage")
    campaign.why, campaign.keep = data.why, data.keep
    campaign.cut, campaign.next_action = data.cut, data.next_action
    campaign.updated_at = utcnow()
    session.flush()
    return campaign


def remind_due(session: Session, today: date | None = None) -> int:
    """Notify assignees (or their side's managers) of open tasks due by tomorrow; once each."""
    today = today or date.today()
    rows = session.execute(
        select(Task, Campaign.title)
        .join(Campaign, Campaign.id == Task.campaign_id)
        .where(
            Task.due_on.is_not(None),
            Task.due_on <= today + timedelta(days=1),
            Task.due_on >= today - timedelta(days=7),
            Task.status != TaskStatus.done,
            Campaign.stage.in_([Stage.preparation, Stage.agreed, Stage.running]),
        )
    ).all()
    made = 0
    for task, title in rows:
        user = session.get(User, task.assignee_user_id) if task.assignee_user_id else None
        assert task.due_on is not None
        made += notifications.notify(
            session,
            business_id=task.business_id,
            kind="task.due",
            params={"campaign": title, "title": task.title, "due": task.due_on.isoformat()},
            key=f"task.due:{task.id}:{task.due_on.isoformat()}",
            link=f"/b/{task.business_id}/campaigns/{task.campaign_id}",
            users=[user] if user else None,
        )
    return made


def stage_of(session: Session, campaign_id: uuid.UUID) -> Stage | None:
    """The campaign's stage (for the till, which sees no campaign details)."""
    return session.scalar(select(Campaign.stage).where(Campaign.id == campaign_id))


@dataclass(frozen=True)
class Shared:
    """A campaign two businesses ran or run together, and whether it met its goal."""

    business_a: uuid.UUID
    business_b: uuid.UUID
    stage: Stage
    met: bool | None  # None: no goal, not measured yet, or still running


@cache
def _shared_query(of_one: bool) -> Select[Campaign, uuid.UUID, uuid.UUID]:
    # Built once: partner suggestions ask on every request, and building costs more than
    # running it.
    other = aliased(Member)
    query = (
        select(Campaign, Member.business_id, other.business_id)
        .join(Member, Member.campaign_id == Campaign.id)
        .join(other, (other.campaign_id == Campaign.id) & (other.business_id > Member.business_id))
        .order_by(Campaign.created_at.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    if of_one:
        business_id: BindParameter[uuid.UUID] = bindparam("business_id")
        query = query.where(
            (Member.business_id == business_id) | (other.business_id == business_id)
        )
    return query


def shared_campaigns(
    session: Session, *, business_id: uuid.UUID | None = None, limit: int = 20_000
) -> list[Shared]:
    """Pairs of member businesses per campaign (of one business, or all), newest first."""
    params: dict[str, Any] = {"limit": limit}
    if business_id is not None:
        params["business_id"] = business_id
    found = []
    for campaign, a, b in session.execute(_shared_query(business_id is not None), params):
        met = None
        if campaign.stage in (Stage.results, Stage.closed):
            result = outcome(session, campaign)
            met = result.met if result is not None else None
        found.append(Shared(a, b, campaign.stage, met))
    return found
