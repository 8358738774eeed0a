"""Moved to a package; split in the next commit."""

from .fields import *  # noqa: F403
