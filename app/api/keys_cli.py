"""``flask api-keys create OWNER_EMAIL [--name NAME]``: print a new owner API key (shown once)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

api_keys_cli = AppGroup("api-keys", help="Owner API keys.")


@api_keys_cli.command("create")
@click.argument("owner_email")
@click.option("--name", default="cli", show_default=True, help="A label to recognise the key by.")
def create_command(owner_email: str, name: str) -> None:
    """Create an API key for OWNER_EMAIL's business and print it."""
    from app.models import Role
    from app.services import api_keys, business_service

    user = business_service.find_user_by_email(owner_email)
    membership = user.membership if user else None
    if membership is None or membership.role != Role.OWNER:
        raise click.ClickException(f"No business owner with the e-mail {owner_email}.")
    _key, token = api_keys.create_key(membership.business, user, name)
    click.echo(token)
