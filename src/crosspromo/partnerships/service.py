"""Proposals, counter-offers and acceptances: the rules of agreeing (DOMAIN.md section 4).

Managers propose and counter; only owners accept. Every counter is a new version; terms are
never edited in place. Accepting names a version: a superseded version is refused, and the
agreement exists only when both sides' owners accepted the same version and option.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    String,
    Subquery,
    bindparam,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from crosspromo import events, paging
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Forbidden, Invalid, NotFound
from crosspromo.notifications import service as notifications
from crosspromo.partnerships.models import (
    Acceptance,
    Proposal,
    ProposalMessage,
    Status,
    TermsVersion,
)
from crosspromo.partnerships.schemas import Accept, Counter, Decline, MessageIn, ProposalCreate
from crosspromo.roles import Actor, Role


def _tell(
    session: Session, proposal: Proposal, sender: Business, kind: str, key: str, **params: object
) -> None:
    """Notify the other side's owners and managers of what `sender` did."""
    other = (
        proposal.to_business_id
        if sender.id == proposal.from_business_id
        else proposal.from_business_id
    )
    notifications.notify(
        session,
        business_id=other,
        kind=kind,
        params={"partner": sender.name, **params},
        key=f"{kind}:{proposal.id}:{key}",
        link=f"/b/{other}/proposals/{proposal.id}",
    )


def _side(actor: Actor, session: Session, proposal: Proposal, need: Role) -> Business:
    """The actor's business in this proposal with at least `need`; NotFound for outsiders."""
    mine: Business | None = None
    for business_id in (proposal.from_business_id, proposal.to_business_id):
        business = session.get(Business, business_id)
        if business is not None and businesses.role_in(actor, business) is not None:
            mine = business
            break
    if mine is None:
        raise NotFound("No such proposal.")
    role = businesses.role_in(actor, mine)
    assert role is not None
    if not role.at_least(need):
        raise Forbidden(f"This needs the {need.value} role.")
    return mine


def is_agreed(proposal: Proposal) -> bool:
    """Both owners accepted the same option: the proposal is an agreement."""
    return proposal.status is Status.agreed


def get(
    session: Session, actor: Actor, proposal_id: uuid.UUID, need: Role = Role.manager
) -> tuple[Proposal, Business]:
    """A proposal one of the actor's businesses is party to, and that business."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    return proposal, _side(actor, session, proposal, need)


def list_for(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    limit: int = 50,
    cursor: str | None = None,
) -> list[Proposal]:
    """Proposals sent or received by a business, newest first (`paging` cursor)."""
    business = businesses.get(session, actor, business_id, need=Role.manager)
    query = select(Proposal).where(
        (Proposal.from_business_id == business.id) | (Proposal.to_business_id == business.id)
    )
    query = paging.after(query, (Proposal.created_at, Proposal.id), cursor)
    return list(session.scalars(query.limit(limit)))


def propose(
    session: Session,
    actor: Actor,
    *,
    from_business_id: uuid.UUID,
    data: ProposalCreate,
    user_id: uuid.UUID | None = None,
) -> Proposal:
    """Send a proposal with 1-5 concrete options; it is version 1 of the terms."""
    mine = businesses.get(session, actor, from_business_id, need=Role.manager)
    partner = businesses.find_partner(session, data.to_business)
    if partner is None:
        raise NotFound("No business with that id.", field="to_business")
    if partner.id == mine.id:
        raise Invalid("A business cannot propose to itself.", field="to_business")
    if not partner.open_to_partnerships:
        raise Conflict("This business is not open to partnerships.", field="to_business")
    proposal = Proposal(from_business_id=mine.id, to_business_id=partner.id, message=data.message)
    session.add(proposal)
    session.flush()
    first = TermsVersion(
        proposal_id=proposal.id,
        number=1,
        author_business_id=mine.id,
        author_user_id=user_id,
        options=[o.model_dump(mode="json") for o in data.options],
    )
    session.add(first)
    _authored(session, actor, mine, first)
    session.flush()
    events.emit(session, events.PROPOSAL_CHANGED, proposal)
    _tell(session, proposal, mine, "proposal.received", "1", title=data.options[0].title)
    return proposal


# The author's acceptance of a version with several options: whichever one the partner accepts.
ANY_OPTION = -1


def _authored(session: Session, actor: Actor, mine: Business, terms: TermsVersion) -> None:
    """An owner who writes terms accepts them: the one option, or (of several) whichever the
    partner accepts. Terms a manager wrote still wait for the owner's own acceptance."""
    if businesses.role_in(actor, mine) is not Role.owner:
        return
    session.add(
        Acceptance(
            proposal_id=terms.proposal_id,
            version=terms.number,
            option=0 if len(terms.options) == 1 else ANY_OPTION,
            business_id=mine.id,
            user_id=terms.author_user_id,
        )
    )


