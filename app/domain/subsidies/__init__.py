"""Moved to a package; split in the next commit."""

from .programmes import *  # noqa: F403
from .programmes import __all__, load_programme_file  # noqa: F401
