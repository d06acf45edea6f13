"""JSON API: contacts and consents, suppressions, messages (write, preview, send, results)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from crosspromo.auth import ManagerBusiness
from crosspromo.errors import NotFound
from crosspromo.messaging import (
    audiences,
    contacts,
    exchange,
    flows,
    formats,
    reminders,
    service,
)
from crosspromo.messaging.audiences import Rules
from crosspromo.messaging.models import Contact
from crosspromo.messaging.schemas import (
    AudienceIn,
    AudienceOut,
    AudienceSizes,
    BroadcastIn,
    BroadcastOut,
    ConsentIn,
    ConsentOut,
    ContactIn,
    ContactOut,
    Decision,
    MentionIn,
    MentionOut,
    PreferencesIn,
    Preview,
    Queued,
    ReminderIn,
    ReminderOut,
    SuccessBlockOut,
    SuppressionIn,
)
from crosspromo.paging import Page
from crosspromo.web.deps import Db
from crosspromo.web.query import Cursor

Limit = Annotated[int, Query(ge=1, le=200)]
router = APIRouter(prefix="/api/v1/businesses/{business_id}", tags=["messages"])


def _id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"No such {what}.") from None


@router.post("/contacts", response_model=ContactOut, status_code=201)
def add_contact(business: ManagerBusiness, body: ContactIn, request: Request, db: Db) -> Any:
    """A contact with no consent yet (record it next, with its evidence)."""
    return contacts.add_contact(
        db,
        business_id=business.id,
        secret_key=request.app.state.secret_key,
        region=business.country,
        **body.model_dump(),
    )


@router.get("/contacts", response_model=Page[ContactOut])
def list_contacts(
    business: ManagerBusiness, db: Db, cursor: Cursor = None, limit: Limit = 50
) -> Any:
    items, after = service.contacts_page(db, business_id=business.id, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": after}


def _contact(business: ManagerBusiness, contact_id: str, db: Db) -> Contact:
    """The business's own contact, found before the body is read: another's is a 404."""
    return contacts.get(db, business_id=business.id, contact_id=_id(contact_id, "contact"))


BusinessContact = Annotated[Contact, Depends(_contact)]


@router.post("/contacts/{contact_id}/consents", response_model=ConsentOut, status_code=201)
def record_consent(contact: BusinessContact, body: ConsentIn, db: Db) -> Any:
    """Grant or withdraw consent on one channel, with when, where and the words agreed to."""
    return contacts.record_consent(db, contact, **body.model_dump())


@router.get("/contacts/{contact_id}/consents", response_model=list[ConsentOut])
def consents(contact: BusinessContact, db: Db) -> Any:
    return contacts.consents(db, contact)


@router.post("/suppressions", status_code=204)
def suppress(business: ManagerBusiness, body: SuppressionIn, request: Request, db: Db) -> None:
    """Stop an address after a bounce or a complaint (or by hand)."""
    contacts.suppress(
        db,
        business_id=business.id,
        channel=body.channel,
        address_value=body.address,
        reason=body.reason,
        secret_key=request.app.state.secret_key,
        region=business.country,
    )


@router.put("/messaging-preferences", response_model=PreferencesIn)
def set_preferences(business: ManagerBusiness, body: PreferencesIn, db: Db) -> Any:
    """This business's own weekly cap per person and the partner content share."""
    return service.set_preferences(db, business_id=business.id, **body.model_dump())


@router.post("/messages", response_model=BroadcastOut, status_code=201)
def create_message(business: ManagerBusiness, body: BroadcastIn, db: Db) -> Any:
    """A draft message; its templates are checked now (fields, size)."""
    return service.create(
        db,
        business_id=business.id,
        sender_name=business.name,
        channel=body.channel,
        content={k: v.model_dump() for k, v in body.content.items()},
        partner_business_id=body.partner_business_id,
        audience_id=body.audience_id,
    )


@router.post("/messages/preview", response_model=Preview)
def preview(business: ManagerBusiness, body: BroadcastIn, request: Request) -> Any:
    """The message filled in for a sample contact, in each language written."""
    content: dict[str, Any] = {k: v.model_dump() for k, v in body.content.items()}
    return {
        "rendered": flows.preview(
            body.channel, content, business.name, request.app.state.settings.public_url
        )
    }