def _claim(session: Session, proposal: Proposal, version: int) -> None:
    """Lock the proposal while `version` is current and live, or refuse (superseded, closed).

    Live means open, or agreed with new terms under discussion: an agreement is changed only
    by a new version that both owners accept again. The conditional UPDATE takes the row lock
    on PostgreSQL and the write lock on SQLite, so two owners acting at once are serialised
    and the second sees the first's result.
    """
    result = session.execute(
        update(Proposal)
        .where(
            Proposal.id == proposal.id,
            Proposal.current_version == version,
            Proposal.status.in_([Status.open, Status.agreed]),
        )
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(proposal)
        if proposal.status is Status.declined:
            raise Conflict(
                f"The proposal is already {proposal.status.value}.", kind="proposal-closed"
            )
        raise Conflict(
            f"Version {version} was superseded by version {proposal.current_version}; "
            "read the new terms first.",
            field="version",
            kind="version-superseded",
        )
    session.refresh(proposal)


def counter(
    session: Session,
    actor: Actor,
    proposal_id: uuid.UUID,
    data: Counter,
    user_id: uuid.UUID | None = None,
) -> TermsVersion:
    """Answer the current version with changed terms: a new version, nothing edited in place."""
    proposal, mine = get(session, actor, proposal_id, need=Role.manager)
    _claim(session, proposal, data.based_on)
    number = proposal.current_version + 1
    version = TermsVersion(
        proposal_id=proposal.id,
        number=number,
        author_business_id=mine.id,
        author_user_id=user_id,
        options=[o.model_dump(mode="json") for o in data.options],
        note=data.note,
    )
    session.add(version)
    _authored(session, actor, mine, version)
    proposal.current_version = number
    session.flush()
    events.emit(session, events.PROPOSAL_CHANGED, proposal)
    _tell(session, proposal, mine, "proposal.countered", str(number), version=number)
    return version


def accept(
    session: Session,
    actor: Actor,
    proposal_id: uuid.UUID,
    data: Accept,
    user_id: uuid.UUID | None = None,
) -> Proposal:
    """An owner accepts one option of a version; when both sides did, it is an agreement."""
    proposal, mine = get(session, actor, proposal_id, need=Role.owner)
    _claim(session, proposal, data.version)
    if proposal.agreed_version == data.version:
        agreed = session.scalar(
            select(Acceptance.option).where(
                Acceptance.proposal_id == proposal.id,
                Acceptance.version == data.version,
                Acceptance.business_id == mine.id,
            )
        )
        if agreed == data.option:
            return proposal  # the agreement already holds this side's answer: no change
        raise Conflict("This version is already the agreement.", kind="already-accepted")
    terms = session.scalar(
        select(TermsVersion).where(
            TermsVersion.proposal_id == proposal.id, TermsVersion.number == data.version
        )
    )
    assert terms is not None
    if data.option >= len(terms.options):
        raise Invalid(f"Version {data.version} has {len(terms.options)} options.", field="option")
    already = session.scalar(
        select(Acceptance).where(
            Acceptance.proposal_id == proposal.id,
            Acceptance.version == data.version,
            Acceptance.business_id == mine.id,
        )
    )
    if already is not None and already.option == data.option:
        return proposal  # the same answer again (an author confirming its own terms): no change
    if already is not None and already.option != ANY_OPTION:
        raise Conflict("You already accepted this version.", kind="already-accepted")
    if already is not None:
        already.option = data.option  # the author picks one of its own options
    else:
        session.add(
            Acceptance(
                proposal_id=proposal.id,
                version=data.version,
                option=data.option,
                business_id=mine.id,
                user_id=user_id,
            )
        )
    # The author accepted "whichever the partner accepts": now it is this option.
    session.execute(
        update(Acceptance)
        .where(
            Acceptance.proposal_id == proposal.id,
            Acceptance.version == data.version,
            Acceptance.option == ANY_OPTION,
            Acceptance.business_id != mine.id,
        )
        .values(option=data.option)
    )
    session.flush()
    sides = session.scalar(
        select(func.count())
        .select_from(Acceptance)
        .where(
            Acceptance.proposal_id == proposal.id,
            Acceptance.version == data.version,
            Acceptance.option == data.option,
        )
    )
    if sides == 2:
        proposal.status = Status.agreed
        proposal.agreed_version = data.version
        session.flush()
        events.emit(session, events.PROPOSAL_CHANGED, proposal)
        for side in (proposal.from_business_id, proposal.to_business_id):
            notifications.notify(
                session,
                business_id=side,
                kind="proposal.agreed",
                params={"partner": _partner_name(session, proposal, side), "version": data.version},
                key=f"proposal.agreed:{proposal.id}:{data.version}",
                link=f"/b/{side}/proposals/{proposal.id}",
            )
    else:
        _tell(session, proposal, mine, "proposal.accepted", str(data.version), version=data.version)
    return proposal


def _partner_name(session: Session, proposal: Proposal, side: uuid.UUID) -> str:
    other = (
        proposal.to_business_id if side == proposal.from_business_id else proposal.from_business_id
    )
    business = session.get(Business, other)
    return business.name if business else ""


def decline(session: Session, actor: Actor, proposal_id: uuid.UUID, data: Decline) -> Proposal:
    """Decline the current terms with a reason; the proposal closes."""
    proposal, mine = get(session, actor, proposal_id, need=Role.owner)
    if proposal.status is Status.agreed:
        raise Conflict(
            f"The agreement on version {proposal.agreed_version} stands; answer new terms with "
            "a counter-offer, or end the partnership in the pipeline.",
            kind="agreement-in-force",
        )
    _claim(session, proposal, proposal.current_version)
    proposal.status = Status.declined
    proposal.decline_reason = data.reason
    session.flush()
    _tell(session, proposal, mine, "proposal.declined", "", reason=data.reason)
    return proposal


def post_message(
    session: Session,
    actor: Actor,
    proposal_id: uuid.UUID,
    data: MessageIn,
    user_id: uuid.UUID | None = None,
) -> ProposalMessage:
    """Add a message to the proposal's thread."""
    proposal, mine = get(session, actor, proposal_id, need=Role.manager)
    message = ProposalMessage(
        proposal_id=proposal.id, business_id=mine.id, user_id=user_id, text=data.text
    )
    session.add(message)
    session.flush()
    _tell(session, proposal, mine, "proposal.message", str(message.id), text=data.text[:200])
    return message


Versions = list[tuple[TermsVersion, list[uuid.UUID]]]


def versions(session: Session, proposal: Proposal) -> Versions:
    """Every version, oldest first, with the businesses that accepted it (in that order)."""
    return versions_of(session, [proposal.id])[proposal.id]


def versions_of(session: Session, proposal_ids: list[uuid.UUID]) -> dict[uuid.UUID, Versions]:
    """`versions` for many proposals in two queries, whatever their number (lists, no N+1)."""
    found: dict[uuid.UUID, Versions] = {pid: [] for pid in proposal_ids}
    if not proposal_ids:
        return found
    accepted: dict[tuple[uuid.UUID, int], list[uuid.UUID]] = {}
    for row in session.scalars(
        select(Acceptance)
        .where(Acceptance.proposal_id.in_(proposal_ids))
        .order_by(Acceptance.at, Acceptance.id)
    ):
        accepted.setdefault((row.proposal_id, row.version), []).append(row.business_id)
    for v in session.scalars(
        select(TermsVersion)
        .where(TermsVersion.proposal_id.in_(proposal_ids))
        .order_by(TermsVersion.proposal_id, TermsVersion.number)
    ):
        found[v.proposal_id].append((v, accepted.get((v.proposal_id, v.number), [])))
    return found


def accepted_options(
    session: Session, proposal: Proposal
) -> dict[tuple[int, int], list[uuid.UUID]]:
    """Who accepted which option: (version, 0-based option) -> the businesses."""
    found: dict[tuple[int, int], list[uuid.UUID]] = {}
    for row in session.scalars(select(Acceptance).where(Acceptance.proposal_id == proposal.id)):
        found.setdefault((row.version, row.option), []).append(row.business_id)
    return found


def messages(session: Session, proposal: Proposal) -> list[ProposalMessage]:
    return messages_of(session, [proposal.id])[proposal.id]


def messages_of(
    session: Session, proposal_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ProposalMessage]]:
    """The threads of many proposals in one query, each oldest first."""
    found: dict[uuid.UUID, list[ProposalMessage]] = {pid: [] for pid in proposal_ids}
    if not proposal_ids:
        return found
    for m in session.scalars(
        select(ProposalMessage)
        .where(ProposalMessage.proposal_id.in_(proposal_ids))
        .order_by(ProposalMessage.at, ProposalMessage.id)
    ):
        found[m.proposal_id].append(m)
    return found


