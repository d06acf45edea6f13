"""Sign-up, sign-in, sessions, API keys, and who may see which business."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crosspromo.accounts.models import (
    ApiKey,
    Membership,
    TeamInvitation,
    User,
    UserSession,
    Workspace,
)
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound, Unauthorized
from crosspromo.identifiers import IdentifierError, normalize_email
from crosspromo.roles import Actor, Role

_hasher = PasswordHasher()
MIN_PASSWORD = 8
API_KEY_PREFIX = "cpk"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str, field_name: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"Use at least {MIN_PASSWORD} characters.", field=field_name)
    if len(password) > 1024:
        raise Invalid("That password is too long.", field=field_name)


def _email(raw: str) -> str:
    try:
        return normalize_email(raw)
    except IdentifierError as exc:
        raise Invalid(str(exc), field="email") from None


def create_user(session: Session, *, email: str, password: str, name: str = "") -> User:
    """Create a user with an argon2 password hash."""
    address = _email(email)
    check_password_strength(password)
    if session.scalar(select(User.id).where(User.email == address)):
        raise Conflict("An account with this e-mail already exists.", field="email")
    user = User(email=address, name=name.strip()[:200], password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def new_workspace(session: Session, *, name: str) -> Workspace:
    """A workspace with no members yet (imports by the install's operator)."""
    workspace = Workspace(name=name.strip()[:200] or "workspace")
    session.add(workspace)
    session.flush()
    return workspace


def create_workspace(session: Session, *, name: str, owner: User) -> Workspace:
    """Create a workspace with `owner` as its owner."""
    workspace = Workspace(name=name.strip()[:200] or owner.email)
    session.add(workspace)
    session.flush()
    session.add(Membership(user_id=owner.id, workspace_id=workspace.id, role=Role.owner))
    session.flush()
    return workspace


def grant(session: Session, *, user: User, workspace_id: uuid.UUID, role: Role) -> None:
    """Give `user` a role in a workspace (or change it)."""
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.workspace_id == workspace_id
        )
    )
    if membership is None:
        session.add(Membership(user_id=user.id, workspace_id=workspace_id, role=role))
    else:
        membership.role = role
    session.flush()


def authenticate(session: Session, *, email: str, password: str) -> User:
    """Return the user for these credentials or raise Unauthorized (same reason either way)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        raise Unauthorized("Wrong e-mail or password.")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("Wrong e-mail or password.") from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    """Change a password after checking the current one; other sessions are signed out."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise Invalid("The current password is wrong.", field="current_password") from None
    check_password_strength(new, "new_password")
    user.password_hash = hash_password(new)
    for old in session.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        session.delete(old)
    session.flush()


def start_session(session: Session, *, user: User, days: int) -> tuple[str, UserSession]:
    """Open a browser session; returns the cookie token (shown once) and the row."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=_sha256(token),
        csrf_token=secrets.token_urlsafe(32),
        user_id=user.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return token, row


def session_for_token(session: Session, token: str) -> UserSession | None:
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _sha256(token)))
    if row is None or row.expires_at < utcnow():
        return None
    return row


def end_session(session: Session, token: str) -> None:
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _sha256(token)))
    if row is not None:
        session.delete(row)
        session.flush()


def actor_for_user(session: Session, user_id: uuid.UUID) -> Actor:
    rows = session.execute(
        select(Membership.workspace_id, Membership.role).where(Membership.user_id == user_id)
    ).all()
    return Actor(user_id=user_id, roles={ws: role for ws, role in rows})


def create_api_key(
    session: Session, *, business_id: uuid.UUID, role: Role, name: str = ""
) -> tuple[str, ApiKey]:
    """Create an API key; the full key is returned once and only its hash is kept."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        business_id=business_id,
        role=role,
        name=name.strip()[:200],
        prefix=prefix,
        secret_hash=_sha256(secret),
    )
    session.add(key)
    session.flush()
    return f"{API_KEY_PREFIX}_{prefix}_{secret}", key


