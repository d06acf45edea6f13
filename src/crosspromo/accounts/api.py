"""JSON API: who am I, and API keys of a business (owners only)."""

from __future__ import annotations

from fastapi import APIRouter

from crosspromo.accounts import service
from crosspromo.accounts.models import User
from crosspromo.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, Me
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