def changes(
    before: list[dict[str, object]], after: list[dict[str, object]]
) -> list[tuple[str, object, object]]:
    """What a version changed against the one before: (field path, old value, new value)."""
    found: list[tuple[str, object, object]] = []

    def walk(path: str, old: object, new: object) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                walk(f"{path}.{key}" if path else str(key), old.get(key), new.get(key))
        elif old != new:
            found.append((path, old, new))

    for i in range(max(len(before), len(after))):
        walk(
            f"option {i + 1}",
            before[i] if i < len(before) else None,
            after[i] if i < len(after) else None,
        )
    return found


def agreed_between(session: Session, business_id: uuid.UUID, others: set[uuid.UUID]) -> bool:
    """Whether the business has an agreement with any of `others`."""
    found = session.scalar(
        select(func.count())
        .select_from(Proposal)
        .where(
            Proposal.status == Status.agreed,
            (
                (Proposal.from_business_id == business_id) & Proposal.to_business_id.in_(others)
                | (Proposal.to_business_id == business_id) & Proposal.from_business_id.in_(others)
            ),
        )
    )
    return bool(found)


def live_states(session: Session, actor: Actor, *, business_id: uuid.UUID) -> Subquery:
    """A subquery (id, status, current_version) of the business's open and agreed proposals.

    Other capabilities join it in SQL (the pipeline finds the few entries out of step) instead
    of loading thousands of proposals.
    """
    business = businesses.get(session, actor, business_id, need=Role.manager)
    return (
        select(
            Proposal.id.label("id"),
            cast(Proposal.status, String).label("status"),
            Proposal.current_version.label("current_version"),
        )
        .where(
            (Proposal.from_business_id == business.id) | (Proposal.to_business_id == business.id),
            Proposal.status.in_((Status.open, Status.agreed)),
        )
        .subquery()
    )


