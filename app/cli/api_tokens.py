"""`flask api-token create|revoke|list`: the caisses' tokens for the LUCIE API."""

from __future__ import annotations

import click
from flask.cli import AppGroup

tokens = AppGroup("api-token", help="Jetons d'accès des caisses à l'API LUCIE.")


@tokens.command("create")
@click.option("--caisse", "caisse_name", required=True, help="Nom exact de la caisse.")
@click.option("--label", default="", help="Libellé libre (système, environnement…).")
def create(caisse_name: str, label: str):
    """Create a token for a caisse and print it once."""
    from app.services.api_tokens import TokenError, create_token

    try:
        row, token = create_token(caisse_name, label)
    except TokenError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Jeton n° {row.id} créé pour {caisse_name}. Copiez-le maintenant : il ne sera plus affiché.")
    click.echo(token)


@tokens.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int):
    """Revoke a token (it stops working at once)."""
    from app.services.api_tokens import TokenError, revoke_token

    try:
        row = revoke_token(token_id)
    except TokenError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Jeton n° {row.id} de {row.caisse.name} révoqué.")


@tokens.command("list")
@click.option("--caisse", "caisse_name", default=None)
def list_(caisse_name: str | None):
    """List the tokens (never their value)."""
    from app.services.api_tokens import list_tokens

    for row in list_tokens(caisse_name):
        state = f"révoqué le {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "actif"
        click.echo(f"{row.id}\t{row.caisse.name}\t{row.label}\tcréé le {row.created_at:%Y-%m-%d}\t{state}")
