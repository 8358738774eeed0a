"""Development SMTP sink (make run): a real SMTP server on loopback that writes each message it
receives as an .eml file under ``instance/mails/``, listed by the /dev/courriels page."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller


class EmlWriter:
    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        for rcpt in envelope.rcpt_tos:
            safe = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in rcpt)
            (self.directory / f"{stamp}-{safe}.eml").write_bytes(envelope.original_content)
        return "250 Message accepted for delivery"


def serve(directory: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
    controller = Controller(EmlWriter(directory), hostname=host, port=port)
    controller.start()
    serve_forever(controller)


def serve_forever(controller: Controller) -> None:
    """Keep a started aiosmtpd controller serving until interrupted, then stop it."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
