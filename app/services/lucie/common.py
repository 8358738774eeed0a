"""What LUCIE's use cases share: the logger and the outbox's names for a letter's alerts."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

ALERT_KIND = "lucie_alert"
RELATED_TYPE = "letter"
