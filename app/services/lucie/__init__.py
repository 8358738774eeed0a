"""Moved to a package; split in the next commit."""

from .deposit import *  # noqa: F403
