"""sha256 checks before a model loads, remembered by file identity so start-up stays fast.

A file is hashed once; afterwards it is re-hashed only when its identity changes: size, inode,
mtime or ctime (ctime cannot be set back by a user, so a rewrite that restores the mtime is
still caught). The record lives beside the models (`.verified.json`); where it cannot be
written (a read-only store) it is kept for this process only, with one warning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from edgeai.models.catalog import ModelFile
from edgeai.store.files import verify_file

log = logging.getLogger(__name__)

RECORD = ".verified.json"

Identity = list[int | str]


def _identity(path: Path, expected: ModelFile) -> Identity:
    st = path.stat()
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, expected.sha256]


class VerifiedFiles:
    def __init__(self, root: Path) -> None:
        self.path = root / RECORD
        self._known: dict[str, Identity] | None = None
        self._unwritable = False

    def check(self, path: Path, expected: ModelFile) -> None:
        """IntegrityError unless `path` has the expected size and sha256 (hashed only when the
        file is not the one verified before)."""
        known = self._load()
        key = str(path.resolve())
        if path.is_file() and known.get(key) == _identity(path, expected):
            return
        verify_file(path, expected)
        known[key] = _identity(path, expected)
        self._save(known)

    def _load(self) -> dict[str, Identity]:
        if self._known is None:
            try:
                loaded = json.loads(self.path.read_text())
            except FileNotFoundError:
                loaded = {}
            except (OSError, ValueError) as e:
                log.warning("%s unreadable (%s): every model file is hashed again", self.path, e)
                loaded = {}
            self._known = loaded if isinstance(loaded, dict) else {}
        return self._known

    def _save(self, known: dict[str, Identity]) -> None:
        """Written whole and renamed into place: another process may read it meanwhile."""
        staged = self.path.with_name(f".verified-{os.getpid()}.json")
        try:
            staged.write_text(json.dumps(known))
            staged.replace(self.path)
        except OSError as e:
            with contextlib.suppress(OSError):
                staged.unlink(missing_ok=True)
            if not self._unwritable:
                log.warning("cannot record verified models in %s (%s)", self.path, e)
            self._unwritable = True