def by_ids(session: Session, ids: list[uuid.UUID]) -> list[Proposal]:
    if not ids:
        return []
    return list(
        session.scalars(select(Proposal).where(Proposal.id.in_(ids)).order_by(Proposal.created_at))
    )


def live_for(session: Session, actor: Actor, *, business_id: uuid.UUID) -> list[Proposal]:
    """Open and agreed proposals a business sent or received (read-only, for its pipeline)."""
    business = businesses.get(session, actor, business_id, need=Role.manager)
    query = (
        select(Proposal)
        .where(
            (Proposal.from_business_id == business.id) | (Proposal.to_business_id == business.id),
            Proposal.status.in_((Status.open, Status.agreed)),
        )
        .order_by(Proposal.created_at)
    )
    return list(session.scalars(query))


def agreement(session: Session, proposal: Proposal) -> tuple[TermsVersion, int, datetime] | None:
    """The agreed version, the index of the agreed option, and when the last side accepted."""
    if proposal.status is not Status.agreed or proposal.agreed_version is None:
        return None
    rows = list(
        session.scalars(
            select(Acceptance).where(
                Acceptance.proposal_id == proposal.id,
                Acceptance.version == proposal.agreed_version,
            )
        )
    )
    terms = session.scalar(
        select(TermsVersion).where(
            TermsVersion.proposal_id == proposal.id,
            TermsVersion.number == proposal.agreed_version,
        )
    )
    if terms is None or not rows:
        return None
    return terms, rows[0].option, max(row.at for row in rows)


