"""The knowledge base being served, reloaded when its files change; a broken edit never replaces a good one."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import knowledge
from knowledge import KnowledgeBase, KnowledgeError, Problem

from .matching import Matcher, Thresholds

log = logging.getLogger(__name__)

#: Files must have been left alone this long before a reload reads them, in seconds.
SETTLE_SECONDS = 1.0


class KnowledgeSource:
    """Holds the current (KnowledgeBase, Matcher) pair for every request of one process."""

    def __init__(
        self,
        directory: str | Path,
        thresholds: Thresholds,
        reload_seconds: float = 0,
        settle_seconds: float = SETTLE_SECONDS,
    ):
        self.directory = Path(directory)
        self.thresholds = thresholds
        self.reload_seconds = reload_seconds
        self.settle_seconds = settle_seconds
        self.last_problems: list[Problem] = []
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()
        self._fingerprint: tuple = ()
        self._current: tuple[KnowledgeBase, Matcher] | None = None

    def current(self) -> tuple[KnowledgeBase, Matcher]:
        """The pair to serve, loaded on first use (so `faq lint` works on a broken base), refreshed after."""
        if self._current is None:
            with self._lock:
                if self._current is None:
                    self._fingerprint = self._files_fingerprint()
                    kb = knowledge.load(self.directory)
                    self._current = (kb, Matcher(kb, self.thresholds))
        else:
            self.refresh()
        return self._current

    def reload(self) -> list[Problem]:
        """Load the directory again; on problems keep serving the last good base and return them."""
        with self._lock:
            self._fingerprint = self._files_fingerprint()
            try:
                kb = knowledge.load(self.directory)
            except KnowledgeError as exc:
                self.last_problems = exc.problems
                log.error("knowledge_rejected: %s", "; ".join(str(p) for p in exc.problems[:20]))
                return exc.problems
            self._current = (kb, Matcher(kb, self.thresholds))
            self.last_problems = []
            log.info("knowledge_loaded: %d FAQs", len(kb.faqs))
            return []

    def refresh(self) -> None:
        """Reload if a file changed since the last look; looks at most every `reload_seconds`."""
        if self.reload_seconds <= 0:
            return
        now = time.monotonic()
        if now - self._checked_at < self.reload_seconds:
            return
        self._checked_at = now
        fingerprint = self._files_fingerprint()
        if fingerprint != self._fingerprint and not self._still_being_written(fingerprint):
            self.reload()

    def _files_fingerprint(self) -> tuple:
        """Name, mtime and size of each file the loader reads; editors' temporary files change nothing."""
        found = []
        for path in knowledge.source_files(self.directory):
            try:
                stat = path.stat()
            except OSError:
                found.append((str(path), None, None))
            else:
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def _still_being_written(self, fingerprint: tuple) -> bool:
        """A file changed in the last `settle_seconds` may be half-written (an editor, `git pull`): look later."""
        newest = max((mtime for _, mtime, _ in fingerprint if mtime is not None), default=0)
        return time.time() - newest / 1e9 < self.settle_seconds
