"""``flask`` commands: ``demo``, ``bookings expire-pending``, ``api-keys create``, ``credentials``."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

bookings_cli = AppGroup("bookings", help="Booking maintenance.")


@bookings_cli.command("expire-pending")
def expire_pending_command() -> None:
    """Mark pending requests past their expires_at as expired."""
    from app.services import booking_service

    count = booking_service.expire_pending()
    click.echo(f"Expired {count} pending request(s).")


credentials_cli = AppGroup("credentials", help="The credentials vault's encryption keys.")


@credentials_cli.command("new-key")
def new_key_command() -> None:
    """Print a new encryption key, to put first in FLOWKEY_ENCRYPTION_KEYS."""
    from app.services import credentials

    click.echo(credentials.generate_key())


@credentials_cli.command("rotate-key")
@click.option("--no-new-key", is_flag=True, help="With the instance key file: only re-encrypt, with the newest key already in it.")
def rotate_key_command(no_new_key: bool) -> None:
    """Re-encrypt every stored secret with a new key.

    With the instance key file (FLOWKEY_ENCRYPTION_KEYS unset): generate a key, put it first in
    the file, re-encrypt. With FLOWKEY_ENCRYPTION_KEYS set: re-encrypt with its first key (put
    the output of `flask credentials new-key` first in it, and restart, before running this).
    One transaction per connection; safe to run again (``--no-new-key`` after a restart).
    """
    from app.services import credentials

    path = current_app.config.get("FLOWKEY_ENCRYPTION_KEYS_FILE")
    if path and not no_new_key:
        keys = credentials.add_key_to_file(path)
        click.echo(f"Added a new key first in {path} ({len(keys)} keys in it now).")
    elif not path:
        click.echo(
            "FLOWKEY_ENCRYPTION_KEYS is set in the environment, which this command cannot change: "
            "re-encrypting every secret with its first (newest) key. To rotate, put the output of "
            "`flask credentials new-key` first in it, keep the old keys after it, restart, then run this."
        )
    result = credentials.reencrypt_all()
    click.echo(f"Re-encrypted {result.rewritten} secret(s) with the newest key; {result.current} already used it.")
    for error in result.unreadable:
        click.echo(f"Not rewritten: {error.message}", err=True)
    if result.unreadable:
        raise click.exceptions.Exit(1)
    if path:
        click.echo(
            "Restart the web and worker processes so they encrypt with the newest key too, then run "
            "`flask credentials rotate-key --no-new-key` to catch what they wrote meanwhile; after that "
            f"only the first key in {path} is needed."
        )
    else:
        click.echo("Once every process runs with the new variable and this has run, only its first key is needed.")


def register(app: Flask) -> None:
    app.cli.add_command(bookings_cli)
    app.cli.add_command(credentials_cli)
    from app.api.keys_cli import api_keys_cli
    from app.demo import demo_command

    app.cli.add_command(demo_command)
    app.cli.add_command(api_keys_cli)
