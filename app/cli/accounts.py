"""`flask operator grant|revoke`: the platform's operators (they see the mail outbox)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

operator = AppGroup("operator", help="Opérateurs de la plateforme (file d'envoi des e-mails).")


@operator.command("grant")
@click.argument("email")
def grant(email: str):
    """Make a user an operator of the mail outbox."""
    from app.services.outbox import set_operator

    if not set_operator(email, True):
        raise click.ClickException(f"Aucun utilisateur {email}.")
    click.echo(f"{email} est opérateur.")


@operator.command("revoke")
@click.argument("email")
def revoke_operator(email: str):
    """Take the operator role back."""
    from app.services.outbox import set_operator

    if not set_operator(email, False):
        raise click.ClickException(f"Aucun utilisateur {email}.")
    click.echo(f"{email} n'est plus opérateur.")