def agreed_option_query(proposal_id: Any) -> Select[Any]:
    """The statement of `agreed_option`; `proposal_id` a value, a bindparam or a subquery."""
    return (
        select(Proposal.id, TermsVersion.options, Acceptance.option)
        .join(
            TermsVersion,
            (TermsVersion.proposal_id == Proposal.id)
            & (TermsVersion.number == Proposal.agreed_version),
        )
        .join(
            Acceptance,
            (Acceptance.proposal_id == Proposal.id)
            & (Acceptance.version == Proposal.agreed_version),
        )
        .where(Proposal.id == proposal_id, Proposal.status == Status.agreed)
        .order_by(Acceptance.at)
        .limit(1)
    )


def option_of(row: Any) -> tuple[uuid.UUID, dict[str, Any]] | None:
    """(proposal id, accepted option) from a row of `agreed_option_query`, or None."""
    if row is None:
        return None
    found_id, options, option = row
    return found_id, options[option]


def agreed_option(session: Session, proposal_id: Any) -> tuple[uuid.UUID, dict[str, Any]] | None:
    """(proposal id, the accepted option of the agreed version) in one query, or None."""
    return option_of(session.execute(agreed_option_query(proposal_id)).first())


def awaiting_answer(
    session: Session, actor: Actor, *, business_id: uuid.UUID, limit: int = 20
) -> list[Proposal]:
    """Proposals whose newest terms came from the partner: this business's turn to answer."""
    mine = businesses.get(session, actor, business_id, Role.manager)
    newest = TermsVersion
    query = (
        select(Proposal)
        .join(
            newest,
            (newest.proposal_id == Proposal.id) & (newest.number == Proposal.current_version),
        )
        .where(
            (Proposal.from_business_id == mine.id) | (Proposal.to_business_id == mine.id),
            newest.author_business_id != mine.id,
            (Proposal.status == Status.open)
            | (
                (Proposal.status == Status.agreed)
                & (Proposal.agreed_version != Proposal.current_version)
            ),
        )
        .order_by(Proposal.updated_at.desc(), Proposal.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def decided(session: Session, *, limit: int = 20_000) -> list[tuple[uuid.UUID, uuid.UUID, bool]]:
    """(proposer, addressee, agreed) of decided proposals, newest first (for partner ranking)."""
    query = (
        select(Proposal.from_business_id, Proposal.to_business_id, Proposal.status)
        .where(Proposal.status.in_([Status.agreed, Status.declined]))
        .order_by(Proposal.updated_at.desc())
        .limit(limit)
    )
    return [(a, b, status == Status.agreed) for a, b, status in session.execute(query)]


@cache
def _decided_with_query() -> Select[uuid.UUID, uuid.UUID, Status]:
    # Built once: partner suggestions ask on every request, and building costs more than
    # running it.
    business_id: BindParameter[uuid.UUID] = bindparam("business_id")
    return (
        select(Proposal.from_business_id, Proposal.to_business_id, Proposal.status)
        .where(
            Proposal.status.in_([Status.agreed, Status.declined]),
            (Proposal.from_business_id == business_id) | (Proposal.to_business_id == business_id),
        )
        .order_by(Proposal.updated_at.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def decided_with(
    session: Session, *, business_id: uuid.UUID, limit: int = 500
) -> list[tuple[uuid.UUID, uuid.UUID, bool]]:
    """(proposer, addressee, agreed) of one business's decided proposals, newest first."""
    found = session.execute(_decided_with_query(), {"business_id": business_id, "limit": limit})
    return [(a, b, status == Status.agreed) for a, b, status in found]


def agreed_partners(session: Session, business_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(proposal id, partner id) of every agreement the business is party to, oldest first."""
    rows = session.execute(
        select(Proposal.id, Proposal.from_business_id, Proposal.to_business_id)
        .where(
            Proposal.status == Status.agreed,
            (Proposal.from_business_id == business_id) | (Proposal.to_business_id == business_id),
        )
        .order_by(Proposal.created_at, Proposal.id)
    ).all()
    return [(pid, b if a == business_id else a) for pid, a, b in rows]
