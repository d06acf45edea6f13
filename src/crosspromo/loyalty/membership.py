"""Joining a coalition under an agreement: a proposal whose option is a coalition membership.

Partnerships tells its followers of every change of a proposal (`crosspromo.events`), in the
same unit of work. This follower checks each coalition option of the current terms (the
coalition exists, one side is an active member, the rules version named is the one in force),
so bad terms are refused when they are sent; and when both owners agreed on such an option, the
side that is not a member becomes one, through the same `invite` and `join` as the invitation
path, accepting the rules version in force. Partnerships never imports loyalty.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.loyalty import service
from crosspromo.loyalty.models import Coalition, MemberStatus
from crosspromo.partnerships import service as partnerships

MECHANIC = "coalition"


def _is_active(session: Session, coalition: Coalition, business_id: uuid.UUID) -> bool:
    member = service.find_member(session, coalition.id, business_id)
    return member is not None and member.status == MemberStatus.active


def _sides(session: Session, proposal: Any, terms: dict[str, Any]) -> tuple[Coalition, list[bool]]:
    """The coalition an option names and, for proposer and partner, whether it is a member."""
    try:
        coalition = service.get_coalition(session, uuid.UUID(str(terms["coalition_id"])))
    except (KeyError, ValueError, NotFound):
        raise Invalid("No such coalition.", field="coalition_id") from None
    sides = [proposal.from_business_id, proposal.to_business_id]
    return coalition, [_is_active(session, coalition, side) for side in sides]


def _check(session: Session, proposal: Any, terms: dict[str, Any]) -> None:
    """Terms that name a coalition a side is a member of, and its rules in force."""
    coalition, active = _sides(session, proposal, terms)
    if not any(active):
        raise Invalid(
            "Neither business is a member of this coalition; a member proposes membership.",
            field="coalition_id",
        )
    if int(terms["rules_version"]) != coalition.rules_version:
        raise Invalid(
            f"The coalition's rules in force are version {coalition.rules_version}.",
            field="rules_version",
        )


def _admit(session: Session, proposal: Any, terms: dict[str, Any], agreed_at: Any) -> None:
    """Make the side that is not a member one, under the rules in force the terms named."""
    coalition, active = _sides(session, proposal, terms)
    sides = [proposal.from_business_id, proposal.to_business_id]
    if all(active):
        return
    if not any(active):
        raise Conflict(
            "Neither business is a member of this coalition any more.", kind="not-member"
        )
    inviter_id, joiner_id = sides if active[0] else sides[::-1]
    member = service.find_member(session, coalition.id, joiner_id)
    if member is not None and member.left_at is not None and member.left_at >= agreed_at:
        return  # it left after this agreement: telling the agreement again does not re-admit it
    if int(terms["rules_version"]) != coalition.rules_version:
        raise Conflict(
            f"The coalition's rules changed to version {coalition.rules_version} since these "
            "terms; send new terms naming it.",
            kind="coalition-rules-changed",
            field="rules_version",
        )
    found = {b.id: b for b in businesses.by_ids(session, {inviter_id, joiner_id})}
    inviter: Business = found[inviter_id]
    joiner: Business = found[joiner_id]
    service.invite(session, coalition=coalition, by=inviter, business_id=joiner.id)
    service.join(
        session,
        coalition=coalition,
        business=joiner,
        earn_milli=int(terms.get("earn_milli", 50)),
        welcome_points=int(terms.get("welcome_points", 0)),
    )


def proposal_changed(session: Session, proposal: Any) -> None:
    """Check the coalition options of new terms; admit the joiner when they are agreed."""
    versions = partnerships.versions(session, proposal)
    if not versions:
        return
    current = versions[-1][0]
    agreement = partnerships.agreement(session, proposal)
    if agreement is None or agreement[0].number != current.number:
        for option in current.options:
            if option.get("mechanic") == MECHANIC and option.get("coalition"):
                _check(session, proposal, option["coalition"])
        return
    terms, index, agreed_at = agreement
    option = terms.options[index] if 0 <= index < len(terms.options) else {}
    if option.get("mechanic") == MECHANIC and option.get("coalition"):
        _admit(session, proposal, option["coalition"], agreed_at)
