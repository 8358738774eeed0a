"""`flask lucie demo`: LUCIE's demo letters alone."""

from __future__ import annotations

import click
from flask.cli import AppGroup

lucie = AppGroup("lucie", help="Courriers LUCIE.")


@lucie.command("demo")
def demo():
    """Load the LUCIE demo letters (after `flask demo load`; idempotent)."""
    from app.demo.lucie import load_lucie_demo

    for line in load_lucie_demo():
        click.echo(line)
