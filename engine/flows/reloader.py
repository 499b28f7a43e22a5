"""Hot reload: pick up edited flows and templates without a restart, never a broken set.

`check()` is cheap when nothing changed (one `stat` per file). When a file's mtime or size
changes it hashes the contents; if those changed too it loads a new `FlowSet` (carrying every
older flow version forward, so conversations in flight keep theirs) and swaps `current`
only if the new set validates. Otherwise it logs every problem on the "flowbot.flows"
logger, keeps serving the last good set, and stays quiet until the files change again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from engine.actions import ActionRegistry
from engine.flows.flowset import FlowSet, FlowSetInvalid

log = logging.getLogger("flowbot.flows")

_Signature = tuple[tuple[str, int, int], ...]


class FlowSetReloader:
    """Holds the last good `FlowSet` in `current`; safe to share between threads."""

    def __init__(self, flows_dir: str | Path, templates_dir: str | Path, actions: ActionRegistry) -> None:
        self.flows_dir = Path(flows_dir)
        self.templates_dir = Path(templates_dir)
        self.actions = actions
        self._lock = threading.Lock()
        self._signature = self._stat()
        self._digest = self._hash()
        self._rejected_digest: str | None = None
        self.current: FlowSet = FlowSet.load(self.flows_dir, self.templates_dir, actions)

    def check(self) -> bool:
        """Reload if files changed; True when a new set was swapped in."""
        with self._lock:
            signature = self._stat()
            if signature == self._signature:
                return False
            self._signature = signature
            digest = self._hash()
            if digest in (self._digest, self._rejected_digest):
                return False
            try:
                flowset = FlowSet.load(
                    self.flows_dir, self.templates_dir, self.actions, previous=self.current
                )
            except FlowSetInvalid as invalid:
                self._rejected_digest = digest
                log.error(
                    "flows not reloaded: %d problem(s); still serving the previous flows",
                    len(invalid.problems),
                )
                for problem in invalid.problems:
                    log.error("%s", _format(problem))
                return False
            except Exception:
                self._rejected_digest = digest
                log.exception("flows not reloaded; still serving the previous flows")
                return False
            self._digest = digest
            self._rejected_digest = None
            self.current = flowset
            log.info("flows reloaded: %s", ", ".join(sorted(flowset.flows)) or "none")
            return True

    def _files(self) -> list[Path]:
        files: list[Path] = []
        for root in (self.flows_dir, self.templates_dir):
            if root.is_dir():
                files.extend(path for path in root.rglob("*") if path.is_file())
        return sorted(files)

    def _stat(self) -> _Signature:
        signature = []
        for path in self._files():
            try:
                info = path.stat()
            except FileNotFoundError:  # deleted between listing and stat
                continue
            signature.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(signature)

    def _hash(self) -> str:
        digest = hashlib.sha256()
        for path in self._files():
            digest.update(str(path).encode("utf-8") + b"\0")
            try:
                digest.update(path.read_bytes())
            except FileNotFoundError:
                continue
            digest.update(b"\0")
        return digest.hexdigest()


def _format(problem: object) -> str:
    formatter = getattr(problem, "format", None)
    return formatter() if callable(formatter) else str(problem)
