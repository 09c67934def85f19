"""The knowledge base being served, retrained in the background when its files change.

Training a matcher takes seconds (a classifier and its calibration), so no request ever waits for one
after the first: a change is noticed, a background thread loads and trains, and the new pair replaces
the old in one assignment. A broken edit never replaces a good base.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path

import bot.knowledge as knowledge
from bot.knowledge import KnowledgeBase, KnowledgeError, Problem

from .matching import Matcher, Policy

log = logging.getLogger(__name__)

#: Files must have been left alone this long before a reload reads them, in seconds.
SETTLE_SECONDS = 1.0

#: Matchers trained in this process, by the content of the files and the policy: a second app on the
#: same files (a test, a CLI command inside the server's process) reuses the first one's training.
_TRAINED: dict[tuple[str, Policy], tuple[KnowledgeBase, Matcher]] = {}
_TRAINED_LIMIT = 4
_TRAINING_LOCK = threading.Lock()


def trained(directory: Path, policy: Policy) -> tuple[KnowledgeBase, Matcher]:
    """Load and train, or reuse what this process trained on identical files; raises KnowledgeError."""
    key = (content_hash(directory), policy)
    with _TRAINING_LOCK:
        if key not in _TRAINED:
            started = time.perf_counter()
            kb = knowledge.load(directory)
            _TRAINED[key] = (kb, Matcher(kb, policy))
            log.info("knowledge_trained: %d FAQs in %.1f s", len(kb.faqs), time.perf_counter() - started)
            while len(_TRAINED) > _TRAINED_LIMIT:
                del _TRAINED[next(iter(_TRAINED))]
        return _TRAINED[key]


def content_hash(directory: Path) -> str:
    """The names and bytes of the files the loader reads; editors' temporary files and folders change nothing."""
    digest = hashlib.sha256()
    for path in knowledge.source_files(directory):
        digest.update(str(path.relative_to(directory)).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:  # gone since it was listed: the load that follows says so
            digest.update(b"\0missing")
    return digest.hexdigest()


class KnowledgeSource:
    """Holds the current (KnowledgeBase, Matcher) pair for every request of one process."""

    def __init__(
        self,
        directory: str | Path,
        policy: Policy,
        reload_seconds: float = 0,
        settle_seconds: float = SETTLE_SECONDS,
    ):
        self.directory = Path(directory)
        self.policy = policy
        self.reload_seconds = reload_seconds
        self.settle_seconds = settle_seconds
        self.last_problems: list[Problem] = []
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()
        self._fingerprint: tuple = ()
        self._current: tuple[KnowledgeBase, Matcher] | None = None
        self._training: threading.Thread | None = None
        self._warming: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """A matcher is trained and serving (False while the first training runs)."""
        return self._current is not None

    def warm(self) -> None:
        """Start the first training now, in the background, so the first question does not wait for it
        (WeChat gives up after 5 seconds); a question that comes sooner waits for this training."""
        self._warming = threading.Thread(target=self._warm, name="knowledge-warm", daemon=True)
        self._warming.start()

    def wait_for_warm(self, timeout: float | None = None) -> bool:
        """Block until the training warm() started has ended, at most `timeout` seconds; True if it has."""
        return _finished(self._warming, timeout)

    def _warm(self) -> None:
        try:
            self.current()
        except KnowledgeError as exc:  # current() raises it again, with every problem, to whoever asks next
            self.last_problems = exc.problems
            log.error("knowledge_rejected: %s", "; ".join(str(p) for p in exc.problems[:20]))

    def current(self) -> tuple[KnowledgeBase, Matcher]:
        """The pair to serve, loaded on first use (so `faq lint` works on a broken base), refreshed after."""
        if self._current is None:
            with self._lock:
                if self._current is None:
                    self._fingerprint = self._files_fingerprint()
                    self._current = trained(self.directory, self.policy)
        else:
            self.refresh()
        return self._current

    def reload(self) -> list[Problem]:
        """Load and train now, in the caller's thread; on problems keep serving the last good base."""
        with self._lock:
            self._fingerprint = self._files_fingerprint()
        try:
            pair = trained(self.directory, self.policy)
        except KnowledgeError as exc:
            self.last_problems = exc.problems
            log.error("knowledge_rejected: %s", "; ".join(str(p) for p in exc.problems[:20]))
            return exc.problems
        self._current = pair
        self.last_problems = []
        log.info("knowledge_loaded: %d FAQs", len(pair[0].faqs))
        return []

    def refresh(self) -> None:
        """Start a background reload if a file changed since the last look (at most every `reload_seconds`)."""
        if self.reload_seconds <= 0:
            return
        now = time.monotonic()
        if now - self._checked_at < self.reload_seconds:
            return
        with self._lock:
            self._checked_at = now
            if self._training is not None and self._training.is_alive():
                return
            fingerprint = self._files_fingerprint()
            if fingerprint == self._fingerprint or self._still_being_written(fingerprint):
                return
            self._training = threading.Thread(target=self.reload, name="knowledge-reload", daemon=True)
            self._training.start()

    def look_now(self) -> None:
        """Another host announced new files: the next refresh looks at them, whatever `reload_seconds` says."""
        self._checked_at = float("-inf")

    def wait_for_reload(self, timeout: float | None = None) -> bool:
        """Block until a background reload in progress has finished (for the CLI and tests); True if it has."""
        return _finished(self._training, timeout)

    def _files_fingerprint(self) -> tuple:
        """Name, mtime and size of each file the loader reads; editors' temporary files change nothing."""
        found = [(str(self.directory.resolve()), None, None)]  # a publish swaps the folder `directory` links to
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


def _finished(thread: threading.Thread | None, timeout: float | None) -> bool:
    """Wait for `thread` (if there is one) at most `timeout` seconds; True when it is not running."""
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True
