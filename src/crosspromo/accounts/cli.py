"""CLI: create users and API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from crosspromo.accounts import service
from crosspromo.accounts.models import Role, User
from crosspromo.businesses import service as businesses
from crosspromo.cli_support import fail, session_scope
from crosspromo.errors import DomainError

user_app = typer.Typer(no_args_is_help=True, help="Users.")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys.")
console = Console()


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Sign-in e-mail.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    business: Annotated[
        list[str], typer.Option(help="Slug of a business to own (repeatable).")
    ] = [],  # noqa: B006
    new_business: Annotated[str, typer.Option(help="Create a business with this name.")] = "",
    category: Annotated[
        str, typer.Option(help="Category code for --new-business.")
    ] = "shop=bakery",
    role: Annotated[Role, typer.Option(help="Role in the businesses' workspaces.")] = Role.owner,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone of --new-business, e.g. Europe/Moscow.")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="ISO country code of --new-business, e.g. RU.")
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO currency of --new-business, e.g. RUB.")
    ] = None,
) -> None:
    """Create a user (the first owner, or staff) and give them businesses."""
    try:
        with session_scope() as db:
            user: User = service.create_user(db, email=email, password=password, name=name)
            for slug in business:
                found = businesses.get_by_slug(db, slug)
                if found is None:
                    fail(f"No business with id {slug!r}.")
                service.grant(db, user=user, workspace_id=found.workspace_id, role=role)
            if new_business:
                workspace = service.create_workspace(db, name=new_business, owner=user)
                businesses.create(
                    db,
                    workspace_id=workspace.id,
                    data=businesses.parse_create(
                        {
                            "name": new_business,
                            "category": category,
                            **{
                                k: v
                                for k, v in (
                                    ("timezone", timezone),
                                    ("country", country),
                                    ("currency", currency),
                                )
                                if v
                            },
                        }
                    ),
                )
    except DomainError as exc:
        fail(exc.detail)
    except ValueError as exc:
        fail(str(exc))
    console.print(f"[green]Created[/green] {email}")


@apikey_app.command("create")
def apikey_create(
    business: Annotated[str, typer.Option(help="Business id (slug).")],
    role: Annotated[Role, typer.Option(help="owner, manager or cashier.")] = Role.cashier,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
) -> None:
    """Create an API key; it is printed once and stored hashed."""
    with session_scope() as db:
        found = businesses.get_by_slug(db, business)
        if found is None:
            fail(f"No business with id {business!r}.")
        token, _ = service.create_api_key(db, business_id=found.id, role=role, name=name)
    console.print("[bold]Store this key now; it will not be shown again:[/bold]")
    print(token)
