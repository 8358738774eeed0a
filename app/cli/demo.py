"""`flask demo load`: the demo data of every service (app/demo/)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

demo = AppGroup("demo", help="Données de démonstration.")


@demo.command("load")
def demo_load():
    """Load the demo company, establishments and accounts (idempotent)."""
    from app.demo import load_demo

    for line in load_demo():
        click.echo(line)
