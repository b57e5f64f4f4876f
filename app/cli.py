"""``flask`` commands: ``demo``, ``bookings expire-pending``, ``api-keys create``."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

bookings_cli = AppGroup("bookings", help="Booking maintenance.")


@bookings_cli.command("expire-pending")
def expire_pending_command() -> None:
    """Mark pending requests past their expires_at as expired."""
    from app.services import booking_service

    count = booking_service.expire_pending()
    click.echo(f"Expired {count} pending request(s).")


def register(app: Flask) -> None:
    app.cli.add_command(bookings_cli)
    try:
        from app.demo import demo_command

        app.cli.add_command(demo_command)
    except ImportError:  # pragma: no cover - added by the demo module
        pass
    try:
        from app.api.keys_cli import api_keys_cli

        app.cli.add_command(api_keys_cli)
    except ImportError:  # pragma: no cover
        pass
