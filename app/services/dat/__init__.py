"""Moved to a package; split in the next commit."""

from .listings import *  # noqa: F403
