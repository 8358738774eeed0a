"""Flask commands; split by service in the next commit."""

from app.cli.outbox import register_cli

__all__ = ["register_cli"]
