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


class KnowledgeSource:
    """Holds the current (KnowledgeBase, Matcher) pair for every request of one process."""

    def __init__(self, directory: str | Path, thresholds: Thresholds, reload_seconds: float = 0):
        self.directory = Path(directory)
        self.thresholds = thresholds
        self.reload_seconds = reload_seconds
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
        if self._files_fingerprint() != self._fingerprint:
            self.reload()

    def _files_fingerprint(self) -> tuple:
        return tuple(
            sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in self.directory.rglob("*") if p.is_file())
        )
