"""JSON API: who am I; API keys and team invitation links of a business (owners only)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from crosspromo.accounts import service
from crosspromo.accounts.models import User
from crosspromo.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    Me,
)
from crosspromo.auth import OwnerBusiness
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/me", response_model=Me)
def me(actor: ApiActor, db: Db) -> Me:
    user = db.get(User, actor.user_id) if actor.user_id else None
    return Me(
        user_id=actor.user_id,
        email=user.email if user else None,
        api_key_business_id=actor.key_business_id,
        roles={str(k): v for k, v in actor.roles.items()},
    )


@router.get("/businesses/{business_id}/api-keys", response_model=list[ApiKeyOut])
def list_keys(business: OwnerBusiness, actor: ApiActor, db: Db) -> list[ApiKeyOut]:
    keys = service.list_api_keys(db, business_id=business.id)
    return [ApiKeyOut.model_validate(k) for k in keys]


@router.post("/businesses/{business_id}/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_key(
    business: OwnerBusiness, body: ApiKeyCreate, actor: ApiActor, db: Db
) -> ApiKeyCreated:
    token, key = service.create_api_key(db, business_id=business.id, role=body.role, name=body.name)
    return ApiKeyCreated(key=token, **ApiKeyOut.model_validate(key).model_dump())


@router.delete("/businesses/{business_id}/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_key(business: OwnerBusiness, key_id: str, actor: ApiActor, db: Db) -> ApiKeyOut:
    key = service.revoke_api_key(db, business_id=business.id, key_id=parse_uuid(key_id))
    return ApiKeyOut.model_validate(key)


@router.get("/businesses/{business_id}/invitations", response_model=list[InvitationOut])
def list_invitations(business: OwnerBusiness, actor: ApiActor, db: Db) -> list[InvitationOut]:
    """Team invitation links still open (not used, withdrawn or expired)."""
    rows = service.invitations(db, workspace_id=business.workspace_id)
    return [InvitationOut.model_validate(r) for r in rows]


@router.post(
    "/businesses/{business_id}/invitations", response_model=InvitationCreated, status_code=201
)
def create_invitation(
    request: Request, business: OwnerBusiness, body: InvitationCreate, actor: ApiActor, db: Db
) -> InvitationCreated:
    """A single-use link to join the team with a role (7 days); e-mailed when `email` is given."""
    token, row = service.invite(
        db,
        workspace_id=business.workspace_id,
        business_id=business.id,
        role=body.role,
        email=body.email,
        by_user_id=actor.user_id,
    )
    link = service.invitation_link(request.app.state.settings.public_url, token)
    service.mail_invitation(db, row, link=link, team=business.name)
    return InvitationCreated(link=link, **InvitationOut.model_validate(row).model_dump())


@router.delete(
    "/businesses/{business_id}/invitations/{invitation_id}", response_model=InvitationOut
)
def revoke_invitation(
    business: OwnerBusiness, invitation_id: str, actor: ApiActor, db: Db
) -> InvitationOut:
    row = service.revoke_invitation(
        db, workspace_id=business.workspace_id, invitation_id=parse_uuid(invitation_id)
    )
    return InvitationOut.model_validate(row)