@router.get("/messages", response_model=Page[BroadcastOut])
def list_messages(
    business: ManagerBusiness, db: Db, cursor: Cursor = None, limit: Limit = 50
) -> Any:
    items, after = service.page(db, business_id=business.id, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": after}


@router.get("/messages/{message_id}", response_model=BroadcastOut)
def message(business: ManagerBusiness, message_id: str, db: Db) -> Any:
    """One message with its results per recipient status."""
    found = service.get(db, business_id=business.id, broadcast_id=_id(message_id, "message"))
    return BroadcastOut.model_validate(found).model_copy(
        update={"results": service.stats(db, found)}
    )


@router.post("/messages/{message_id}/send", response_model=Queued)
def send(business: ManagerBusiness, message_id: str, request: Request, db: Db) -> Any:
    """Queue one delivery per consenting contact; the worker sends them (again: nothing new)."""
    count = flows.send(
        db,
        request.app.state.settings,
        business_id=business.id,
        broadcast_id=_id(message_id, "message"),
    )
    return {"recipients": count}


@router.post("/audiences", response_model=AudienceOut, status_code=201)
def create_audience(business: ManagerBusiness, body: AudienceIn, db: Db) -> Any:
    """Save an audience (segment) for messages; it is evaluated again at each send."""
    made = audiences.create(db, business_id=business.id, name=body.name, rules=body.rules)
    return _with_sizes(db, made)


@router.post("/audiences/count", response_model=AudienceSizes)
def count_audience(business: ManagerBusiness, body: Rules, db: Db) -> Any:
    """How many contacts the rules match now, and how many of them each channel reaches."""
    return audiences.sizes(db, business_id=business.id, rules=body)


@router.get("/audiences", response_model=Page[AudienceOut])
def list_audiences(
    business: ManagerBusiness, db: Db, cursor: Cursor = None, limit: Limit = 50
) -> Any:
    items, after = audiences.page(db, business_id=business.id, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": after}


@router.get("/audiences/{audience_id}", response_model=AudienceOut)
def audience(business: ManagerBusiness, audience_id: str, db: Db) -> Any:
    """One audience with its size now."""
    found = audiences.get(db, business_id=business.id, audience_id=_id(audience_id, "audience"))
    return _with_sizes(db, found)


@router.put("/audiences/{audience_id}", response_model=AudienceOut)
def update_audience(business: ManagerBusiness, audience_id: str, body: AudienceIn, db: Db) -> Any:
    """New name and rules (messages already queued keep their recipients)."""
    found = audiences.update(
        db,
        business_id=business.id,
        audience_id=_id(audience_id, "audience"),
        name=body.name,
        rules=body.rules,
    )
    return _with_sizes(db, found)


@router.delete("/audiences/{audience_id}", status_code=204)
def delete_audience(business: ManagerBusiness, audience_id: str, db: Db) -> None:
    audiences.delete(db, business_id=business.id, audience_id=_id(audience_id, "audience"))


def _with_sizes(db: Db, found: Any) -> AudienceOut:
    sizes = audiences.sizes(db, business_id=found.business_id, rules=found.rules)
    return AudienceOut.model_validate(found).model_copy(update={"sizes": sizes})


@router.post("/reminders", response_model=ReminderOut, status_code=201)
def create_reminder(business: ManagerBusiness, body: ReminderIn, db: Db) -> Any:
    """A message `days_before` a code handed to a known customer, or a lot of points this
    business issued, expires: once per customer and code or lot, with a holdout."""
    return reminders.create(
        db,
        business_id=business.id,
        sender_name=business.name,
        kind=body.kind,
        channel=body.channel,
        content={k: v.model_dump() for k, v in body.content.items()},
        days_before=body.days_before,
        holdout_bp=body.holdout_bp,
    )


@router.get("/reminders", response_model=list[ReminderOut])
def list_reminders(business: ManagerBusiness, db: Db) -> Any:
    """The business's reminders, newest first."""
    return reminders.listed(db, business_id=business.id)


@router.post("/exchange/mentions", response_model=MentionOut, status_code=201)
def submit_mention(business: ManagerBusiness, body: MentionIn, db: Db) -> Any:
    """Offer a mention for a partner's newsletter (under an agreement with that partner)."""
    return exchange.submit(
        db,
        partner_business_id=business.id,
        host_business_id=body.host_business_id,
        content={k: v.model_dump() for k, v in body.content.items()},
    )


@router.get("/exchange/received", response_model=list[MentionOut])
def received_mentions(business: ManagerBusiness, db: Db) -> Any:
    """Mentions partners offered for this business's newsletter, newest first."""
    return exchange.received(db, host_business_id=business.id)


@router.post("/exchange/received/{mention_id}/decision", response_model=MentionOut)
def decide_mention(business: ManagerBusiness, mention_id: str, body: Decision, db: Db) -> Any:
    """Approve (it goes into the next newsletter the 80/20 rule allows) or reject."""
    return exchange.decide(
        db,
        host_business_id=business.id,
        content_id=_id(mention_id, "mention"),
        approve=body.approve,
    )


@router.get("/poster.pdf", response_class=Response)
def poster(
    business: ManagerBusiness,
    request: Request,
    db: Db,
    link: Annotated[str, Query(min_length=3, max_length=80)],
    headline: Annotated[str, Query(max_length=120)] = "",
    locale: Annotated[str, Query(pattern="^(en|ru)$")] = "en",
) -> Response:
    """A printable A4 counter poster whose QR code opens one of the business's referral links."""
    pdf = formats.poster(
        db,
        business_id=business.id,
        business_name=business.name,
        link=link,
        public_url=request.app.state.settings.public_url,
        headline=headline,
        locale=locale,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="poster.pdf"'},
    )


@router.get("/success-block", response_model=SuccessBlockOut)
def success_block(
    business: ManagerBusiness,
    request: Request,
    db: Db,
    link: Annotated[str, Query(min_length=3, max_length=80)],
) -> SuccessBlockOut:
    """The iframe snippet a partner puts on its order-confirmation page for a referral link."""
    return SuccessBlockOut(
        **formats.success_snippet(
            db,
            business_id=business.id,
            link=link,
            public_url=request.app.state.settings.public_url,
        )
    )