def actor_for_api_key(session: Session, token: str) -> Actor:
    """Resolve a bearer token; raises Unauthorized for anything wrong with it."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        raise Unauthorized("Malformed API key.")
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    # API keys carry 256 random bits, so a fast hash is enough; argon2 would cost every request.
    if (
        key is None
        or key.revoked_at is not None
        or not hmac.compare_digest(key.secret_hash, _sha256(parts[2]))
    ):
        raise Unauthorized("Unknown or revoked API key.")
    return Actor(key_business_id=key.business_id, key_role=key.role, key_id=key.id)


def list_api_keys(session: Session, *, business_id: uuid.UUID) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.business_id == business_id).order_by(ApiKey.created_at)
        )
    )


def revoke_api_key(session: Session, *, business_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.business_id == business_id)
    )
    if key is None:
        raise NotFound("No such API key.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def members(session: Session, *, workspace_id: uuid.UUID) -> list[tuple[User, Role]]:
    """People of a workspace with their roles, by e-mail."""
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(User.email)
    ).all()
    return [(user, role) for user, role in rows]


def add_member(
    session: Session, *, workspace_id: uuid.UUID, email: str, role: Role, password: str = ""
) -> User:
    """Add a person by e-mail; a new account needs an initial password, shared in person."""
    address = _email(email)
    user = session.scalar(select(User).where(User.email == address))
    if user is None:
        if not password:
            raise Invalid("Give an initial password for a new account.", field="password")
        user = create_user(session, email=address, password=password)
    grant(session, user=user, workspace_id=workspace_id, role=role)
    return user


def remove_member(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    by_user_id: uuid.UUID | None = None,
) -> None:
    """Remove a person from a workspace; the last owner cannot be removed, nor oneself."""
    if by_user_id is not None and by_user_id == user_id:
        raise Conflict("You cannot remove yourself. Ask another owner to do it.")
    membership = session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    )
    if membership is None:
        raise NotFound("No such member.")
    if membership.role is Role.owner:
        owners = session.scalars(
            select(Membership).where(
                Membership.workspace_id == workspace_id, Membership.role == Role.owner
            )
        ).all()
        if len(owners) == 1:
            raise Conflict("A workspace keeps at least one owner.")
    session.delete(membership)
    session.flush()


INVITATION_DAYS = 7


def invite(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    business_id: uuid.UUID,
    role: Role,
    email: str = "",
    by_user_id: uuid.UUID | None = None,
    days: int = INVITATION_DAYS,
) -> tuple[str, TeamInvitation]:
    """A single-use link to join the team with `role`; the token is returned once."""
    address = _email(email) if email.strip() else ""
    token = secrets.token_urlsafe(24)
    row = TeamInvitation(
        token_hash=_sha256(token),
        workspace_id=workspace_id,
        business_id=business_id,
        role=role,
        email=address,
        created_by=by_user_id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return token, row


def invitations(session: Session, *, workspace_id: uuid.UUID) -> list[TeamInvitation]:
    """Links not yet used, revoked or expired, newest first."""
    return list(
        session.scalars(
            select(TeamInvitation)
            .where(
                TeamInvitation.workspace_id == workspace_id,
                TeamInvitation.used_at.is_(None),
                TeamInvitation.revoked_at.is_(None),
                TeamInvitation.expires_at > utcnow(),
            )
            .order_by(TeamInvitation.created_at.desc())
        )
    )


def invitation_for_token(session: Session, token: str) -> TeamInvitation:
    """The live invitation of this link, or a clear refusal (unknown, used, revoked, expired)."""
    row = session.scalar(select(TeamInvitation).where(TeamInvitation.token_hash == _sha256(token)))
    if row is None:
        raise NotFound("This invitation link is not known.")
    if row.revoked_at is not None:
        raise Conflict("This invitation was withdrawn.", kind="team-invitation-revoked")
    if row.used_at is not None:
        raise Conflict("This invitation has already been used.", kind="team-invitation-used")
    if row.expires_at <= utcnow():
        raise Conflict(
            "This invitation has expired. Ask for a new one.", kind="team-invitation-expired"
        )
    return row


def join(session: Session, *, token: str, user: User) -> TeamInvitation:
    """Use the invitation for `user`: exactly once, even if two people open it at once.

    Someone already in the team keeps their role (an owner is never lowered to cashier).
    """
    row = invitation_for_token(session, token)
    now = utcnow()
    used = session.execute(
        update(TeamInvitation)
        .where(
            TeamInvitation.id == row.id,
            TeamInvitation.used_at.is_(None),
            TeamInvitation.revoked_at.is_(None),
        )
        .values(used_at=now, used_by=user.id)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This invitation has already been used.", kind="team-invitation-used")
    already = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.workspace_id == row.workspace_id
        )
    )
    if already is None:
        grant(session, user=user, workspace_id=row.workspace_id, role=row.role)
    session.refresh(row)
    return row


def revoke_invitation(
    session: Session, *, workspace_id: uuid.UUID, invitation_id: uuid.UUID
) -> TeamInvitation:
    row = session.get(TeamInvitation, invitation_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound("No such invitation.")
    if row.used_at is None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def invitation_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/join/{token}"


def mail_invitation(session: Session, row: TeamInvitation, *, link: str, team: str) -> None:
    """E-mail the link to the invited address (through the outbox), when one was given."""
    if not row.email:
        return
    from crosspromo.outbox import service as outbox

    outbox.enqueue(
        session,
        kind="email",
        key=f"team-invitation:{row.id}",
        payload={
            "to": row.email,
            "subject": f"Join {team} on crosspromo / Приглашение в команду {team}",
            "text": (
                f"You are invited to join {team} on crosspromo as {row.role.value}.\n"
                f"Open this link within {INVITATION_DAYS} days: {link}\n\n"
                f"Вас пригласили в команду {team} в crosspromo.\n"
                f"Откройте ссылку в течение {INVITATION_DAYS} дней: {link}\n"
            ),
        },
    )
