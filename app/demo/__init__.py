"""Demo data for `flask demo load`; split by service in the next commit."""

from app.demo.accounts import DEMO_PASSWORD, load_demo

__all__ = ["DEMO_PASSWORD", "load_demo"]
