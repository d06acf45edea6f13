"""What a redemption is worth between partners, per the agreement's payment model.

The business that honours a code pays the business that sent the customer (the issuer):
a percent of the order (`per_sale_percent`, `revenue_share`), a fixed amount per sale or per
lead, or a reward to the issuer's staff member who handed out the code (`staff_reward`).
Barter and fixed fees accrue nothing per redemption. Accruals are written in the same
transaction as the redemption and never changed: a reversal adds their negatives.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from crosspromo.campaigns.models import Campaign
from crosspromo.offers.models import Accrual, Offer, Redemption
from crosspromo.partnerships import service as partnerships


@functools.cache
def _terms_query() -> Any:
    """Built once: the till runs it on every redemption (statement building is CPU)."""
    campaign_proposal = select(Campaign.proposal_id).where(Campaign.id == bindparam("campaign"))
    return partnerships.agreed_option_query(campaign_proposal.scalar_subquery())


def terms_for(session: Session, offer: Offer) -> tuple[uuid.UUID, dict[str, Any]] | None:
    """The agreement behind the offer's campaign and its accepted option, in one query.

    Read on every redemption and never cached: an amendment both owners accept moves the
    agreement to a new version, and the next redemption must follow it.
    """
    found = session.execute(_terms_query(), {"campaign": offer.campaign_id}).first()
    return partnerships.option_of(found)


def percent_of(amount_minor: int, percent: Decimal) -> int:
    """`percent` % of an amount in minor units, rounded half up (exact decimal arithmetic)."""
    value = Decimal(amount_minor) * percent / Decimal(100)
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def accrue(session: Session, redemption: Redemption, offer: Offer) -> list[Accrual]:
    """The accruals a redemption earns under the agreement (none for barter)."""
    made = accruals(redemption, terms_for(session, offer))
    session.add_all(made)
    session.flush()
    return made


def accruals(
    redemption: Redemption, terms: tuple[uuid.UUID, dict[str, Any]] | None
) -> list[Accrual]:
    """The accruals a redemption earns under these terms (`terms_for`), not yet added."""
    if terms is None:
        return []
    proposal_id, option = terms
    model = option.get("payment_model", "barter")
    rows: list[tuple[str, int, str]] = []
    if model in ("per_sale_percent", "revenue_share") and option.get("payment_percent"):
        amount = percent_of(redemption.order_minor, Decimal(str(option["payment_percent"])))
        rows.append(("sale", amount, redemption.currency))
    elif model in ("per_sale_fixed", "per_lead", "staff_reward") and option.get("payment_minor"):
        names = {"per_sale_fixed": "sale", "per_lead": "lead", "staff_reward": "staff_reward"}
        currency = option.get("currency") or redemption.currency
        if model != "staff_reward" or redemption.staff_user_id is not None:
            rows.append((names[model], int(option["payment_minor"]), currency))
    return [
        Accrual(
            proposal_id=proposal_id,
            redemption_id=redemption.id,
            code_id=redemption.code_id,
            kind=kind,
            payer_business_id=redemption.business_id,
            payee_business_id=redemption.referrer_business_id,
            payee_user_id=redemption.staff_user_id if kind == "staff_reward" else None,
            amount_minor=amount,
            currency=currency,
            at=redemption.at,
        )
        for kind, amount, currency in rows
    ]


def undo(session: Session, original: Redemption, reversal: Redemption) -> None:
    """The negatives of the original redemption's accruals, dated at the reversal."""
    for accrual in session.scalars(select(Accrual).where(Accrual.redemption_id == original.id)):
        session.add(
            Accrual(
                proposal_id=accrual.proposal_id,
                redemption_id=reversal.id,
                code_id=accrual.code_id,
                kind=accrual.kind,
                payer_business_id=accrual.payer_business_id,
                payee_business_id=accrual.payee_business_id,
                payee_user_id=accrual.payee_user_id,
                amount_minor=-accrual.amount_minor,
                currency=accrual.currency,
                at=reversal.at,
            )
        )
    session.flush()


def accrue_lead(
    session: Session,
    *,
    proposal_id: uuid.UUID,
    payer_business_id: uuid.UUID,
    payee_business_id: uuid.UUID,
    amount_minor: int,
    currency: str,
    at: datetime,
) -> None:
    """A lead paid per the agreement (`per_lead`); a negative amount reverses a disputed one."""
    session.add(
        Accrual(
            proposal_id=proposal_id,
            kind="lead",
            payer_business_id=payer_business_id,
            payee_business_id=payee_business_id,
            amount_minor=amount_minor,
            currency=currency,
            at=at,
        )
    )
    session.flush()
