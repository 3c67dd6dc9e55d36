"""Log output: one line per record, journald friendly.

Under systemd (stderr connected to the journal, $JOURNAL_STREAM set) each line starts with its
syslog priority (`<3>` error ... `<7>` debug) and carries no timestamp: the journal adds both.
Elsewhere lines carry a timestamp and the level name. Events are logged as key=value pairs
(logfmt), so `journalctl -u edgeai | grep kind=fall_detected` finds them.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

PRIORITIES = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        priority = PRIORITIES.get(record.levelno, 6)
        text = super().format(record).replace("\n", " | ")
        return f"<{priority}>{record.name}: {text}"


def configure_logging(level: int, journald: bool | None = None) -> None:
    """Route every logger to stderr at `level`, in the journal's format when under systemd."""
    if journald is None:
        journald = bool(os.environ.get("JOURNAL_STREAM"))
    handler = logging.StreamHandler(sys.stderr)
    if journald:
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def logfmt(**fields: Any) -> str:
    """key=value pairs; values with spaces, quotes or '=' are quoted."""
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        text = str(value)
        if not text or any(c in text for c in ' "=\\\n'):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)
